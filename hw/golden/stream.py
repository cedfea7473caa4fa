"""Pack/unpack between element arrays and AXI-stream beat integers (FINN convention).

Element i of a beat sits at bits [i*elem_bits +: elem_bits] (element 0 in the least significant
bits); negative values are stored in two's complement. A bipolar value is stored as its bit
(+1 -> 1, -1 -> 0); convert with `bipolar_to_bits` first.
"""

import numpy as np


def bipolar_to_bits(x):
    """{-1,+1} -> {0,1} (FINN: +1 is bit 1)."""
    return (np.asarray(x) > 0).astype(np.int64)


def pack_beats(elems, elem_bits: int, per_beat: int) -> list[int]:
    """Flatten `elems` in C order and pack `per_beat` elements into each beat integer."""
    flat = np.asarray(elems, dtype=np.int64).reshape(-1)
    if flat.size % per_beat:
        raise ValueError(f"{flat.size} elements do not fill beats of {per_beat}")
    mask = (1 << elem_bits) - 1
    beats = []
    for beat in flat.reshape(-1, per_beat):
        word = 0
        for i, v in enumerate(beat.tolist()):
            word |= (int(v) & mask) << (i * elem_bits)
        beats.append(word)
    return beats


def unpack_beats(beats, elem_bits: int, per_beat: int, signed: bool = False) -> np.ndarray:
    """Inverse of pack_beats: returns an int64 array of shape (len(beats) * per_beat,)."""
    mask = (1 << elem_bits) - 1
    out = np.empty((len(beats), per_beat), dtype=np.int64)
    for b, word in enumerate(beats):
        for i in range(per_beat):
            v = (int(word) >> (i * elem_bits)) & mask
            if signed and v >> (elem_bits - 1):
                v -= 1 << elem_bits
            out[b, i] = v
    return out.reshape(-1)


def int_range(bits: int, signed: bool) -> tuple[int, int]:
    """Value range of a bits-wide two's-complement (signed) or unsigned integer."""
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
