"""Which memory a buffer of the generated RTL becomes, and what it costs: the one place for the rules that
the RTL backend applies (ram_style attributes) and the resource model assumes (flow/analysis/cost.py).

- Block RAM (``bram36``): RAMB18 aspect ratios 512x36 ... 16Kx1, a RAMB18 counted as half a BRAM36.
- LUT memory: a ROM/RAM of ``depth`` words costs ``width * ceil(depth / 64)`` LUT6 (64x1 each).
- UltraRAM (``uram``): URAM288 blocks of 4096 x 72 bits, UltraScale+ parts only (``Board.uram288``).
  A URAM has no initial contents in a bitstream, so constant weights (ROMs) cannot live there.
- FIFOs (finn-rtllib fifo.sv): up to ``SRL_MAX_DEPTH`` words a shift register (SRL); deeper than 64
  words and at least 18 bits wide, block RAM (as LUTRAM it would cost ~4/3 LUT per bit per 64 words,
  i.e. >= 48 LUTs per RAMB18 it saves); above 2,028 words fifo.sv's ``auto`` picks UltraRAM, which
  7-series parts lack: block RAM there.
"""

from __future__ import annotations

import math

BLOCK_MIN_DEPTH = 128  # memories at least this deep go to block RAM, shallower ones to LUTs
SRL_MAX_DEPTH = 33  # fifo.sv implements every FIFO up to this depth as a shift register
URAM_DEPTH, URAM_WIDTH = 4096, 72
# RAMB18 aspect ratios: (max depth, width) of one RAMB18 (a BRAM36 holds twice the width)
RAMB18_ASPECTS = ((512, 36), (1024, 18), (2048, 9), (4096, 4), (8192, 2), (16384, 1))


def bram36_count(depth: int, width: int) -> float:
    """BRAM36 (a RAMB18 counts half) for ``depth`` words of ``width`` bits."""
    for max_depth, aspect in RAMB18_ASPECTS:
        if depth <= max_depth:
            return math.ceil(width / aspect) / 2
    return math.ceil(depth / 16384) * width / 2


def lut_memory(depth: int, width: int) -> float:
    """LUT6 of a LUT ROM/RAM (64 x 1 per LUT)."""
    return float(width * math.ceil(depth / 64))


def uram_count(depth: int, width: int) -> float:
    return float(math.ceil(depth / URAM_DEPTH) * math.ceil(width / URAM_WIDTH))


def memory_cost(depth: int, width: int) -> tuple[float, float]:
    """(LUT, BRAM36) of a memory whose style the tool chooses ("auto"): LUTs below ``BLOCK_MIN_DEPTH``."""
    if depth < BLOCK_MIN_DEPTH:
        return lut_memory(depth, width), 0.0
    return 0.0, bram36_count(depth, width)


def has_ultraram(part: str) -> bool:
    """UltraRAM exists on UltraScale+ parts only (xczu*, xcvu*p, xcku*p, ...), not on 7-series (xc7*)."""
    return not part.lower().startswith("xc7")


def fifo_ram_style(depth: int, width: int, part: str) -> str:
    """The ram_style the RTL backend gives a FIFO left at "auto" (module docstring)."""
    if depth <= SRL_MAX_DEPTH:
        return "auto"
    if depth > 64 and width >= 18:
        return "block"
    if depth > 2028 and not has_ultraram(part):
        return "block"
    return "auto"


def fifo_memory(depth: int, width: int, part: str) -> tuple[float, float, float]:
    """(LUT, BRAM36, URAM) of a FIFO's storage as fifo.sv builds it for ``fifo_ram_style``."""
    style = fifo_ram_style(depth, width, part)
    if depth <= SRL_MAX_DEPTH:
        return float(width * math.ceil(depth / 32)), 0.0, 0.0
    if style == "block":
        return 0.0, bram36_count(depth, width), 0.0
    if depth > 2028:  # fifo.sv "auto" on an UltraScale+ part
        return 0.0, 0.0, uram_count(depth, width)
    return lut_memory(depth, width) * 4 / 3, 0.0, 0.0  # RAM64M: 3 data bits per 4 LUTs
