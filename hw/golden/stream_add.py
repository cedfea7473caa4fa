"""Golden model of stream_add (the join of a Bi-Real-Net residual block).

y = clamp(a + b + offset, lo, hi): FINN's AddStreams/ElementwiseAdd when [lo, hi] is the full range
of a + b, or the add fused with the staircase re-quantization behind it (stream_requant.py).
"""

import numpy as np


def add_clamp(a, b, offset: int, lo: int, hi: int) -> np.ndarray:
    """stream_add: exact (int64) sum, then saturate to [lo, hi]."""
    s = np.asarray(a, dtype=np.int64) + np.asarray(b, dtype=np.int64) + int(offset)
    return np.clip(s, lo, hi)
