"""Golden model of int_mvau (integer weights, no activation) and the writer of its weight file.

x: (N, MW) integers; W: (MW, MH) signed integers, ONNX/FINN orientation y = x @ W.
acc[o] = sum_i W[i, o] * x[i]; int_mvau outputs acc as a signed AccBits integer (FINN noActivation).
"""

from pathlib import Path

import numpy as np

from hw.golden.stream import pack_beats


def int_mvau(x, W) -> np.ndarray:
    """Accumulators, shape (N, MH), int64."""
    return np.asarray(x, dtype=np.int64) @ np.asarray(W, dtype=np.int64)


def rtl_acc_bits(MW: int, weight_bits: int, input_bits: int, input_signed: bool) -> int:
    """int_mvau.sv's default AccBits: the product of a signed weight and the input as a signed operand
    (one extra bit when unsigned), plus ceil(log2(MW)) bits for the sum of MW products."""
    prod = weight_bits + input_bits + (0 if input_signed else 1)
    return prod + max(0, (MW - 1).bit_length())


def acc_range(W, input_bits: int, input_signed: bool) -> tuple[int, int]:
    """Reachable accumulator interval of every output channel together, for these weights."""
    W = np.asarray(W, dtype=np.int64)
    lo_x, hi_x = (-(1 << (input_bits - 1)), (1 << (input_bits - 1)) - 1) if input_signed else (0, (1 << input_bits) - 1)
    lo = np.minimum(W * lo_x, W * hi_x).sum(axis=0)
    hi = np.maximum(W * lo_x, W * hi_x).sum(axis=0)
    return int(lo.min()), int(hi.max())


def weight_words(W, PE: int, SIMD: int, bits: int) -> list[int]:
    """W: (MW, MH) signed integers -> WMEM words of PE*SIMD*bits bits (format in int_mvau.sv)."""
    W = np.asarray(W, dtype=np.int64)
    MW, MH = W.shape
    if MW % SIMD or MH % PE:
        raise ValueError(f"SIMD={SIMD} must divide MW={MW} and PE={PE} must divide MH={MH}")
    if W.min() < -(1 << (bits - 1)) or W.max() >= 1 << (bits - 1):
        raise ValueError(f"weights do not fit in {bits} signed bits")
    # (MW, MH) -> [nf, sf, p, s] with input i = sf*SIMD + s and output o = nf*PE + p
    t = W.reshape(MW // SIMD, SIMD, MH // PE, PE).transpose(2, 0, 3, 1)
    return pack_beats(t, bits, PE * SIMD)


def write_weight_mem(W, PE: int, SIMD: int, bits: int, path) -> None:
    digits = max(1, (PE * SIMD * bits + 3) // 4)
    Path(path).write_text("".join(f"{w:0{digits}x}\n" for w in weight_words(W, PE, SIMD, bits)))
