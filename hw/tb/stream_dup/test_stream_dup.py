"""stream_dup: every input beat once and in order on both outputs, the two outputs stalled
independently (none, fixed, seeded random with separate streams, one output blocked for a long
stretch), mid-stream reset."""

import itertools
import logging
import random

import cocotb
import pytest

from hw.golden.stream_dup import duplicate
from hw.tb.common import STALL_MODES, pause_generator, run_sim, sim_cfg

WIDTHS = [8, 1, 37]
BEATS = 150


class ForkTB:
    """Clock, reset, source on s_axis, sinks on m0_axis/m1_axis, AXI-stream rule monitor on both."""

    def __init__(self, dut):
        from cocotb.clock import Clock
        from cocotbext.axi import AxiStreamBus, AxiStreamSink, AxiStreamSource

        self.dut = dut
        cocotb.start_soon(Clock(dut.clk_i, 10, unit="ns").start())
        kw = dict(reset_active_level=False, byte_lanes=1)
        self.src = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.clk_i, dut.rst_ni, **kw)
        self.sinks = [
            AxiStreamSink(AxiStreamBus.from_prefix(dut, f"m{i}_axis"), dut.clk_i, dut.rst_ni, **kw) for i in range(2)
        ]
        for bfm in (self.src, *self.sinks):
            bfm.log.setLevel(logging.WARNING)
        self.errors: list[str] = []
        self.count = [0, 0]  # beats handed over on m0, m1 since reset
        for i in range(2):
            cocotb.start_soon(self._monitor(i))

    async def _monitor(self, i: int):
        from cocotb.triggers import RisingEdge

        dut, held, port = self.dut, None, f"m{i}_axis"
        valid_s, ready_s, data_s = (getattr(dut, f"{port}_{n}") for n in ("tvalid", "tready", "tdata"))
        while True:
            await RisingEdge(dut.clk_i)
            if not dut.rst_ni.value.is_resolvable or not int(dut.rst_ni.value):
                held = None
                self.count[i] = 0
                continue
            if not (valid_s.value.is_resolvable and dut.s_axis_tready.value.is_resolvable):
                self.errors.append(f"X/Z on {port}_tvalid or s_axis_tready")
                continue
            valid, ready = int(valid_s.value), int(ready_s.value)
            if held is not None and (not valid or int(data_s.value) != held):
                self.errors.append(f"{port}_tvalid dropped or tdata changed before tready")
            held = int(data_s.value) if valid and not ready else None
            self.count[i] += valid and ready

    def set_stalls(self, mode: str, seed: int):
        for i, bfm in enumerate((self.src, *self.sinks)):
            bfm.set_pause_generator(pause_generator(mode, 3 * seed + i))

    async def reset(self):
        from cocotb.triggers import ClockCycles, RisingEdge

        await RisingEdge(self.dut.clk_i)
        self.dut.rst_ni.value = 0
        await ClockCycles(self.dut.clk_i, 3)
        self.src.clear()
        for s in self.sinks:
            s.clear()
            s.read_queue.clear()
        self.dut.rst_ni.value = 1
        await RisingEdge(self.dut.clk_i)

    async def transfer(self, beats, max_cycles: int) -> tuple[list[int], list[int]]:
        from cocotb.triggers import ClockCycles, with_timeout
        from cocotbext.axi import AxiStreamFrame

        await self.src.send(AxiStreamFrame(list(beats)))
        got: list[list[int]] = [[], []]

        async def collect():
            while min(len(g) for g in got) < len(beats):
                for g, s in zip(got, self.sinks, strict=True):
                    g.extend(s.read_nowait())
                await ClockCycles(self.dut.clk_i, 1)

        await with_timeout(collect(), max_cycles * 10, "ns")
        await ClockCycles(self.dut.clk_i, 8)
        for g, s in zip(got, self.sinks, strict=True):
            g.extend(s.read_nowait())
            assert len(g) == len(beats), f"expected {len(beats)} beats, got {len(g)}"
        assert not self.errors, self.errors[:5]
        return got[0], got[1]


@cocotb.test()
async def both_outputs_every_stall_mode_and_reset(dut):
    width = sim_cfg()["Width"]
    rng = random.Random(9)
    tb = ForkTB(dut)
    await tb.reset()

    async def check(n, **kw):
        from cocotb.utils import get_sim_time

        beats = [rng.getrandbits(width) for _ in range(n)]
        t0 = get_sim_time(unit="ns")
        got = await tb.transfer(beats, max_cycles=kw.get("max_cycles", 12 * n + 200))
        assert list(got) == [list(x) for x in duplicate(beats)]
        return (get_sim_time(unit="ns") - t0) / 10

    for i, mode in enumerate(STALL_MODES):
        tb.set_stalls(mode, seed=i)
        cycles = await check(BEATS)
        if mode == "none":  # 1 beat/cycle: BEATS cycles + latency + the 8 drain cycles of transfer()
            assert cycles <= BEATS + 16, cycles
    # the two outputs at very different random rates
    tb.src.set_pause_generator(None)
    tb.sinks[0].set_pause_generator(pause_generator("random", 40))
    slow = random.Random(41)
    tb.sinks[1].set_pause_generator(slow.random() < 0.85 for _ in itertools.count())
    await check(BEATS, max_cycles=40 * BEATS)
    # m1 blocked for 100 cycles: m0 runs ahead by the 3 beats m1's skid buffer and the fork hold
    # (beats 0, 1 wait in m1's buffer, beat 2 went to m0 only), then everything arrives
    from cocotb.triggers import ClockCycles

    tb.set_stalls("none", seed=0)
    tb.sinks[1].pause = True
    c0, c1 = tb.count
    task = cocotb.start_soon(check(BEATS))
    await ClockCycles(dut.clk_i, 100)
    assert (tb.count[0] - c0, tb.count[1] - c1) == (3, 0), tb.count
    tb.sinks[1].pause = False
    await task
    # reset in the middle of a stream, then clean beats
    from cocotbext.axi import AxiStreamFrame

    tb.set_stalls("random", seed=5)
    await tb.src.send(AxiStreamFrame([rng.getrandbits(width) for _ in range(50)]))
    await ClockCycles(dut.clk_i, 20)
    await tb.reset()
    await check(60)


@pytest.mark.sim
@pytest.mark.parametrize("width", WIDTHS, ids=[f"Width{w}" for w in WIDTHS])
def test_stream_dup(width):
    params = {"Width": width}
    run_sim("stream_dup", __file__, params, params)
