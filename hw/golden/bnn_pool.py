"""Golden model of bnn_pool: max / min / sum pooling of any kernel, stride and padding on NHWC maps.

Window of output pixel (oy, ox): input rows ``oy*SH - PadT + [0, KH)`` and columns
``ox*SW - PadL + [0, KW)``; only the positions inside the image take part (a pad is no value: the
max ignores it as PyTorch's -inf padding does, the sum adds nothing as a zero pad does). Per channel
the reduction is the max, or the min for the channels in ``min_channels`` (a max pool moved past a
decreasing per-channel function, flow/compiler/transforms/pool_order.py), or the sum. An output whose
window holds no image position gets ``empty`` (never produced by ONNX/PyTorch pools).

Values are the semantic ones (a bipolar map is -1/+1, not its stream bits): the RTL test encodes them.
"""

from __future__ import annotations

import math

import numpy as np

MODES = ("max", "sum")


def pool_out_dim(size: int, kernel: int, stride: int, pad_begin: int, pad_end: int, ceil_mode: bool = False) -> int:
    """Output size of ONNX / PyTorch pooling (``ceil_mode``: the last window may hang over the end, but
    must start inside the image or the leading pad, as PyTorch requires; so in ceil mode a kernel larger
    than the padded input still makes one window when it starts there)."""
    span = size + pad_begin + pad_end - kernel
    out = (math.ceil(span / stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad_begin:
        out -= 1
    if out < 1:
        raise ValueError(f"kernel {kernel} is larger than the padded input {size + pad_begin + pad_end}")
    return out


def window_bounds(out: int, kernel: int, stride: int, pad_begin: int, size: int) -> list[tuple[int, int]]:
    """[begin, end) of each output's window clipped to the image, along one axis."""
    return [(max(0, o * stride - pad_begin), min(size, o * stride - pad_begin + kernel)) for o in range(out)]


def pool_nhwc(
    x,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    pad_begin: tuple[int, int],
    out_dims: tuple[int, int],
    mode: str = "max",
    min_channels=None,
    empty: float = 0,
) -> np.ndarray:
    """x: (N, H, W, C) values -> (N, OH, OW, C) (see the module docstring)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    x = np.asarray(x)
    n, h, w, c = x.shape
    rows = window_bounds(out_dims[0], kernel[0], stride[0], pad_begin[0], h)
    cols = window_bounds(out_dims[1], kernel[1], stride[1], pad_begin[1], w)
    flip = np.zeros(c, bool) if min_channels is None else np.asarray(min_channels, bool).reshape(c)
    out = np.full((n, out_dims[0], out_dims[1], c), empty, dtype=np.result_type(x.dtype, np.int64))
    for oy, (r0, r1) in enumerate(rows):
        for ox, (c0, c1) in enumerate(cols):
            if r0 >= r1 or c0 >= c1:
                continue
            window = x[:, r0:r1, c0:c1, :].reshape(n, -1, c)
            if mode == "sum":
                out[:, oy, ox] = window.sum(axis=1)
            else:
                out[:, oy, ox] = np.where(flip, window.min(axis=1), window.max(axis=1))
    return out


def sum_range(lo: int, hi: int, kernel: tuple[int, int]) -> tuple[int, int]:
    """Range of a sum pool's output for inputs in [lo, hi] (windows of up to KH*KW positions; a window
    cut by the border sums fewer, which stays inside because 0 is between lo*n and hi*n)."""
    n = kernel[0] * kernel[1]
    return min(0, lo * n), max(0, hi * n)
