"""bnn_globalaccpool against hw.golden.bnn_globalaccpool: (pixel, channel fold) stream order, every idle
x backpressure pair, mid-image reset; the golden output width is checked against FINN's GlobalAccPool type."""

from typing import NamedTuple

import cocotb
import numpy as np
import pytest

from hw.golden.bnn_globalaccpool import global_acc_pool, globalacc_bits
from hw.golden.stream import int_range, pack_beats, unpack_beats
from hw.tb.common import TB, run_sim, sim_cfg


class Case(NamedTuple):
    name: str
    channels: int
    pe: int
    pixels: int
    in_bits: int
    in_signed: int

    def params(self) -> dict:
        """HDL parameters; OutBits = FINN's output type width (test_out_bits_match_finn)."""
        out_bits = globalacc_bits(self.pixels, self.in_bits, bool(self.in_signed))
        return dict(Channels=self.channels, PE=self.pe, Pixels=self.pixels, InBits=self.in_bits,
                    InSigned=self.in_signed, OutBits=out_bits)  # fmt: skip


CASES = [
    Case("s8_c4_pe1_p4", channels=4, pe=1, pixels=4, in_bits=8, in_signed=1),
    Case("u3_c6_pe3_p7", channels=6, pe=3, pixels=7, in_bits=3, in_signed=0),
    Case("s2_c5_onefold_p9", channels=5, pe=5, pixels=9, in_bits=2, in_signed=1),
    Case("s4_c3_pe1_p1", channels=3, pe=1, pixels=1, in_bits=4, in_signed=1),
]
N_IMG = 3


@cocotb.test()
async def stream_all_stall_modes_and_reset(dut):
    cfg = sim_cfg()
    rng = np.random.default_rng(4)
    tb = TB(dut)
    await tb.reset()
    c, pe, npix, ib, ob = cfg["Channels"], cfg["PE"], cfg["Pixels"], cfg["InBits"], cfg["OutBits"]
    n_in, n_out = npix * c // pe, c // pe
    lo, hi = int_range(ib, bool(cfg["InSigned"]))

    def images(n):
        x = rng.integers(lo, hi + 1, size=(n, npix, c))
        x[0] = hi if n > 1 else x[0]  # one all-max image: the extreme unsigned sum
        x[-1, :, 0] = lo  # channel 0 all-min: the extreme signed sum
        return x

    async def check(n):
        x = images(n)
        got = await tb.transfer(pack_beats(x, ib, pe), n * n_out, max_cycles=8 * n * n_in + 200)
        out = unpack_beats(got, ob, pe, bool(cfg["InSigned"])).reshape(n, c)
        assert np.array_equal(out, global_acc_pool(x)), f"mismatch\n{out}\n{global_acc_pool(x)}"

    for _ in tb.stall_pairs():
        await check(N_IMG)
    from cocotbext.axi import AxiStreamFrame

    tb.set_stalls("random", seed=5)
    await tb.source.send(AxiStreamFrame(pack_beats(images(1), ib, pe)))
    await tb.cycles(max(1, n_in // 2))
    await tb.reset()
    await check(2)


@pytest.mark.fast
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_out_bits_match_finn(case):
    from qonnx.core.datatype import DataType

    lo, hi = int_range(case.in_bits, bool(case.in_signed))
    finn = DataType.get_smallest_possible(case.pixels * (lo if case.in_signed else hi))
    assert finn.bitwidth() == case.params()["OutBits"] and finn.signed() == bool(case.in_signed)


@pytest.mark.sim
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bnn_globalaccpool(case):
    run_sim("bnn_globalaccpool", __file__, case.params(), case.params())
