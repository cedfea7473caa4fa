"""Golden models of the Bi-Real-Net residual stream blocks: stream_dup, stream_add, stream_requant.

All work on plain integer arrays (element order is the stream order; packing is hw.golden.stream's).

- duplicate: both outputs equal the input (FINN DuplicateStreams, 2 outputs).
- add_clamp: y = clamp(a + b + offset, lo, hi) (FINN AddStreams when [lo, hi] is the full range).
- requant_clamp: y = clamp(x + offset, lo, hi).
- requant_staircase: FINN MultiThreshold with the unit staircase t_i = t0 + i, i < n, and out_bias b:
  y = b + #{i : x >= t_i}. It equals requant_clamp(x, *staircase_to_clamp(t0, n, b)) since
  x < t0 gives b, x = t0 + k (0 <= k < n) gives b + k + 1, x >= t0 + n - 1 gives b + n.
"""

import numpy as np


def duplicate(x):
    """stream_dup: the same beats on both outputs."""
    x = np.asarray(x)
    return x.copy(), x.copy()


def add_clamp(a, b, offset: int, lo: int, hi: int) -> np.ndarray:
    """stream_add: exact (int64) sum, then saturate to [lo, hi]."""
    s = np.asarray(a, dtype=np.int64) + np.asarray(b, dtype=np.int64) + int(offset)
    return np.clip(s, lo, hi)


def requant_clamp(x, offset: int, lo: int, hi: int) -> np.ndarray:
    """stream_requant: y = clamp(x + offset, lo, hi)."""
    return np.clip(np.asarray(x, dtype=np.int64) + int(offset), lo, hi)


def staircase_thresholds(t0: int, n: int) -> np.ndarray:
    """The unit staircase t_i = t0 + i, i = 0..n-1."""
    return int(t0) + np.arange(n, dtype=np.int64)


def requant_staircase(x, t0: int, n: int, out_bias: int) -> np.ndarray:
    """MultiThreshold semantics, counted literally: out_bias + #{i : x >= t_i}."""
    x = np.asarray(x, dtype=np.int64)
    t = staircase_thresholds(t0, n)
    return int(out_bias) + (x[..., None] >= t).sum(axis=-1)


def staircase_to_clamp(t0: int, n: int, out_bias: int) -> tuple[int, int, int]:
    """(Offset, OutMin, OutMax) of stream_requant equal to the staircase (t0, n, out_bias)."""
    return out_bias - t0 + 1, out_bias, out_bias + n


def int_range(bits: int, signed: bool) -> tuple[int, int]:
    """Value range of a bits-wide two's-complement (signed) or unsigned integer."""
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
