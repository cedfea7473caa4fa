"""Golden model of bnn_maxpool: non-overlapping K x K max pool (stride K) on NHWC feature maps.

Bipolar maps stored as bits (+1 -> 1): max over {-1,+1} is +1 iff any element is +1, i.e. the
OR of the bits, which is also the unsigned max of {0,1}. So one integer max covers all cases.
"""

import numpy as np


def maxpool_nhwc(x, k: int) -> np.ndarray:
    """x: (N, H, W, C) integers, H and W divisible by k -> (N, H/k, W/k, C)."""
    x = np.asarray(x)
    n, h, w, c = x.shape
    if h % k or w % k:
        raise ValueError(f"kernel {k} must divide the image {h}x{w}")
    # split H -> (H/k, k) and W -> (W/k, k), then reduce over both window axes
    return x.reshape(n, h // k, k, w // k, k, c).max(axis=(2, 4))
