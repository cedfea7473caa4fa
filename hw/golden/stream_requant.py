"""Golden model of stream_requant: the re-quantization of a residual sum, a clamp.

- requant_clamp: y = clamp(x + offset, lo, hi).
- requant_staircase: FINN MultiThreshold with the unit staircase t_i = t0 + i, i < n, and out_bias b:
  y = b + #{i : x >= t_i}. It equals requant_clamp(x, *staircase_to_clamp(t0, n, b)) since
  x < t0 gives b, x = t0 + k (0 <= k < n) gives b + k + 1, x >= t0 + n - 1 gives b + n.
"""

import numpy as np


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
