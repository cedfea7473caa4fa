"""stream_requant against hw.golden.stream_requant (clamp form, checked equal to the MultiThreshold unit
staircase and to qonnx's multithreshold); every idle x backpressure pair, mid-frame reset."""

from typing import NamedTuple

import cocotb
import numpy as np
import pytest

from hw.golden.stream import int_range, pack_beats, unpack_beats
from hw.golden.stream_requant import requant_clamp, requant_staircase, staircase_thresholds, staircase_to_clamp
from hw.tb.common import TB, run_sim, sim_cfg


class Case(NamedTuple):
    name: str
    pe: int
    in_bits: int
    in_signed: int
    out_bits: int
    clamp: tuple[int, int, int]  # (Offset, OutMin, OutMax): y = clamp(x + Offset, OutMin, OutMax)

    def params(self) -> dict:
        offset, out_min, out_max = self.clamp
        return dict(PE=self.pe, InBits=self.in_bits, InSigned=self.in_signed, OutBits=self.out_bits,
                    Offset=offset, OutMin=out_min, OutMax=out_max)  # fmt: skip


CASES = [
    Case("int9_to_int8_pe4", pe=4, in_bits=9, in_signed=1, out_bits=8, clamp=(0, -128, 127)),
    # MultiThreshold staircase t0 = 20, N = 5, out_bias = -2 on a UINT7 input
    Case("staircase_u7_pe1", pe=1, in_bits=7, in_signed=0, out_bits=3, clamp=staircase_to_clamp(20, 5, -2)),
    Case("s5_to_u4_pe3", pe=3, in_bits=5, in_signed=1, out_bits=4, clamp=(9, 0, 13)),
]
BEATS = 41  # beats per frame (odd)
N_FRAMES = 2


@cocotb.test()
async def stream_all_stall_modes_and_reset(dut):
    cfg = sim_cfg()
    rng = np.random.default_rng(11)
    tb = TB(dut)
    await tb.reset()
    pe, ib, ob = cfg["PE"], cfg["InBits"], cfg["OutBits"]
    lo, hi = int_range(ib, bool(cfg["InSigned"]))

    def frames(n):
        return rng.integers(lo, hi + 1, size=(n, BEATS, pe))

    async def check(n):
        x = frames(n)
        got = await tb.transfer(pack_beats(x, ib, pe), n * BEATS, max_cycles=8 * n * BEATS + 200)
        out = unpack_beats(got, ob, pe, cfg["OutMin"] < 0).reshape(x.shape)
        ref = requant_clamp(x, cfg["Offset"], cfg["OutMin"], cfg["OutMax"])
        assert np.array_equal(out, ref), f"mismatch\n{x}\n{out}\n{ref}"

    for _ in tb.stall_pairs():
        await check(N_FRAMES)
    from cocotbext.axi import AxiStreamFrame

    tb.set_stalls("random", seed=5)
    await tb.source.send(AxiStreamFrame(pack_beats(frames(1), ib, pe)))
    await tb.cycles(BEATS // 2)
    await tb.reset()
    await check(1)


@pytest.mark.fast
def test_staircase_equals_clamp_and_qonnx():
    from qonnx.custom_op.general.multithreshold import multithreshold

    rng = np.random.default_rng(2)
    for _ in range(50):
        t0, n, b = int(rng.integers(-300, 300)), int(rng.integers(1, 40)), int(rng.integers(-64, 64))
        x = np.arange(t0 - n - 5, t0 + 2 * n + 5)
        stair = requant_staircase(x, t0, n, b)
        assert np.array_equal(stair, requant_clamp(x, *staircase_to_clamp(t0, n, b)))
        T = np.tile(staircase_thresholds(t0, n), (3, 1)).astype(np.float32)  # 3 channels, same T
        v = np.repeat(x[:, None], 3, axis=1).astype(np.float32)
        ref = multithreshold(v, T, out_scale=1.0, out_bias=float(b))
        assert np.array_equal(ref[:, 0], stair)


@pytest.mark.sim
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_stream_requant(case):
    run_sim("stream_requant", __file__, case.params(), case.params())
