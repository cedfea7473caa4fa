"""Golden model of stream_reorder (a transpose of each frame, one element per beat).

``reorder_frame`` is the reference: NumPy's transpose of the frame read row-major in its input shape.
``walk_params`` gives the RTL's parameters: the output axes as (size, input stride) levels, outermost
first, with size-1 axes dropped and output-adjacent axes that are adjacent in the input too merged
into one (``(a, b) -> (a * b)``), padded to ``LEVELS`` with (1, 0). ``walk_addresses`` is the RTL's
odometer over those levels (the innermost non-wrapping counter adds its stride, the wrapping ones below
it subtract ``(size - 1) * stride``); tests check it against ``reorder_frame``.
"""

from __future__ import annotations

import numpy as np

LEVELS = 4  # stream_reorder.sv's D0..D3 / S0..S3


def reorder_frame(values, in_shape, perm) -> np.ndarray:
    """The frame's elements (row-major in ``in_shape``) in the order of ``transpose(perm)``, flat."""
    return np.asarray(values).reshape(tuple(in_shape)).transpose(tuple(perm)).reshape(-1)


def walk_params(in_shape, perm) -> tuple[list[int], list[int]]:
    """(dims, strides) of the output walk, ``LEVELS`` long; ValueError if the transpose needs more."""
    in_shape, perm = [int(d) for d in in_shape], [int(p) for p in perm]
    if sorted(perm) != list(range(len(in_shape))):
        raise ValueError(f"perm {perm} is no permutation of {len(in_shape)} axes")
    strides = [int(np.prod(in_shape[a + 1 :])) for a in range(len(in_shape))]
    levels: list[list[int]] = []  # [size, stride, input axis] per output axis that is not 1
    for axis in perm:
        if in_shape[axis] == 1:
            continue
        if levels and _adjacent(in_shape, levels[-1][2], axis):
            levels[-1][0] *= in_shape[axis]  # the previous output axis is this one's outer neighbour
            levels[-1][1] = strides[axis]
            levels[-1][2] = axis
            continue
        levels.append([in_shape[axis], strides[axis], axis])
    if len(levels) > LEVELS:
        raise ValueError(f"transpose {perm} of {in_shape} needs {len(levels)} address levels (at most {LEVELS})")
    levels = [[1, 0, -1]] * (LEVELS - len(levels)) + levels
    return [size for size, _, _ in levels], [stride for _, stride, _ in levels]


def _adjacent(shape, outer: int, inner: int) -> bool:
    """Input axis ``inner`` follows ``outer`` directly, size-1 axes between them aside."""
    return outer < inner and all(d == 1 for d in shape[outer + 1 : inner])


def walk_addresses(dims, strides) -> list[int]:
    """The input addresses the RTL reads, in output order (stream_reorder.sv's odometer)."""
    counters, addr, out = [0] * len(dims), 0, []
    for _ in range(int(np.prod(dims))):
        out.append(addr)
        for k in reversed(range(len(dims))):
            if counters[k] == dims[k] - 1:
                counters[k] = 0
                addr -= (dims[k] - 1) * strides[k]
            else:
                counters[k] += 1
                addr += strides[k]
                break
    return out
