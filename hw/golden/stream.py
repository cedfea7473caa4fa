"""The one packer between element arrays and AXI-stream beats (FINN convention), in two forms.

Element i of a beat sits at bits [i*elem_bits +: elem_bits] (element 0 in the least significant
bits); negative values are stored in two's complement; bits above per_beat*elem_bits are 0. A beat
is a little-endian word: byte 0 holds bits 7..0. A bipolar value is stored as its bit
(+1 -> 1, -1 -> 0); convert with `bipolar_to_bits` first.

- `pack_bytes` / `unpack_bytes`: beats as rows of a uint8 array (the RTL harness' files, the DMA
  buffers), vectorised in numpy.
- `pack_beats` / `unpack_beats`: beats as Python integers (cocotb's AXI-stream frames), the same
  packing through the byte form.

FINN writes the same bytes with
``finnpy_to_packed_bytearray(beats, dtype, reverse_inner=True, reverse_endian=True)`` (its
default packs element 0 into the most significant bits, first byte most significant); the board
driver (flow/deploy/driver.py) keeps its own numpy-only copy, and tests/test_driver.py checks both
against this one.
"""

import numpy as np


def bipolar_to_bits(x):
    """{-1,+1} -> {0,1} (FINN: +1 is bit 1)."""
    return (np.asarray(x) > 0).astype(np.int64)


def beat_bytes_for(elem_bits: int, per_beat: int) -> int:
    """Bytes of the narrowest beat that holds per_beat elements of elem_bits."""
    return (elem_bits * per_beat + 7) // 8


def pack_bytes(elems, elem_bits: int, per_beat: int, beat_bytes: int | None = None) -> np.ndarray:
    """Flatten `elems` in C order into beats of `per_beat` elements -> uint8 (beats, beat_bytes)."""
    flat = np.asarray(elems, dtype=np.int64).reshape(-1)
    if flat.size % per_beat:
        raise ValueError(f"{flat.size} elements do not fill beats of {per_beat}")
    beat_bytes = beat_bytes_for(elem_bits, per_beat) if beat_bytes is None else beat_bytes
    if per_beat * elem_bits > 8 * beat_bytes:
        raise ValueError(f"{per_beat} x {elem_bits}-bit elements do not fit a {beat_bytes}-byte beat")
    words = flat.reshape(-1, per_beat)
    # (beats, per_beat, elem_bits) bit planes, LSB first; & 1 of a negative int64 is its two's complement bit
    bits = ((words[:, :, None] >> np.arange(elem_bits)) & 1).astype(np.uint8).reshape(len(words), -1)
    bits = np.pad(bits, ((0, 0), (0, 8 * beat_bytes - bits.shape[1])))
    return np.packbits(bits, axis=1, bitorder="little")


def unpack_bytes(data, elem_bits: int, per_beat: int, signed: bool = False) -> np.ndarray:
    """Inverse of pack_bytes: uint8 (beats, beat_bytes) -> int64 elements (beats * per_beat,)."""
    data = np.asarray(data, dtype=np.uint8)
    bits = np.unpackbits(data, axis=1, bitorder="little")[:, : per_beat * elem_bits]
    bits = bits.reshape(len(data), per_beat, elem_bits).astype(np.int64)
    values = (bits << np.arange(elem_bits)).sum(axis=-1).reshape(-1)
    if signed:
        values = np.where(values >> (elem_bits - 1), values - (1 << elem_bits), values)
    return values


def pack_beats(elems, elem_bits: int, per_beat: int) -> list[int]:
    """Flatten `elems` in C order and pack `per_beat` elements into each beat integer."""
    return [int.from_bytes(row.tobytes(), "little") for row in pack_bytes(elems, elem_bits, per_beat)]


def unpack_beats(beats, elem_bits: int, per_beat: int, signed: bool = False) -> np.ndarray:
    """Inverse of pack_beats: returns an int64 array of shape (len(beats) * per_beat,). Bits of a beat
    above per_beat*elem_bits (a port wider than its elements) are ignored."""
    nbytes = beat_bytes_for(elem_bits, per_beat)
    mask = (1 << (per_beat * elem_bits)) - 1
    raw = b"".join((int(word) & mask).to_bytes(nbytes, "little") for word in beats)
    data = np.frombuffer(raw, dtype=np.uint8).reshape(len(beats), nbytes)
    return unpack_bytes(data, elem_bits, per_beat, signed)


def int_range(bits: int, signed: bool) -> tuple[int, int]:
    """Value range of a bits-wide two's-complement (signed) or unsigned integer."""
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
