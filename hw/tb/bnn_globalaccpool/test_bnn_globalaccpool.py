"""bnn_globalaccpool against hw.golden.bnn_globalaccpool: (pixel, channel fold) stream order, every stall
mode, mid-image reset; the golden output width is checked against FINN's GlobalAccPool type."""

import cocotb
import numpy as np
import pytest

from hw.golden.bnn_globalaccpool import global_acc_pool, globalacc_bits
from hw.golden.stream import int_range, pack_beats, unpack_beats
from hw.tb.common import STALL_MODES, TB, run_sim, sim_cfg

# (name, Channels, PE, Pixels, InBits, InSigned); OutBits = FINN's output type width
CASES = [
    ("s8_c4_pe1_p4", 4, 1, 4, 8, 1),
    ("u3_c6_pe3_p7", 6, 3, 7, 3, 0),
    ("s2_c5_onefold_p9", 5, 5, 9, 2, 1),
    ("s4_c3_pe1_p1", 3, 1, 1, 4, 1),
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

    for i, mode in enumerate(STALL_MODES):
        tb.set_stalls(mode, seed=i)
        await check(N_IMG)
    from cocotbext.axi import AxiStreamFrame

    tb.set_stalls("random", seed=5)
    await tb.source.send(AxiStreamFrame(pack_beats(images(1), ib, pe)))
    await tb.cycles(max(1, n_in // 2))
    await tb.reset()
    await check(2)


@pytest.mark.fast
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_out_bits_match_finn(case):
    from qonnx.core.datatype import DataType

    _, _, _, npix, ib, sg = case
    lo, hi = int_range(ib, bool(sg))
    finn = DataType.get_smallest_possible(npix * (lo if sg else hi))
    assert finn.bitwidth() == globalacc_bits(npix, ib, bool(sg)) and finn.signed() == bool(sg)


@pytest.mark.sim
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bnn_globalaccpool(case):
    _, c, pe, npix, ib, sg = case
    params = dict(Channels=c, PE=pe, Pixels=npix, InBits=ib, InSigned=sg, OutBits=globalacc_bits(npix, ib, bool(sg)))
    run_sim("bnn_globalaccpool", __file__, params, params)
