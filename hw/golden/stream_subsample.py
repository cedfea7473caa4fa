"""Golden model of stream_subsample: a 1 x 1 sliding window (FINN's ConvolutionInputGenerator with
ConvKernelDim [1, 1]) is a subsample of the stream, no line buffer needed.

An H x W x C frame streams row-major, one channel group of SIMD elements per beat (``folds = C / SIMD``
beats per pixel). Pixel (h, w) is kept iff

    h % s_h == 0,  w % s_w == 0,  h / s_h < OH,  w / s_w < OW

(the window's output pixel (h / s_h, w / s_w)); every beat of a kept pixel passes unchanged, every beat
of another is dropped. Padding is FINN's separate FMPadding node in front (the generator has none).

``kept_pixels`` is that rule; ``subsample_frame`` applies it to a frame's values (tests check it against
NumPy's strided slicing ``x[::s_h, ::s_w][:OH, :OW]``); ``phase_walk`` is the RTL's counters (a phase
within the stride and the output index, per axis, no divider) and must give the same mask.
"""

from __future__ import annotations

import numpy as np


def check_shape(in_hw, stride, out_hw) -> None:
    """ValueError unless every output pixel reads an input pixel: ``(OH - 1) * s_h < H`` (and for W)."""
    for axis, (size, s, out) in enumerate(zip(in_hw, stride, out_hw, strict=True)):
        if min(size, s, out) < 1:
            raise ValueError(f"subsample axis {axis}: sizes and stride must be >= 1, got {size}, {s}, {out}")
        if (out - 1) * s >= size:
            raise ValueError(f"subsample axis {axis}: {out} outputs at stride {s} read past {size} inputs")


def kept_pixels(in_hw, stride, out_hw) -> np.ndarray:
    """Boolean H x W mask of the pixels the window keeps (module docstring's rule)."""
    check_shape(in_hw, stride, out_hw)
    (h, w), (s_h, s_w), (oh, ow) = in_hw, stride, out_hw
    rows = np.array([r % s_h == 0 and r // s_h < oh for r in range(h)])
    cols = np.array([c % s_w == 0 and c // s_w < ow for c in range(w)])
    return rows[:, None] & cols[None, :]


def subsample_frame(values, in_hw, channels: int, stride, out_hw) -> np.ndarray:
    """The frame's elements (row-major H x W x C) that the window passes, flat, in stream order."""
    mask = kept_pixels(in_hw, stride, out_hw)
    frame = np.asarray(values).reshape(*in_hw, channels)
    return frame[mask].reshape(-1)


def kept_beats(in_hw, stride, out_hw, folds: int) -> np.ndarray:
    """Per input beat of a frame (``folds`` beats per pixel), whether it passes."""
    return np.repeat(kept_pixels(in_hw, stride, out_hw).reshape(-1), folds)


def phase_walk(in_hw, stride, out_hw) -> np.ndarray:
    """The RTL's walk (stream_subsample.sv): per axis a phase ``p`` (0 .. s - 1) and an output index
    ``o``; a pixel is kept when both phases are 0 and both indices are below OH / OW. The column
    counters advance per pixel and restart at the end of a row (``o * s + p == W - 1``); the row ones
    advance at a row's end."""
    check_shape(in_hw, stride, out_hw)
    (h, w), (s_h, s_w), (oh, ow) = in_hw, stride, out_hw
    mask = np.zeros((h, w), dtype=bool)
    p_r = o_r = 0
    for r in range(h):
        p_c = o_c = 0
        for c in range(w):
            mask[r, c] = p_r == 0 and p_c == 0 and o_r < oh and o_c < ow
            p_c, o_c = (0, o_c + 1) if p_c == s_w - 1 else (p_c + 1, o_c)
        p_r, o_r = (0, o_r + 1) if p_r == s_h - 1 else (p_r + 1, o_r)
    return mask
