"""bnn_maxpool against hw.golden.bnn_maxpool: NHWC stream order, every stall mode, mid-frame reset."""

import cocotb
import numpy as np
import pytest

from hw.golden.bnn_maxpool import maxpool_nhwc
from hw.golden.stream import pack_beats, unpack_beats
from hw.tb.common import STALL_MODES, TB, run_sim, sim_cfg

# (name, ImgDim, Channels, PE, Kernel, ElemBits, Signed)
CASES = [
    ("bin_cnv_like", 8, 8, 4, 2, 1, 0),
    ("bin_pe1_c3_k3", 6, 3, 1, 3, 1, 0),
    ("int3s_onefold", 4, 6, 6, 2, 3, 1),
]
N_IMG = 2


def random_images(cfg, rng, n):
    d, c, eb, sg = cfg["ImgDim"], cfg["Channels"], cfg["ElemBits"], cfg["Signed"]
    lo, hi = (-(2 ** (eb - 1)), 2 ** (eb - 1) - 1) if sg else (0, 2**eb - 1)
    return rng.integers(lo, hi + 1, size=(n, d, d, c))


@cocotb.test()
async def stream_all_stall_modes_and_reset(dut):
    cfg = sim_cfg()
    rng = np.random.default_rng(3)
    tb = TB(dut)
    await tb.reset()
    d, c, pe, k, eb = cfg["ImgDim"], cfg["Channels"], cfg["PE"], cfg["Kernel"], cfg["ElemBits"]
    n_in = d * d * c // pe
    n_out = (d // k) ** 2 * c // pe

    async def check(n):
        x = random_images(cfg, rng, n)
        got = await tb.transfer(pack_beats(x, eb, pe), n * n_out, max_cycles=8 * n * n_in + 200)
        out = unpack_beats(got, eb, pe, bool(cfg["Signed"])).reshape(n, d // k, d // k, c)
        assert np.array_equal(out, maxpool_nhwc(x, k)), f"mismatch\n{out}\n{maxpool_nhwc(x, k)}"

    for i, mode in enumerate(STALL_MODES):
        tb.set_stalls(mode, seed=i)
        await check(N_IMG)
    # reset in the middle of an image, then a clean image
    from cocotbext.axi import AxiStreamFrame

    tb.set_stalls("random", seed=5)
    await tb.source.send(AxiStreamFrame(pack_beats(random_images(cfg, rng, 1), eb, pe)))
    await tb.cycles(n_in)
    await tb.reset()
    await check(1)


@pytest.mark.sim
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bnn_maxpool(case):
    _, d, c, pe, k, eb, sg = case
    params = dict(ImgDim=d, Channels=c, PE=pe, Kernel=k, ElemBits=eb, Signed=sg)
    run_sim("bnn_maxpool", __file__, params, params)
