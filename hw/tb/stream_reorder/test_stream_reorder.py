"""stream_reorder against hw.golden.stream_reorder.reorder_frame, for many transposes at once: a generated
harness instantiates one reorder per case (one Verilator build for all), each with its own AXI streams
``s<i>_axis`` -> ``m<i>_axis``. Three frames back to back per check (both banks, and a bank reused),
every idle x backpressure pair (each stream its own random pattern), a reset in the middle of a frame,
and the rate: without stalls, F frames of N elements leave within (F + 1) * N cycles plus the latency
(the first frame fills a bank, then reading one frame overlaps writing the next: N cycles per frame).

Cases: fixed ones (generated net 11's InnerShuffle and OuterShuffle, an NCHW -> NHWC map, a 4-level
walk, 1-bit and 1-element frames) and seeded random shapes and permutations of rank 1-5
(``SHIFTBNN_REORDER_SEED`` picks other ones); frames stay <= 128 elements."""

import os

import cocotb
import numpy as np
import pytest

from hw.golden.stream_reorder import reorder_frame, walk_params
from hw.tb.common import TB, harness_top, run_harness, sim_cfg

# (element bits, input shape, perm)
FIXED = [
    (4, [1, 7, 5, 7], [0, 1, 3, 2]),
    (4, [1, 7, 7, 5], [0, 2, 1, 3]),
    (1, [1, 3, 4, 5], [0, 2, 3, 1]),
    (8, [2, 3, 2, 4], [3, 1, 0, 2]),
    (3, [1, 1], [1, 0]),
    (2, [5], [0]),
]
N_RANDOM = 6
FRAMES = 3
LATENCY = 4  # cycles over (FRAMES + 1) * N: the memory read, the skid buffer, the monitor


def random_cases(seed: int, n: int) -> list:
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        shape = [int(d) for d in rng.integers(1, 6, int(rng.integers(1, 6)))]
        perm = [int(p) for p in rng.permutation(len(shape))]
        if np.prod(shape) > 128:
            continue
        try:
            walk_params(shape, perm)
        except ValueError:
            continue
        cases.append((int(rng.choice([1, 2, 5, 8])), shape, perm))
    return cases


def harness(cases) -> str:
    """A top with one stream_reorder per case and ports s<i>_axis / m<i>_axis."""
    units = []
    for bits, shape, perm in cases:
        dims, strides = walk_params(shape, perm)
        params = [f".ElemBits({bits})"] + [f".D{k}({d})" for k, d in enumerate(dims)]
        params += [f".S{k}({s})" for k, s in enumerate(strides)]
        units.append(("stream_reorder", ", ".join(params), bits, bits))
    return harness_top("reorder_harness", units, "hw/tb/stream_reorder/test_stream_reorder.py")


@cocotb.test()
async def every_case_all_stall_modes_and_reset(dut):
    from cocotb.triggers import ClockCycles
    from cocotbext.axi import AxiStreamFrame

    cases = [(b, list(s), list(p)) for b, s, p in sim_cfg()["cases"]]
    sizes = [int(np.prod(s)) for _, s, _ in cases]
    tb = TB(dut, sources=[f"s{i}_axis" for i in range(len(cases))], sinks=[f"m{i}_axis" for i in range(len(cases))])
    rng = np.random.default_rng(7)
    await tb.reset()

    def frames(count: int) -> list:
        return [list(rng.integers(0, 1 << bits, n * count)) for (bits, _, _), n in zip(cases, sizes, strict=True)]

    async def check(count: int, max_cycles: int):
        inputs = frames(count)
        want = []
        for (_, shape, perm), n, x in zip(cases, sizes, inputs, strict=True):
            want.append([int(v) for f in range(count) for v in reorder_frame(x[f * n : (f + 1) * n], shape, perm)])
        got = await tb.transfer_all([[int(v) for v in x] for x in inputs], [len(w) for w in want], max_cycles)
        for case, g, w in zip(cases, got, want, strict=True):
            wrong = [k for k, (a, b) in enumerate(zip(g, w, strict=True)) if a != b]
            assert not wrong, f"{case}: {len(wrong)} wrong elements, the first at {wrong[0]}"

    # the rate without stalls: FRAMES frames leave within (FRAMES + 1) * N cycles + latency (ping-pong banks)
    tb.set_stalls("none")
    done, watcher = tb.cycles_to_beats([FRAMES * n for n in sizes])
    await check(FRAMES, 4000)
    watcher.cancel()
    for case, n, cycles in zip(cases, sizes, done, strict=True):
        assert 0 < cycles <= (FRAMES + 1) * n + LATENCY, f"{case}: {cycles} cycles for {FRAMES} frames of {n}"

    for _ in tb.stall_pairs(seed=3):
        await check(FRAMES, 20000)
    # a reset in the middle of a frame, then clean frames
    tb.set_stalls("random", seed=11)
    for source, x in zip(tb.sources, frames(2), strict=True):
        await source.send(AxiStreamFrame([int(v) for v in x]))
    await ClockCycles(tb.clk, 13)
    await tb.reset()
    await check(FRAMES, 20000)


def run_cases(cases, seed: int):
    run_harness("stream_reorder", __file__, "reorder_harness", harness(cases), seed, {"cases": cases})


@pytest.mark.sim
def test_stream_reorder_transposes():
    """The fixed cases and seeded random ones, in one Verilator build."""
    seed = int(os.environ.get("SHIFTBNN_REORDER_SEED", "1"))
    run_cases(FIXED + random_cases(seed, N_RANDOM), seed)
