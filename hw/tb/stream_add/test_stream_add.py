"""stream_add against hw.golden.stream_add.add_clamp: two AXI-stream sources (s0, s1) joined into one
sink, every idle x backpressure pair (each port its own random stream), skewed inputs, mid-frame reset;
full-range (FINN AddStreams) and saturating int8 (Bi-Real residual) cases."""

from typing import NamedTuple

import cocotb
import numpy as np
import pytest

from hw.golden.stream import int_range, pack_beats, unpack_beats
from hw.golden.stream_add import add_clamp
from hw.tb.common import TB, run_sim, sim_cfg


class Case(NamedTuple):
    name: str
    pe: int
    a_bits: int
    a_signed: int
    b_bits: int
    b_signed: int
    out_bits: int
    clamp: tuple[int, int, int]  # (Offset, OutMin, OutMax): y = clamp(a + b + Offset, OutMin, OutMax)

    def params(self) -> dict:
        offset, out_min, out_max = self.clamp
        return dict(PE=self.pe, ABits=self.a_bits, ASigned=self.a_signed, BBits=self.b_bits, BSigned=self.b_signed,
                    OutBits=self.out_bits, Offset=offset, OutMin=out_min, OutMax=out_max)  # fmt: skip


CASES = [
    Case("int8_saturating_pe4", pe=4, a_bits=8, a_signed=1, b_bits=8, b_signed=1, out_bits=8, clamp=(0, -128, 127)),
    Case("addstreams_full_pe1", pe=1, a_bits=8, a_signed=1, b_bits=8, b_signed=1, out_bits=9, clamp=(0, -256, 255)),
    Case("u3_s5_offset_pe3", pe=3, a_bits=3, a_signed=0, b_bits=5, b_signed=1, out_bits=4, clamp=(-7, 0, 11)),
]
BEATS = 37  # beats per frame (odd)
N_FRAMES = 2


@cocotb.test()
async def stream_all_stall_modes_and_reset(dut):
    cfg = sim_cfg()
    rng = np.random.default_rng(17)
    tb = TB(dut, sources=("s0_axis", "s1_axis"))
    await tb.reset()
    pe, ab, bb, ob = cfg["PE"], cfg["ABits"], cfg["BBits"], cfg["OutBits"]
    alo, ahi = int_range(ab, bool(cfg["ASigned"]))
    blo, bhi = int_range(bb, bool(cfg["BSigned"]))

    def frames(n):
        return rng.integers(alo, ahi + 1, size=(n, BEATS, pe)), rng.integers(blo, bhi + 1, size=(n, BEATS, pe))

    async def check(n, skew=0):
        a, b = frames(n)
        a[0, 0], b[0, 0], a[0, 1], b[0, 1] = ahi, bhi, alo, blo  # both saturation corners
        inputs = [pack_beats(a, ab, pe), pack_beats(b, bb, pe)]
        [got] = await tb.transfer_all(inputs, [n * BEATS], 10 * n * BEATS + 200, starts=[0, skew])
        out = unpack_beats(got, ob, pe, cfg["OutMin"] < 0).reshape(a.shape)
        ref = add_clamp(a, b, cfg["Offset"], cfg["OutMin"], cfg["OutMax"])
        assert np.array_equal(out, ref), f"mismatch\n{out}\n{ref}"

    for _ in tb.stall_pairs():
        await check(N_FRAMES)
    # s1 starts 25 cycles after s0 (s0 must wait, nothing consumed alone)
    tb.set_stalls("random", seed=10)
    await check(1, skew=25)
    # a reset in the middle of a frame (inputs skewed), then clean frames
    from cocotb.triggers import ClockCycles
    from cocotbext.axi import AxiStreamFrame

    tb.set_stalls("random", seed=11)
    a, b = frames(1)
    await tb.sources[0].send(AxiStreamFrame(pack_beats(a, ab, pe)))
    await ClockCycles(dut.clk_i, 20)
    await tb.sources[1].send(AxiStreamFrame(pack_beats(b, bb, pe)))
    await ClockCycles(dut.clk_i, BEATS // 2)
    await tb.reset()
    await check(N_FRAMES)


@pytest.mark.sim
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_stream_add(case):
    run_sim("stream_add", __file__, case.params(), case.params())
