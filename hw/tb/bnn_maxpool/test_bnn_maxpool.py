"""bnn_maxpool against hw.golden.bnn_maxpool: NHWC stream order, every idle x backpressure
pair, mid-frame reset."""

from typing import NamedTuple

import cocotb
import numpy as np
import pytest

from hw.golden.bnn_maxpool import maxpool_nhwc
from hw.golden.stream import pack_beats, unpack_beats
from hw.tb.common import TB, run_sim, sim_cfg


class Case(NamedTuple):
    name: str
    img_dim: int
    channels: int
    pe: int
    kernel: int
    elem_bits: int
    signed: int

    def params(self) -> dict:
        return dict(ImgDim=self.img_dim, Channels=self.channels, PE=self.pe, Kernel=self.kernel,
                    ElemBits=self.elem_bits, Signed=self.signed)  # fmt: skip


CASES = [
    Case("bin_cnv_like", img_dim=8, channels=8, pe=4, kernel=2, elem_bits=1, signed=0),
    Case("bin_pe1_c3_k3", img_dim=6, channels=3, pe=1, kernel=3, elem_bits=1, signed=0),
    Case("int3s_onefold", img_dim=4, channels=6, pe=6, kernel=2, elem_bits=3, signed=1),
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

    for _ in tb.stall_pairs():
        await check(N_IMG)
    # reset in the middle of an image, then a clean image
    from cocotbext.axi import AxiStreamFrame

    tb.set_stalls("random", seed=5)
    await tb.source.send(AxiStreamFrame(pack_beats(random_images(cfg, rng, 1), eb, pe)))
    await tb.cycles(n_in)
    await tb.reset()
    await check(1)


@pytest.mark.sim
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bnn_maxpool(case):
    run_sim("bnn_maxpool", __file__, case.params(), case.params())
