"""stream_subsample's golden model: the keep rule equals NumPy's strided slicing for maps of any shape
(1-wide, 1-high, non-square), strides 1-3, every output size the map allows, any channel count; the
RTL's phase-counter walk (``phase_walk``) gives the same mask; shapes that read past the map are refused."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hw.golden.stream_subsample import check_shape, kept_beats, kept_pixels, phase_walk, subsample_frame

pytestmark = pytest.mark.fast


@st.composite
def windows(draw):
    """(in_hw, stride, out_hw): any map up to 9 x 9, strides 1-3, output sizes 1 .. the most allowed."""
    in_hw = (draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    out_hw = tuple(draw(st.integers(1, (d - 1) // s + 1)) for d, s in zip(in_hw, stride, strict=True))
    return in_hw, stride, out_hw


@settings(max_examples=300, deadline=None)
@given(windows(), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_subsample_equals_numpy_strided_slicing(window, channels, seed):
    in_hw, stride, out_hw = window
    x = np.random.default_rng(seed).integers(0, 256, (*in_hw, channels))
    want = x[:: stride[0], :: stride[1]][: out_hw[0], : out_hw[1]].reshape(-1)
    assert list(subsample_frame(x.reshape(-1), in_hw, channels, stride, out_hw)) == list(want)


@settings(max_examples=300, deadline=None)
@given(windows())
def test_phase_walk_is_the_rule(window):
    assert (phase_walk(*window) == kept_pixels(*window)).all()


@settings(max_examples=100, deadline=None)
@given(windows(), st.integers(1, 4))
def test_kept_beats_repeat_each_pixel_per_fold(window, folds):
    beats = kept_beats(*window, folds)
    assert beats.sum() == folds * window[2][0] * window[2][1]
    assert (beats.reshape(-1, folds) == beats.reshape(-1, folds)[:, :1]).all()


def test_net11_window_keeps_the_first_pixel_only():
    """Generated net 11: a 3 x 1 map, stride 3, one output pixel."""
    assert kept_pixels((3, 1), (3, 1), (1, 1)).reshape(-1).tolist() == [True, False, False]


@pytest.mark.parametrize(
    "in_hw, stride, out_hw", [((3, 1), (3, 1), (2, 1)), ((4, 4), (2, 2), (2, 3)), ((2, 2), (0, 1), (1, 1))]
)
def test_shapes_that_read_past_the_map_are_refused(in_hw, stride, out_hw):
    with pytest.raises(ValueError, match="subsample axis"):
        check_shape(in_hw, stride, out_hw)
