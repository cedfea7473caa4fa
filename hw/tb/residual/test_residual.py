"""Residual loop stream_dup -> {branch A that holds K beats before its first output, shortcut FIFO}
-> stream_add (wrapper residual_top.sv): a shortcut too small for K deadlocks (caught by a timeout),
one that holds K beats runs 20,000 beats bit-exactly, a share under each idle x backpressure pair."""

from pathlib import Path
from typing import NamedTuple

import cocotb
import numpy as np
import pytest

from hw.golden.stream import pack_beats, unpack_beats
from hw.golden.stream_add import add_clamp
from hw.golden.stream_dup import duplicate
from hw.tb.common import STALL_PAIRS, TB, run_sim, sim_cfg

HERE = Path(__file__).resolve().parent
K, FRAME = 16, 50  # branch A lookahead, beats per frame


class Case(NamedTuple):
    name: str
    shortcut_depth: int
    beats: int
    expect_deadlock: bool


# With the shortcut full, branch A can have received ShortcutDepth + 2 (stream_dup's m1 skid buffer)
# + 1 (the beat the fork already handed to m0 alone) beats, so ShortcutDepth = K - 4 is the largest
# depth that deadlocks and K - 3 the smallest that runs; a generator that sizes the shortcut FIFO >= K
# has margin.
CASES = [
    Case("depth_k_minus_4_deadlocks", shortcut_depth=K - 4, beats=2 * FRAME, expect_deadlock=True),
    Case("depth_k_minus_3_runs", shortcut_depth=K - 3, beats=3000, expect_deadlock=False),
    Case("depth_k_runs_20k", shortcut_depth=K, beats=20000, expect_deadlock=False),
]
PE = 2


def residual_golden(x):
    """x: (beats, PE) int8 -> the harness' output: lanes reversed on branch A, saturating add."""
    a, b = duplicate(x)
    return add_clamp(a[:, ::-1], b, 0, -128, 127)


@cocotb.test()
async def residual_loop(dut):
    from cocotb.triggers import ClockCycles, RisingEdge, SimTimeoutError, with_timeout
    from cocotbext.axi import AxiStreamFrame

    cfg = sim_cfg()
    rng = np.random.default_rng(23)
    tb = TB(dut)
    await tb.reset()
    x = rng.integers(-128, 128, size=(cfg["beats"], PE))

    if cfg["expect_deadlock"]:
        accepted = 0

        async def count_inputs():
            nonlocal accepted
            while True:
                await RisingEdge(dut.clk_i)
                accepted += int(dut.s_axis_tvalid.value) and int(dut.s_axis_tready.value)

        cocotb.start_soon(count_inputs())
        await tb.source.send(AxiStreamFrame(pack_beats(x, 8, PE)))
        with pytest.raises(SimTimeoutError):
            await with_timeout(tb.sink.read(), 5000 * 10, "ns")
        # stuck: nothing came out, the input takes nothing, and it stopped exactly at the shortcut's
        # capacity (FIFO + stream_dup's 2-beat skid buffer; branch A got one beat more), short of K
        assert tb.sink.empty() and len(tb.sink.read_queue) == 0
        assert accepted == cfg["ShortcutDepth"] + 2 and accepted + 1 < K, accepted
        await ClockCycles(dut.clk_i, 100)
        assert accepted == cfg["ShortcutDepth"] + 2 and not int(dut.s_axis_tready.value)
        return

    # whole frames, a share under each idle x backpressure pair in turn
    chunks = np.array_split(x.reshape(-1, FRAME, PE), len(STALL_PAIRS))
    for chunk, pair in zip(chunks, tb.stall_pairs(seed=3), strict=True):
        chunk = chunk.reshape(-1, PE)
        got = await tb.transfer(pack_beats(chunk, 8, PE), len(chunk), max_cycles=8 * len(chunk) + 1000)
        out = unpack_beats(got, 8, PE, signed=True).reshape(chunk.shape)
        ref = residual_golden(chunk)
        assert np.array_equal(out, ref), f"{pair}: first mismatch at beat {np.argwhere(out != ref)[0]}"


@pytest.mark.sim
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_residual(case):
    assert case.beats % FRAME == 0
    params = dict(PE=PE, Lookahead=K, FrameBeats=FRAME, ShortcutDepth=case.shortcut_depth)
    run_sim(
        "residual",
        __file__,
        params,
        dict(params, beats=case.beats, expect_deadlock=case.expect_deadlock),
        sources=["stream_dup.sv", "stream_add.sv"],
        extra_sources=[HERE / "tb_fifo.sv", HERE / "residual_top.sv"],
        toplevel="residual_top",
    )
