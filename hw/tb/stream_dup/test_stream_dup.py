"""stream_dup: every input beat once and in order on both outputs under every idle x backpressure pair
(each output its own random stream), the two outputs at very different rates, one output blocked for a
long stretch, mid-stream reset."""

import itertools
import random

import cocotb
import pytest

from hw.golden.stream_dup import duplicate
from hw.tb.common import TB, pause_generator, run_sim, sim_cfg

WIDTHS = [8, 1, 37]
BEATS = 150


@cocotb.test()
async def both_outputs_every_stall_mode_and_reset(dut):
    width = sim_cfg()["Width"]
    rng = random.Random(9)
    tb = TB(dut, sinks=("m0_axis", "m1_axis"))
    await tb.reset()

    async def check(n, **kw):
        from cocotb.utils import get_sim_time

        beats = [rng.getrandbits(width) for _ in range(n)]
        t0 = get_sim_time(unit="ns")
        got = await tb.transfer_all([beats], [n, n], max_cycles=kw.get("max_cycles", 12 * n + 200))
        assert got == [list(x) for x in duplicate(beats)]
        return (get_sim_time(unit="ns") - t0) / 10

    for idle, backpressure in tb.stall_pairs():
        cycles = await check(BEATS)
        if idle == backpressure == "none":  # 1 beat/cycle: BEATS cycles + latency + the 8 drain cycles
            assert cycles <= BEATS + 16, cycles
    # the two outputs at very different random rates
    tb.source.set_pause_generator(None)
    tb.sinks[0].set_pause_generator(pause_generator("random", 40))
    slow = random.Random(41)
    tb.sinks[1].set_pause_generator(slow.random() < 0.85 for _ in itertools.count())
    await check(BEATS, max_cycles=40 * BEATS)
    # m1 blocked for 100 cycles: m0 runs ahead by the 3 beats m1's skid buffer and the fork hold
    # (beats 0, 1 wait in m1's buffer, beat 2 went to m0 only), then everything arrives
    from cocotb.triggers import ClockCycles

    tb.set_stalls("none", seed=0)
    tb.sinks[1].pause = True
    c0, c1 = tb.beats_out
    task = cocotb.start_soon(check(BEATS))
    await ClockCycles(dut.clk_i, 100)
    assert (tb.beats_out[0] - c0, tb.beats_out[1] - c1) == (3, 0), tb.beats_out
    tb.sinks[1].pause = False
    await task
    # reset in the middle of a stream, then clean beats
    from cocotbext.axi import AxiStreamFrame

    tb.set_stalls("random", seed=12)
    await tb.source.send(AxiStreamFrame([rng.getrandbits(width) for _ in range(50)]))
    await ClockCycles(dut.clk_i, 20)
    await tb.reset()
    await check(60)


@pytest.mark.sim
@pytest.mark.parametrize("width", WIDTHS, ids=[f"Width{w}" for w in WIDTHS])
def test_stream_dup(width):
    params = {"Width": width}
    run_sim("stream_dup", __file__, params, params)
