"""bnn_pool against hw.golden.bnn_pool: kernels, strides, padding and ceil-mode shapes on square and
non-square maps, per-channel min lanes, sum pools of bipolar / signed values; NHWC stream order,
every idle x backpressure pair, mid-frame reset."""

from typing import NamedTuple

import cocotb
import numpy as np
import pytest

from hw.golden.bnn_pool import pool_nhwc, pool_out_dim, sum_range
from hw.golden.stream import int_range, pack_beats, unpack_beats
from hw.sources import sv_mask
from hw.tb.common import TB, run_sim, sim_cfg


class Case(NamedTuple):
    name: str
    in_hw: tuple[int, int]
    channels: int
    pe: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    pads: tuple[int, int, int, int]  # top, left, bottom, right
    elem_bits: int = 1
    signed: int = 0
    bipolar: int = 0
    sum_mode: int = 0
    ceil: bool = False
    min_mask: int = 0

    def out_hw(self) -> tuple[int, int]:
        return tuple(
            pool_out_dim(self.in_hw[a], self.kernel[a], self.stride[a], self.pads[a], self.pads[a + 2], self.ceil)
            for a in (0, 1)
        )

    def out_bits(self) -> int:
        if not self.sum_mode:
            return self.elem_bits
        lo, hi = (-1, 1) if self.bipolar else int_range(self.elem_bits, bool(self.signed))
        lo, hi = sum_range(lo, hi, self.kernel)
        return max(hi.bit_length(), (-lo - 1).bit_length()) + 1

    def params(self) -> dict:
        """The HDL parameters (MinMask as a sized vector literal)."""
        return {
            **self.cfg(),
            "MinMask": sv_mask([(self.min_mask >> c) & 1 for c in range(self.channels)], self.channels),
        }

    def cfg(self) -> dict:
        (oh, ow) = self.out_hw()
        return dict(Channels=self.channels, PE=self.pe, InH=self.in_hw[0], InW=self.in_hw[1], KH=self.kernel[0],
                    KW=self.kernel[1], SH=self.stride[0], SW=self.stride[1], PadT=self.pads[0], PadL=self.pads[1],
                    OutH=oh, OutW=ow, ElemBits=self.elem_bits, Signed=self.signed, Bipolar=self.bipolar,
                    SumMode=self.sum_mode, OutBits=self.out_bits(), MinMask=self.min_mask)  # fmt: skip


CASES = [
    # bipolar / binary max pools (bits), FINN's floor mode on odd and non-square maps
    Case("max_k2s2_7x7", (7, 7), 4, 2, (2, 2), (2, 2), (0, 0, 0, 0)),
    Case("max_k2s2_5x9_pe1_c3", (5, 9), 3, 1, (2, 2), (2, 2), (0, 0, 0, 0)),
    # overlapping 3x3 stride 2, padding 1, ceil mode; half the channels take the min (XNOR-Net order)
    Case("max_k3s2_pad1_ceil_min", (6, 8), 6, 3, (3, 3), (2, 2), (1, 1, 1, 1), ceil=True, min_mask=0b100101),
    # rectangular kernel, stride above the kernel (skipped pixels), signed 3-bit codes, asymmetric pads
    Case("max_k2x3_s3x2_signed_pad", (7, 6), 4, 4, (2, 3), (3, 2), (1, 0, 0, 2), elem_bits=3, signed=1),
    # sum (average) pools: bipolar map with a zero pad, and a global pool of signed values
    Case("sum_bipolar_k3s1_pad1", (5, 6), 2, 2, (3, 3), (1, 1), (1, 1, 1, 1), bipolar=1, sum_mode=1),
    Case("sum_global_int4", (3, 5), 6, 2, (3, 5), (1, 1), (0, 0, 0, 0), elem_bits=4, signed=1, sum_mode=1),
]
N_IMG = 2


def decode(codes, cfg):
    """Stream codes -> the values they stand for (bipolar bit b is 2b - 1)."""
    return 2 * codes - 1 if cfg["Bipolar"] else codes


def golden(values, cfg):
    flip = [(cfg["MinMask"] >> c) & 1 for c in range(cfg["Channels"])]
    out = pool_nhwc(values, (cfg["KH"], cfg["KW"]), (cfg["SH"], cfg["SW"]), (cfg["PadT"], cfg["PadL"]),
                    (cfg["OutH"], cfg["OutW"]), "sum" if cfg["SumMode"] else "max", flip)  # fmt: skip
    return (out > 0).astype(np.int64) if cfg["Bipolar"] and not cfg["SumMode"] else out


@cocotb.test()
async def stream_all_stall_modes_and_reset(dut):
    cfg = sim_cfg()
    rng = np.random.default_rng(3)
    tb = TB(dut)
    await tb.reset()
    c, pe, eb = cfg["Channels"], cfg["PE"], cfg["ElemBits"]
    h, w, oh, ow = cfg["InH"], cfg["InW"], cfg["OutH"], cfg["OutW"]
    out_bits = cfg["OutBits"] if cfg["SumMode"] else eb
    signed_out = bool(cfg["SumMode"] or cfg["Signed"])
    lo, hi = int_range(eb, bool(cfg["Signed"]))
    n_in, n_out = h * w * c // pe, oh * ow * c // pe

    async def check(n):
        codes = rng.integers(lo, hi + 1, size=(n, h, w, c))
        got = await tb.transfer(pack_beats(codes, eb, pe), n * n_out, max_cycles=20 * n * n_in + 400)
        out = unpack_beats(got, out_bits, pe, signed_out).reshape(n, oh, ow, c)
        want = golden(decode(codes, cfg), cfg)
        assert np.array_equal(out, want), f"mismatch\n{out[..., 0]}\n{want[..., 0]}"

    for _ in tb.stall_pairs():
        await check(N_IMG)
    # reset in the middle of an image, then a clean image
    from cocotbext.axi import AxiStreamFrame

    tb.set_stalls("random", seed=5)
    await tb.source.send(AxiStreamFrame(pack_beats(rng.integers(lo, hi + 1, size=(1, h, w, c)), eb, pe)))
    await tb.cycles(n_in // 2)
    await tb.reset()
    await check(1)


@pytest.mark.sim
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bnn_pool(case):
    run_sim("bnn_pool", __file__, case.params(), case.cfg())
