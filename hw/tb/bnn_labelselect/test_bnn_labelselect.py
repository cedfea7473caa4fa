"""bnn_labelselect against hw.golden.bnn_labelselect (ONNX TopK order, ties to the lower index);
every idle x backpressure pair, mid-frame reset."""

from typing import NamedTuple

import cocotb
import numpy as np
import pytest

from hw.golden.bnn_labelselect import label_select
from hw.golden.stream import pack_beats
from hw.tb.common import TB, run_sim, sim_cfg


class Case(NamedTuple):
    name: str
    labels: int
    pe: int
    k: int
    input_bits: int
    signed: int

    def params(self) -> dict:
        return dict(Labels=self.labels, PE=self.pe, K=self.k, InputBits=self.input_bits, Signed=self.signed, OutBits=8)


CASES = [
    Case("cifar10_pe1_top1", labels=10, pe=1, k=1, input_bits=10, signed=1),
    Case("pe5_top3", labels=10, pe=5, k=3, input_bits=8, signed=1),
    Case("unsigned_onefold_all", labels=6, pe=6, k=6, input_bits=4, signed=0),
]
N_FRAMES = 8


def random_scores(cfg, rng, n):
    ib, sg, labels = cfg["InputBits"], cfg["Signed"], cfg["Labels"]
    lo, hi = (-(2 ** (ib - 1)), 2 ** (ib - 1) - 1) if sg else (0, 2**ib - 1)
    x = rng.integers(lo, hi + 1, size=(n, labels))
    x[0, :] = hi  # all tied
    x[1, :] = rng.integers(lo, lo + 3, size=labels)  # many ties at the bottom of the range
    return x


@cocotb.test()
async def stream_all_stall_modes_and_reset(dut):
    cfg = sim_cfg()
    rng = np.random.default_rng(11)
    tb = TB(dut)
    await tb.reset()
    labels, pe, k, ib = cfg["Labels"], cfg["PE"], cfg["K"], cfg["InputBits"]

    async def check(n):
        x = random_scores(cfg, rng, n)
        got = await tb.transfer(pack_beats(x, ib, pe), n * k, max_cycles=8 * n * (labels + k) + 200)
        out = np.array(got).reshape(n, k)
        assert np.array_equal(out, label_select(x, k)), f"mismatch\n{out}\n{label_select(x, k)}"

    for _ in tb.stall_pairs():
        await check(N_FRAMES)
    from cocotbext.axi import AxiStreamFrame

    tb.set_stalls("random", seed=5)
    await tb.source.send(AxiStreamFrame(pack_beats(random_scores(cfg, rng, 2), ib, pe)))
    await tb.cycles(labels + labels // 2)
    await tb.reset()
    await check(2)


@pytest.mark.sim
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bnn_labelselect(case):
    run_sim("bnn_labelselect", __file__, case.params(), case.params())
