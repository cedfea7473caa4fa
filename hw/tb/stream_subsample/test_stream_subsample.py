"""stream_subsample against hw.golden.stream_subsample.subsample_frame, for many shapes at once: a generated
harness instantiates one subsample per case (one Verilator build for all), each with its own AXI streams
``s<i>_axis`` -> ``m<i>_axis``. Three frames back to back per check (the counters wrap between frames),
every idle x backpressure pair (each stream its own random pattern), a reset in the middle of a frame,
and the rate: without stalls, F frames of N input beats are through within F * N cycles plus the
latency (a dropped beat is taken at once, a kept one per cycle: one input beat per cycle).

Cases: fixed ones (generated net 11's window: 3 x 1 map, stride 3, 2 channels; a map where every pixel
is kept; 1-wide and 1-high maps; an output smaller than the stride allows) and seeded random maps,
strides 1-3, output sizes, channel folds and beat widths (``SHIFTBNN_SUBSAMPLE_SEED`` picks other ones)."""

import os

import cocotb
import numpy as np
import pytest

from hw.golden.stream_subsample import subsample_frame
from hw.tb.common import TB, harness_top, run_harness, sim_cfg

# (beat bits, folds, (H, W), (SH, SW), (OH, OW))
FIXED = [
    (1, 2, (3, 1), (3, 1), (1, 1)),
    (4, 1, (2, 3), (1, 1), (2, 3)),
    (3, 3, (1, 7), (1, 3), (1, 3)),
    (8, 2, (5, 1), (2, 1), (3, 1)),
    (2, 1, (7, 6), (3, 2), (2, 2)),
    (5, 1, (1, 1), (1, 1), (1, 1)),
]
N_RANDOM = 6
FRAMES = 3
LATENCY = 3  # cycles over FRAMES * N: the skid buffer, the source's first beat, the monitor


def random_cases(seed: int, n: int) -> list:
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        in_hw = tuple(int(d) for d in rng.integers(1, 8, 2))
        stride = tuple(int(s) for s in rng.integers(1, 4, 2))
        out_hw = tuple(int(rng.integers(1, (d - 1) // s + 2)) for d, s in zip(in_hw, stride, strict=True))
        cases.append((int(rng.choice([1, 2, 5, 8])), int(rng.integers(1, 4)), in_hw, stride, out_hw))
    return cases


def params(case) -> dict:
    bits, folds, (h, w), (sh, sw), (oh, ow) = case
    return {"BeatBits": bits, "Folds": folds, "H": h, "W": w, "SH": sh, "SW": sw, "OH": oh, "OW": ow}


def harness(cases) -> str:
    """A top with one stream_subsample per case and ports s<i>_axis / m<i>_axis."""
    units = []
    for case in cases:
        plist = ", ".join(f".{k}({v})" for k, v in params(case).items())
        units.append(("stream_subsample", plist, case[0], case[0]))
    return harness_top("subsample_harness", units, "hw/tb/stream_subsample/test_stream_subsample.py")


def expected(case, beats: list[int], frames: int) -> list[int]:
    """The golden model on beats: one beat is one 'channel' of a pixel with ``folds`` channels."""
    _, folds, in_hw, stride, out_hw = case
    n = len(beats) // frames
    out = []
    for f in range(frames):
        out += [int(v) for v in subsample_frame(beats[f * n : (f + 1) * n], in_hw, folds, stride, out_hw)]
    return out


@cocotb.test()
async def every_case_all_stall_modes_and_reset(dut):
    from cocotb.triggers import ClockCycles
    from cocotbext.axi import AxiStreamFrame

    cases = [(b, f, tuple(i), tuple(s), tuple(o)) for b, f, i, s, o in sim_cfg()["cases"]]
    sizes = [c[1] * c[2][0] * c[2][1] for c in cases]  # input beats per frame
    n = len(cases)
    tb = TB(dut, sources=[f"s{i}_axis" for i in range(n)], sinks=[f"m{i}_axis" for i in range(n)])
    rng = np.random.default_rng(7)
    await tb.reset()

    def frames(count: int) -> list:
        return [[int(v) for v in rng.integers(0, 1 << c[0], k * count)] for c, k in zip(cases, sizes, strict=True)]

    async def check(count: int, max_cycles: int):
        inputs = frames(count)
        want = [expected(c, x, count) for c, x in zip(cases, inputs, strict=True)]
        got = await tb.transfer_all(inputs, [len(w) for w in want], max_cycles)
        for case, g, w in zip(cases, got, want, strict=True):
            assert g == w, f"{case}: got {g[:12]}..., want {w[:12]}..."

    # the rate without stalls: FRAMES frames through within FRAMES * N input beats + latency
    tb.set_stalls("none")
    outs = [len(expected(c, [0] * k, 1)) for c, k in zip(cases, sizes, strict=True)]
    done, watcher = tb.cycles_to_beats([FRAMES * k for k in outs])
    await check(FRAMES, 2000)
    watcher.cancel()
    for case, k, cycles in zip(cases, sizes, done, strict=True):
        assert 0 < cycles <= FRAMES * k + LATENCY, f"{case}: {cycles} cycles for {FRAMES} frames of {k} beats"

    for _ in tb.stall_pairs(seed=3):
        await check(FRAMES, 10000)
    # a reset in the middle of a frame, then clean frames
    tb.set_stalls("random", seed=11)
    for source, x in zip(tb.sources, frames(2), strict=True):
        await source.send(AxiStreamFrame(x))
    await ClockCycles(tb.clk, 13)
    await tb.reset()
    await check(FRAMES, 10000)


@pytest.mark.sim
def test_stream_subsample_shapes():
    """The fixed cases and seeded random ones, in one Verilator build."""
    seed = int(os.environ.get("SHIFTBNN_SUBSAMPLE_SEED", "1"))
    cases = FIXED + random_cases(seed, N_RANDOM)
    run_harness("stream_subsample", __file__, "subsample_harness", harness(cases), seed, {"cases": cases})
