"""Golden model of bnn_popcount: the value (popcount of xnor) and the compressor schedule.

The schedule is a second, independent implementation of the RTL's elaboration-time bit heap
(hw/rtl/bnn_popcount.sv): level 0 counts groups of ``group`` bit pairs into clog2(group+1) bits; every
later level puts each column's bits (column c = weight 2^c) through 6:3 counters, a remainder of r bits
through an r-input counter when r >= rmin (3 while no column holds more than 6 bits, else 5), passes
the rest, until no column holds more than 2 bits; a final carry-chain add of the two rows follows.
``schedule`` returns the heap heights, the latency and the LUT count of that structure (one LUT per
counter output bit, one per final-adder column), which the unit test checks against the RTL's timing
and bench/synth_mvau.py against yosys.
"""

from __future__ import annotations

import math

import numpy as np


def popcount_xnor(a, b) -> np.ndarray:
    """Number of equal bit pairs per row of a and b ((n, N) arrays of 0/1)."""
    return (np.asarray(a) == np.asarray(b)).sum(axis=-1)


def _level(h: list[int]) -> tuple[list[int], int]:
    """One compression level: next heights and the LUTs it costs."""
    rmin = 5 if max(h) > 6 else 3
    nh = [0] * (len(h) + 2)
    luts = 0
    for c, x in enumerate(h):
        n6, r = divmod(x, 6)
        part = r if r >= rmin else 0
        for k in [6] * n6 + ([part] if part else []):
            out_bits = k.bit_length()
            luts += out_bits
            for b in range(out_bits):
                nh[c + b] += 1
        nh[c] += 0 if part else r
    while len(nh) > 1 and nh[-1] == 0:
        nh.pop()
    return nh, luts


def schedule(n: int, group: int = 3, levels_per_stage: int = 1) -> dict:
    """Heights per level, pipeline latency and LUT count of bnn_popcount #(N=n, GroupSize=group)."""
    groups = math.ceil(n / group)
    heights = [[groups] * group.bit_length()]
    luts = groups * group.bit_length()
    while max(heights[-1]) > 2:
        h, cost = _level(heights[-1])
        heights.append(h)
        luts += cost
    last = heights[-1]
    luts += sum(1 for x in last if x) if max(last) == 2 else 0  # final add: one LUT per column
    levels = len(heights) - 1
    registered = sum(1 for lv in range(levels + 1) if (lv + 1) % levels_per_stage == 0)
    return {"heights": heights, "levels": levels, "latency": registered + 1, "luts": luts}
