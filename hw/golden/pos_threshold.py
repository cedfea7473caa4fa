"""Golden model of pos_threshold: thresholds (or an offset) indexed by the border class of the output
position, for the zero-padding correction of binary convolutions (flow/compiler/transforms/bipolar_pad.py).

Border classes: along each axis the first ``top`` positions are one class each, the last ``bottom``
positions one class each, and the positions between share one class (``top`` + 1 + ``bottom`` classes;
``top + bottom < size``). A position's class is (row class) * (column classes) + (column class).
``border_classes`` finds the smallest such split of a (H, W, C) constant: the longest run of equal rows
(columns) is the interior, every row (column) outside it its own class.

Per position (y, x) and channel c with class k:
- thresholds mode: ``out = bias + #{n : acc >= T[k, c, n]}``;
- offset mode:     ``out = scale * acc + O[k, c]``.
"""

from __future__ import annotations

import numpy as np

from hw.golden.mem_files import write_words
from hw.golden.stream import pack_beats


def axis_class(i: int, size: int, top: int, bottom: int) -> int:
    """Class of position ``i`` along an axis of ``size`` with ``top`` / ``bottom`` border positions."""
    if i < top:
        return i
    if i >= size - bottom:
        return top + 1 + i - (size - bottom)
    return top


def _interior(profiles: np.ndarray) -> tuple[int, int]:
    """(top, bottom): the longest run of equal slices along axis 0 is the interior."""
    size = len(profiles)
    best = (0, 1)
    start = 0
    for i in range(1, size + 1):
        if i == size or not np.array_equal(profiles[i], profiles[start]):
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = i
    return best[0], size - best[1]


def border_classes(const: np.ndarray) -> tuple[tuple[int, int], tuple[int, int], np.ndarray]:
    """(top, bottom), (left, right), table (classes, C) of a (H, W, C) constant; reconstruction is exact."""
    const = np.asarray(const)
    h, w, _ = const.shape
    rows, cols = _interior(const), _interior(const.transpose(1, 0, 2))
    rep_rows = _representatives(h, rows)
    rep_cols = _representatives(w, cols)
    table = np.stack([const[r, c] for r in rep_rows for c in rep_cols])
    if not np.array_equal(expand(table, (h, w), rows, cols), const):
        raise AssertionError("border classes do not reproduce the constant")
    return rows, cols, table


def _representatives(size: int, split: tuple[int, int]) -> list[int]:
    """One position per class, in class order."""
    reps: dict[int, int] = {}
    for i in range(size):
        reps.setdefault(axis_class(i, size, *split), i)
    return [reps[k] for k in sorted(reps)]


def class_map(hw: tuple[int, int], rows: tuple[int, int], cols: tuple[int, int]) -> np.ndarray:
    """(H, W) class index of every position."""
    (h, w), q = hw, cols[0] + cols[1] + 1
    r = np.array([axis_class(i, h, *rows) for i in range(h)])
    c = np.array([axis_class(i, w, *cols) for i in range(w)])
    return r[:, None] * q + c[None, :]


def expand(table: np.ndarray, hw, rows, cols) -> np.ndarray:
    """The (H, W, ...) tensor of a class table (classes, ...)."""
    return np.asarray(table)[class_map(hw, rows, cols)]


def pos_threshold(acc, table, rows, cols, bias: int = 0, scale: int = 1, offset_mode: bool = False) -> np.ndarray:
    """acc: (N, H, W, C) integers; table: (classes, C, n) thresholds or (classes, C) offsets."""
    acc = np.asarray(acc, dtype=np.int64)
    per_pos = expand(table, acc.shape[1:3], rows, cols)[None]
    if offset_mode:
        return scale * acc + per_pos.astype(np.int64)
    return bias + (acc[..., None] >= per_pos).sum(axis=-1)


def table_words(table, pe: int, bits: int) -> list[int]:
    """(classes, C[, n]) integers -> pos_threshold.sv's table words (word k*CF + cf, lane p, value n)."""
    t = np.asarray(table)
    t = t[..., None] if t.ndim == 2 else t
    if not np.array_equal(t, np.round(t)):
        raise ValueError("the table must hold integers")
    t = t.astype(np.int64)
    classes, channels, n = t.shape
    if channels % pe:
        raise ValueError(f"PE={pe} must divide the {channels} channels")
    if t.min() < -(1 << (bits - 1)) or t.max() >= 1 << (bits - 1):
        raise ValueError(f"table values do not fit in {bits} signed bits")
    return pack_beats(t, bits, pe * n)


def write_table(table, pe: int, bits: int, path) -> None:
    t = np.asarray(table)
    n = t.shape[2] if t.ndim == 3 else 1
    write_words(table_words(t, pe, bits), pe * n * bits, path)
