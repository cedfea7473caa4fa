"""stream_dwc against hw.golden.stream_dwc.convert_beats, over many width pairs at once: a generated
harness instantiates one converter per pair (one Verilator build for all), each with its own AXI
streams ``s<i>_axis`` -> ``m<i>_axis``. Every idle x backpressure pair (each stream its own random
pattern), a mid-frame reset, and the cycle model: without stalls a frame of F bits takes at most
max(F/InBits, F/OutBits) cycles plus the latency (flow/analysis/cycles.py dwc_cycles).

Pairs: a fixed list (divisible both ways, coprime, equal, 1-bit, CNV-W1A1's 64 -> 36, a 64-beat
deserializer, wide int8 streams) and seeded random pairs (``SHIFTBNN_DWC_SEED`` picks other ones; any
width 1..300 or whole elements of 1..9 bits). Frames stay <= 64 beats: the simulation runs as long as
the longest."""

import math
import os

import cocotb
import numpy as np
import pytest

from hw.golden.stream_dwc import convert_beats
from hw.tb.common import TB, harness_top, run_harness, sim_cfg

FIXED_PAIRS = [(8, 8), (64, 36), (36, 64), (24, 16), (8, 64), (64, 8), (1, 7), (3, 5), (512, 24), (9, 8), (4, 256)]
N_RANDOM = 6
LATENCY = 3  # cycles of slack over max(in, out) beats for the first beat in and the last beat out


def random_pairs(seed: int, n: int) -> list[tuple[int, int]]:
    """Width pairs as the folding makes them (whole elements of 1..9 bits, 1..64 per beat) or any bits."""
    rng = np.random.default_rng(seed)
    pairs = []
    while len(pairs) < n:
        if rng.random() < 0.5:
            elem = int(rng.choice([1, 2, 3, 4, 5, 8, 9]))
            pair = (elem * int(rng.integers(1, 65)), elem * int(rng.integers(1, 65)))
        else:
            pair = (int(rng.integers(1, 301)), int(rng.integers(1, 301)))
        if pair[0] != pair[1] and max(math.lcm(*pair) // min(pair), 1) <= 64:  # a short frame in cocotb
            pairs.append(pair)
    return pairs


def harness(pairs) -> str:
    """A top with one stream_dwc per (in_bits, out_bits) pair and ports s<i>_axis / m<i>_axis."""
    units = [("stream_dwc", f".InBits({a}), .OutBits({b})", a, b) for a, b in pairs]
    return harness_top("dwc_harness", units, "hw/tb/stream_dwc/test_stream_dwc.py")


def frame_beats(in_bits: int, out_bits: int) -> tuple[int, int]:
    """Beats in and out of one test frame: whole lcm runs, 16..~64 beats on the busier side."""
    run = math.lcm(in_bits, out_bits)
    runs = max(1, math.ceil(16 / max(run // in_bits, run // out_bits)))
    return runs * run // in_bits, runs * run // out_bits


@cocotb.test()
async def every_pair_all_stall_modes_and_reset(dut):
    from cocotb.triggers import ClockCycles
    from cocotbext.axi import AxiStreamFrame

    pairs = [tuple(p) for p in sim_cfg()["pairs"]]
    n = len(pairs)
    tb = TB(dut, sources=[f"s{i}_axis" for i in range(n)], sinks=[f"m{i}_axis" for i in range(n)])
    rng = np.random.default_rng(5)
    await tb.reset()

    def frames(count: int):
        beats = []
        for a, b in pairs:
            n_in = frame_beats(a, b)[0] * count
            beats.append([int.from_bytes(rng.bytes((a + 7) // 8), "little") & ((1 << a) - 1) for _ in range(n_in)])
        return beats

    async def check(count: int, max_cycles: int):
        inputs = frames(count)
        want = [convert_beats(x, a, b) for x, (a, b) in zip(inputs, pairs, strict=True)]
        got = await tb.transfer_all(inputs, [len(w) for w in want], max_cycles)
        for (a, b), g, w in zip(pairs, got, want, strict=True):
            wrong = [k for k, (x, y) in enumerate(zip(g, w, strict=True)) if x != y]
            assert not wrong, f"{a} -> {b} bits: {len(wrong)} wrong beats, the first {wrong[0]}"

    # throughput without stalls: every converter's frame done within max(in, out) beats + latency
    tb.set_stalls("none")
    done, watcher = tb.cycles_to_beats([frame_beats(*pair)[1] for pair in pairs])
    await check(1, 1000)
    watcher.cancel()
    for (a, b), cycles in zip(pairs, done, strict=True):
        assert 0 < cycles <= max(frame_beats(a, b)) + LATENCY, f"{a} -> {b}: {cycles} cycles for {frame_beats(a, b)}"

    for _ in tb.stall_pairs(seed=1):
        await check(1, 4000)
    # a reset in the middle of a frame, then clean frames
    tb.set_stalls("random", seed=99)
    for source, beats in zip(tb.sources, frames(1), strict=True):
        await source.send(AxiStreamFrame(beats))
    await ClockCycles(tb.clk, 9)
    await tb.reset()
    await check(1, 4000)


def run_pairs(pairs, seed: int):
    run_harness("stream_dwc", __file__, "dwc_harness", harness(pairs), seed, {"pairs": pairs})


@pytest.mark.sim
def test_stream_dwc_width_pairs():
    """The fixed pairs and seeded random ones, in one Verilator build."""
    seed = int(os.environ.get("SHIFTBNN_DWC_SEED", "1"))
    run_pairs(FIXED_PAIRS + random_pairs(seed, N_RANDOM), seed)
