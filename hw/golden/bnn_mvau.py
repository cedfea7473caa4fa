"""Golden model of bnn_mvau (and of FINN's MVAU node in the same modes), FINN conventions.

x: (N, MW) input vectors; W: (MW, MH) weights in {-1,+1} (or bits {0,1}, 1 = +1), ONNX/FINN
orientation y = x @ W; T: (MH, nT) integer thresholds or None (noActivation).

mode "xnor": x in {-1,+1} or bits. FINN's xnorpopcountmatmul returns the number P of agreeing
  positions. With dot = x_bip . w_bip = P - N and MW = P + N:  P = (dot + MW) / 2, in 0..MW.
mode "int": x integers (e.g. 8-bit pixels), acc = x . w_bip = sum_i (w_i ? +x_i : -x_i).
Activation (FINN MultiThreshold): y = out_bias + #{t : acc >= T[o, t]}; T=None returns acc.
"""

import numpy as np


def to_bipolar(a):
    """Accept {-1,+1} or {0,1} (1 = +1) and return {-1,+1} int64."""
    a = np.asarray(a, dtype=np.int64)
    return np.where(a > 0, 1, -1) if a.min(initial=1) >= 0 else a


def mvau_acc(x, W, mode: str = "xnor") -> np.ndarray:
    """Accumulator of every output channel, shape (N, MH), int64."""
    w = to_bipolar(W)
    if mode == "xnor":
        dot = to_bipolar(x) @ w
        return (dot + w.shape[0]) // 2  # P = (dot + MW) / 2, always an integer
    if mode == "int":
        return np.asarray(x, dtype=np.int64) @ w
    raise ValueError(f"unknown mode {mode!r}")


def threshold(acc, T, out_bias: int = 0) -> np.ndarray:
    """FINN MultiThreshold on (N, C) with per-channel thresholds T (C, nT): count of acc >= T."""
    acc = np.asarray(acc, dtype=np.int64)
    return out_bias + (acc[:, :, None] >= np.asarray(T)[None, :, :]).sum(axis=-1)


def mvau(x, W, T=None, mode: str = "xnor", out_bias: int = 0) -> np.ndarray:
    """Full unit: accumulate, then threshold (or return the accumulator if T is None)."""
    acc = mvau_acc(x, W, mode)
    return acc if T is None else threshold(acc, T, out_bias)


def acc_range(MW: int, mode: str, input_bits: int = 1, input_signed: bool = False) -> tuple[int, int]:
    """Reachable accumulator interval [lo, hi]."""
    if mode == "xnor":
        return 0, MW
    xmax = 2 ** (input_bits - 1) if input_signed else 2**input_bits - 1
    return -MW * xmax, MW * xmax


def acc_bits(MW: int, mode: str, input_bits: int = 1, input_signed: bool = False) -> int:
    """Signed two's-complement width that holds acc_range (the RTL default AccBits is >= this)."""
    lo, hi = acc_range(MW, mode, input_bits, input_signed)
    return max(int(hi).bit_length(), int(-lo - 1).bit_length() if lo < 0 else 0) + 1


def rtl_acc_bits(MW: int, mode: str, input_bits: int = 1) -> int:
    """bnn_mvau.sv's default AccBits: the popcount 0..MW (xnor) or input_bits + the bits of MW (int),
    plus a sign bit. At least ``acc_bits`` (FINN's minimized accumulator type may be one bit short)."""
    return int(MW).bit_length() + 1 + (0 if mode == "xnor" else input_bits)
