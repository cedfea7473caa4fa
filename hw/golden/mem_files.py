"""Writers for bnn_mvau's $readmemh files (format documented in hw/rtl/bnn_mvau.sv).

Weight file: WMEM = (MH/PE) * (MW/SIMD) words of PE*SIMD bits, hex, one word per line;
  word nf*SF + sf, bit p*SIMD + s = weight bit (1 = +1) of input sf*SIMD + s, output nf*PE + p.
  This equals FINN's MVAU "decoupled_verilog_dat" file for binary weights.
Threshold file: NF words of PE*nT*bits bits; word nf, field p*nT + t = T[nf*PE + p, t]
  (two's complement). Thresholds are clipped to [acc_lo, acc_hi + 1], which keeps every
  comparison `acc >= T` unchanged for reachable accumulators and lets them fit in `bits`.
Run-time weight stream (``weight_stream``, bnn_mvau / int_mvau with RuntimeWeights): the weight words
as 32-bit beats, each word's slices least significant first.
"""

from pathlib import Path

import numpy as np

from hw.golden.stream import pack_beats


def write_words(words, width: int, path) -> None:
    digits = max(1, (width + 3) // 4)
    Path(path).write_text("".join(f"{w:0{digits}x}\n" for w in words))


def weight_words(W, PE: int, SIMD: int) -> list[int]:
    """W: (MW, MH) in {-1,+1} or bits -> list of WMEM integers of PE*SIMD bits."""
    bits = (np.asarray(W) > 0).astype(np.int64)
    MW, MH = bits.shape
    if MW % SIMD or MH % PE:
        raise ValueError(f"SIMD={SIMD} must divide MW={MW} and PE={PE} must divide MH={MH}")
    # (MW, MH) -> [nf, sf, p, s] with input i = sf*SIMD + s and output o = nf*PE + p
    t = bits.reshape(MW // SIMD, SIMD, MH // PE, PE).transpose(2, 0, 3, 1)
    return pack_beats(t, 1, PE * SIMD)


def write_weight_mem(W, PE: int, SIMD: int, path) -> None:
    write_words(weight_words(W, PE, SIMD), PE * SIMD, path)


def threshold_words(T, PE: int, bits: int, acc_lo: int | None = None, acc_hi: int | None = None):
    """T: (MH, nT) integers -> list of NF integers of PE*nT*bits bits."""
    T = np.asarray(T)
    if not np.array_equal(T, np.round(T)):
        raise ValueError("thresholds must be integers (run FINN's RoundAndClipThresholds first)")
    T = T.astype(np.int64)
    MH, nT = T.shape
    if MH % PE:
        raise ValueError(f"PE={PE} must divide MH={MH}")
    lo = acc_lo if acc_lo is not None else -(2 ** (bits - 1))
    hi = acc_hi + 1 if acc_hi is not None else 2 ** (bits - 1) - 1
    T = np.clip(T, lo, hi)
    if T.min() < -(2 ** (bits - 1)) or T.max() > 2 ** (bits - 1) - 1:
        raise ValueError(f"thresholds do not fit in {bits} signed bits")
    # (MH, nT) -> [nf, p, t]; one word per neuron fold
    return pack_beats(T.reshape(MH // PE, PE, nT), bits, PE * nT)


def write_threshold_mem(T, PE: int, bits: int, path, acc_lo=None, acc_hi=None) -> None:
    words = threshold_words(T, PE, bits, acc_lo, acc_hi)
    write_words(words, PE * np.asarray(T).shape[1] * bits, path)


def weight_stream(words, width: int) -> list[int]:
    """Words of ``width`` bits -> the 32-bit beats that load them at run time (mvau_wload): word by word,
    each word's ceil(width / 32) slices least significant first."""
    slices = (width + 31) // 32
    return [(int(w) >> (32 * s)) & 0xFFFFFFFF for w in words for s in range(slices)]


def read_mem_words(path) -> list[int]:
    """The words of a $readmemh file written here (hex, one word per line)."""
    return [int(line, 16) for line in Path(path).read_text().split()]


def runtime_weight_stream(rtl_dir, entries) -> np.ndarray:
    """The 32-bit beats a generated top's s_axis_wgt takes after reset: the weight words of every MVAU of
    ``entries`` (top.json ``runtime_weights``, chain order; their files in ``rtl_dir``) as uint32."""
    beats = []
    for e in entries:
        words = read_mem_words(Path(rtl_dir) / e["file"])
        if len(words) != e["words"]:
            raise ValueError(f"{e['file']}: {len(words)} words, the MVAU has {e['words']}")
        beats += weight_stream(words, e["width"])
    return np.asarray(beats, dtype=np.uint32)
