"""axis_skid passes every beat once and in order under every idle x backpressure pair and a mid-stream reset."""

import random

import cocotb
import pytest

from hw.tb.common import TB, run_sim, sim_cfg


@cocotb.test()
async def stream_all_stall_modes_and_reset(dut):
    width = sim_cfg()["DataWidth"]
    rng = random.Random(5)
    tb = TB(dut)
    await tb.reset()
    for pair in tb.stall_pairs():
        beats = [rng.getrandbits(width) for _ in range(200)]
        assert await tb.transfer(beats, len(beats), max_cycles=2000) == beats, pair
    from cocotbext.axi import AxiStreamFrame

    await tb.source.send(AxiStreamFrame([rng.getrandbits(width) for _ in range(50)]))
    await tb.cycles(20)
    await tb.reset()
    beats = [rng.getrandbits(width) for _ in range(50)]
    assert await tb.transfer(beats, len(beats), max_cycles=1000) == beats


@pytest.mark.sim
def test_axis_skid():
    params = {"DataWidth": 7}
    run_sim("axis_skid", __file__, params, params)
