"""Golden model of bnn_labelselect and of FINN's LabelSelect (ONNX TopK, largest, sorted).

FINN executes LabelSelect as onnxruntime TopK: indices of the K largest values in descending
order; equal values keep ascending index order (stable sort on -x).
"""

import numpy as np


def label_select(acc, k: int) -> np.ndarray:
    """acc: (N, Labels) integers -> (N, k) int64 indices."""
    acc = np.asarray(acc, dtype=np.int64)
    return np.argsort(-acc, axis=-1, kind="stable")[:, :k]
