"""stream_reorder's golden model: the RTL's odometer walk (``walk_params`` levels, ``walk_addresses``)
equals NumPy's transpose for random shapes (any rank, size-1 axes included) and permutations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hw.golden.stream_reorder import LEVELS, reorder_frame, walk_addresses, walk_params

pytestmark = pytest.mark.fast


@st.composite
def transposes(draw, max_rank: int = 6):
    shape = draw(st.lists(st.integers(1, 5), min_size=1, max_size=max_rank))
    perm = draw(st.permutations(list(range(len(shape)))))
    return shape, perm


@settings(max_examples=300, deadline=None)
@given(transposes())
def test_walk_equals_numpy_transpose(case):
    shape, perm = case
    n = int(np.prod(shape))
    try:
        dims, strides = walk_params(shape, perm)
    except ValueError:  # more than LEVELS levels even after merging: the lowering refuses it by name
        kept = [a for a in perm if shape[a] > 1]
        assert len(kept) > LEVELS
        return
    assert len(dims) == len(strides) == LEVELS and int(np.prod(dims)) == n
    assert walk_addresses(dims, strides) == list(reorder_frame(np.arange(n), shape, perm))


@settings(max_examples=100, deadline=None)
@given(transposes(max_rank=4), st.integers(0, 2**31 - 1))
def test_reorder_frame_is_the_transpose_of_the_values(case, seed):
    """The reference reorders values, not just indices: element i of the output is input element
    walk_addresses[i], for random element values."""
    shape, perm = case
    values = np.random.default_rng(seed).integers(0, 256, int(np.prod(shape)))
    dims, strides = walk_params(shape, perm)
    assert list(reorder_frame(values, shape, perm)) == [values[a] for a in walk_addresses(dims, strides)]


def test_order_keeping_transposes_merge_into_one_level():
    """NCHW -> NHWC of a 1x1 map keeps the order: one level, stride 1 (a plain pass-through walk)."""
    assert walk_params([1, 6, 1, 1], [0, 2, 3, 1]) == ([1, 1, 1, 6], [0, 0, 0, 1])
    assert walk_params([1, 7, 5, 7], [0, 1, 3, 2]) == ([1, 7, 7, 5], [0, 35, 1, 7])
    with pytest.raises(ValueError, match="no permutation"):
        walk_params([2, 3], [0, 0])
