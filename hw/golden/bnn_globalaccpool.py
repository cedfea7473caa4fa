"""Golden model of bnn_globalaccpool (FINN GlobalAccPool): per image and channel, the sum over all
pixels. FINN's output type holds pixels*min(x) for signed input (an INT), pixels*max(x) for unsigned
input (a UINT); `globalacc_bits` returns that width.
"""

import numpy as np


def global_acc_pool(x) -> np.ndarray:
    """x: (N, Pixels, C) integers (NHWC with H*W flattened) -> (N, C) exact sums (int64)."""
    return np.asarray(x, dtype=np.int64).sum(axis=1)


def globalacc_bits(pixels: int, in_bits: int, signed: bool) -> int:
    """Bits of FINN's output type (DataType.get_smallest_possible of the extreme sum)."""
    if signed:
        extreme = pixels * (1 << (in_bits - 1))  # |pixels * min|, two's complement needs log2 + 1
        return max(1, (extreme - 1).bit_length() + 1)
    return max(1, (pixels * ((1 << in_bits) - 1)).bit_length())
