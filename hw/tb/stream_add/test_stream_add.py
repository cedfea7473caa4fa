"""stream_add against hw.golden.stream_add.add_clamp: two AXI-stream sources (s0, s1) joined into one
sink, independent stalls on all three ports, mid-frame reset; full-range (FINN AddStreams) and
saturating int8 (Bi-Real residual) cases."""

import logging

import cocotb
import numpy as np
import pytest

from hw.golden.stream import int_range, pack_beats, unpack_beats
from hw.golden.stream_add import add_clamp
from hw.tb.common import STALL_MODES, pause_generator, run_sim, sim_cfg

# (name, PE, ABits, ASigned, BBits, BSigned, OutBits, Offset, OutMin, OutMax)
CASES = [
    ("int8_saturating_pe4", 4, 8, 1, 8, 1, 8, 0, -128, 127),
    ("addstreams_full_pe1", 1, 8, 1, 8, 1, 9, 0, -256, 255),
    ("u3_s5_offset_pe3", 3, 3, 0, 5, 1, 4, -7, 0, 11),
]
BEATS = 37  # beats per frame (odd)
N_FRAMES = 2


class JoinTB:
    """Clock, reset, sources on s0_axis/s1_axis, sink on m_axis, AXI-stream rule monitor on m_axis."""

    def __init__(self, dut):
        from cocotb.clock import Clock
        from cocotbext.axi import AxiStreamBus, AxiStreamSink, AxiStreamSource

        self.dut = dut
        cocotb.start_soon(Clock(dut.clk_i, 10, unit="ns").start())
        kw = dict(reset_active_level=False, byte_lanes=1)
        self.src = [
            AxiStreamSource(AxiStreamBus.from_prefix(dut, f"s{i}_axis"), dut.clk_i, dut.rst_ni, **kw) for i in range(2)
        ]
        self.sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.clk_i, dut.rst_ni, **kw)
        for bfm in (*self.src, self.sink):
            bfm.log.setLevel(logging.WARNING)
        self.errors: list[str] = []
        cocotb.start_soon(self._monitor())

    async def _monitor(self):
        from cocotb.triggers import RisingEdge

        dut, held = self.dut, None
        while True:
            await RisingEdge(dut.clk_i)
            if not dut.rst_ni.value.is_resolvable or not int(dut.rst_ni.value):
                held = None
                continue
            sigs = (dut.m_axis_tvalid, dut.s0_axis_tready, dut.s1_axis_tready)
            if not all(s.value.is_resolvable for s in sigs):
                self.errors.append("X/Z on m_axis_tvalid or s*_axis_tready")
                continue
            valid, ready = int(dut.m_axis_tvalid.value), int(dut.m_axis_tready.value)
            if held is not None and (not valid or int(dut.m_axis_tdata.value) != held):
                self.errors.append("m_axis_tvalid dropped or tdata changed before tready")
            held = int(dut.m_axis_tdata.value) if valid and not ready else None

    def set_stalls(self, mode: str, seed: int):
        for i, bfm in enumerate((*self.src, self.sink)):
            bfm.set_pause_generator(pause_generator(mode, 3 * seed + i))

    async def reset(self):
        from cocotb.triggers import ClockCycles, RisingEdge

        await RisingEdge(self.dut.clk_i)
        self.dut.rst_ni.value = 0
        await ClockCycles(self.dut.clk_i, 3)
        for bfm in self.src:
            bfm.clear()
        self.sink.clear()
        self.sink.read_queue.clear()
        self.dut.rst_ni.value = 1
        await RisingEdge(self.dut.clk_i)

    async def transfer(self, a_beats, b_beats, max_cycles: int, skew: int = 0) -> list[int]:
        """Send both inputs (s1 starts `skew` cycles after s0), return the output beats."""
        from cocotb.triggers import ClockCycles, with_timeout
        from cocotbext.axi import AxiStreamFrame

        await self.src[0].send(AxiStreamFrame(list(a_beats)))
        if skew:
            await ClockCycles(self.dut.clk_i, skew)
        await self.src[1].send(AxiStreamFrame(list(b_beats)))
        got: list[int] = []

        async def collect():
            while len(got) < len(a_beats):
                got.extend(await self.sink.read())

        await with_timeout(collect(), max_cycles * 10, "ns")
        await ClockCycles(self.dut.clk_i, 8)
        got.extend(self.sink.read_nowait())
        assert len(got) == len(a_beats), f"expected {len(a_beats)} output beats, got {len(got)}"
        assert not self.errors, self.errors[:5]
        return got


@cocotb.test()
async def stream_all_stall_modes_and_reset(dut):
    cfg = sim_cfg()
    rng = np.random.default_rng(17)
    tb = JoinTB(dut)
    await tb.reset()
    pe, ab, bb, ob = cfg["PE"], cfg["ABits"], cfg["BBits"], cfg["OutBits"]
    alo, ahi = int_range(ab, bool(cfg["ASigned"]))
    blo, bhi = int_range(bb, bool(cfg["BSigned"]))

    def frames(n):
        return rng.integers(alo, ahi + 1, size=(n, BEATS, pe)), rng.integers(blo, bhi + 1, size=(n, BEATS, pe))

    async def check(n, skew=0):
        a, b = frames(n)
        a[0, 0], b[0, 0], a[0, 1], b[0, 1] = ahi, bhi, alo, blo  # both saturation corners
        got = await tb.transfer(pack_beats(a, ab, pe), pack_beats(b, bb, pe), 10 * n * BEATS + 200, skew)
        out = unpack_beats(got, ob, pe, cfg["OutMin"] < 0).reshape(a.shape)
        ref = add_clamp(a, b, cfg["Offset"], cfg["OutMin"], cfg["OutMax"])
        assert np.array_equal(out, ref), f"mismatch\n{out}\n{ref}"

    for i, mode in enumerate(STALL_MODES):
        tb.set_stalls(mode, seed=i)
        await check(N_FRAMES)
    # s1 starts 25 cycles after s0 (s0 must wait, nothing consumed alone)
    tb.set_stalls("random", seed=6)
    await check(1, skew=25)
    # a reset in the middle of a frame (inputs skewed), then clean frames
    from cocotb.triggers import ClockCycles
    from cocotbext.axi import AxiStreamFrame

    tb.set_stalls("random", seed=7)
    a, b = frames(1)
    await tb.src[0].send(AxiStreamFrame(pack_beats(a, ab, pe)))
    await ClockCycles(dut.clk_i, 20)
    await tb.src[1].send(AxiStreamFrame(pack_beats(b, bb, pe)))
    await ClockCycles(dut.clk_i, BEATS // 2)
    await tb.reset()
    await check(N_FRAMES)


@pytest.mark.sim
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_stream_add(case):
    _, pe, ab, asg, bb, bsg, ob, off, omin, omax = case
    params = dict(PE=pe, ABits=ab, ASigned=asg, BBits=bb, BSigned=bsg, OutBits=ob, Offset=off, OutMin=omin, OutMax=omax)
    run_sim("stream_add", __file__, params, params)
