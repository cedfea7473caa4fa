"""Golden model of bnn_popcount: the lane's value and its compressor schedule.

Value: ``popcount_xnor`` (XNOR mode) and ``pm1_dot`` (integer mode: sum of +x / -x by the weight bit).
The schedule is a second, independent implementation of the RTL's elaboration-time bit heap
(hw/rtl/bnn_popcount.sv): level 0 counts groups of ``group`` bit pairs of one column into
clog2(group+1) bits (integer mode: pairs in every bit column of x, the single bits !w in column 0 and
the constant -n * 2^(BX-1)); every later level, while some column holds more than 6 bits, puts each
column's bits 7 at a time (a rest of 6 too) through a carry-chain counter (2 LUTs, 7 bits -> 3) and
passes the rest; after that, columns are decided from the lowest up: one whose bits plus what lands in it
from below exceed 3 gets a counter (5-6 bits) or a full adder (3-4 bits: 1 LUT, 3 -> 2), until no column
holds more than 3 bits; a ternary adder (one LUT per column) follows.
Counter outputs above the top column are dropped (sums mod 2^out_bits). ``schedule`` returns the heights,
the latency and the LUT count of that structure, which the unit test checks against the RTL's timing
and bench/synth_mvau.py against yosys.
"""

from __future__ import annotations

import math

import numpy as np


def popcount_xnor(a, b) -> np.ndarray:
    """Number of equal bit pairs per row of a and b ((n, N) arrays of 0/1)."""
    return (np.asarray(a) == np.asarray(b)).sum(axis=-1)


def pm1_dot(x, w) -> np.ndarray:
    """Integer mode: sum_i (w_i ? x_i : -x_i) per row (x integers, w 0/1, (n, N) arrays)."""
    x, w = np.asarray(x, dtype=np.int64), np.asarray(w, dtype=np.int64)
    return (x * (2 * w - 1)).sum(axis=-1)


def out_bits(n: int, xnor: bool = True, bits: int = 1) -> int:
    """Width of the lane's output: 0..n unsigned (XNOR), else signed holding +-n * (2^bits - 1)."""
    return n.bit_length() if xnor else bits + n.bit_length() + 1


def _counters(h: int, main: bool, incoming: int) -> tuple[list[int], int, int]:
    """(inputs of each carry-chain counter, full adders, passed bits) for a column of h bits that will
    also receive ``incoming`` counter outputs from the columns below on this level."""
    if main:
        segs = [7] * (h // 7) + ([6] if h % 7 == 6 else [])
        return segs, 0, 0 if h % 7 == 6 else h % 7
    if h + incoming <= 3:
        return [], 0, h
    if h >= 5:
        return [h], 0, 0
    if h >= 3:
        return [], 1, h - 3
    return [], 0, h


def _level(h: list[int]) -> tuple[list[int], int]:
    """One compression level: next heights (same number of columns) and the LUTs it costs. Once no
    column holds more than 6 bits, columns are decided from the lowest up, knowing what lands in them."""
    main = max(h) > 6
    nh = [0] * (len(h) + 2)
    incoming = [0] * (len(h) + 2)
    luts = 0
    for c, x in enumerate(h):
        segs, fas, passed = _counters(x, main, incoming[c])
        luts += 2 * len(segs) + fas
        nh[c] += len(segs) + fas + passed
        for k, n in ((1, len(segs) + fas), (2, len(segs))):
            nh[c + k] += n
            incoming[c + k] += n
    return nh[: len(h)], luts


def level0(n: int, group: int = 3, xnor: bool = True, bits: int = 1, signed: bool = False) -> tuple[list, int]:
    """Heights of level 0 and its LUT count (one LUT per group count bit, in the heap's columns)."""
    width = out_bits(n, xnor, bits)
    bx = 1 if xnor else (bits if signed else bits + 1)
    groups, b0 = math.ceil(n / group), group.bit_length()
    h = [0] * width
    for b in range(bx):
        for k in range(b0):
            if b + k < width:
                h[b + k] += groups
    luts = sum(h)
    if not xnor:
        h[0] += n  # the singles !w
        const = (-n << (bx - 1)) % (1 << width)
        for c in range(width):
            h[c] += const >> c & 1
    return h, luts


def schedule(n: int, group: int = 3, levels_per_stage: int = 1, xnor: bool = True, bits: int = 1,
             signed: bool = False) -> dict:  # fmt: skip
    """Heights per level, pipeline latency and LUT count of bnn_popcount #(N=n, GroupSize=group, ...)."""
    h, luts = level0(n, group, xnor, bits, signed)
    heights = [h]
    while max(heights[-1]) > 3:
        h, cost = _level(heights[-1])
        heights.append(h)
        luts += cost
    luts += len(h)  # ternary adder: one LUT per column
    levels = len(heights) - 1
    registered = sum(1 for lv in range(levels + 1) if (lv + 1) % levels_per_stage == 0)
    return {"heights": heights, "levels": levels, "latency": registered + 1, "luts": luts, "out_bits": len(h)}
