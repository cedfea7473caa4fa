"""bnn_popcount against hw.golden.bnn_popcount: the value and the latency under a random enable."""

import cocotb
import numpy as np
import pytest

from hw.golden.bnn_popcount import popcount_xnor, schedule
from hw.tb.common import run_sim, sim_cfg

# (N, GroupSize, LevelsPerStage): one pair; a partial level-0 group; groups of 2 and 1 (a folded weight
# ROM of 4 / 5 address bits); heaps of 4..8 levels, SIMD not a multiple of 3 or 6; 2 levels per stage
CASES = [(1, 3, 1), (5, 3, 1), (25, 2, 1), (97, 1, 1), (64, 3, 1), (256, 3, 1), (300, 3, 2)]
CYCLES = 400


def as_int(bits: np.ndarray) -> int:
    return int("".join(str(int(b)) for b in bits[::-1]), 2)


@cocotb.test()
async def value_and_latency_under_random_enable(dut):
    from cocotb.clock import Clock
    from cocotb.triggers import RisingEdge, Timer

    cfg = sim_cfg()
    n, latency = cfg["N"], cfg["latency"]
    rng = np.random.default_rng(n)
    cocotb.start_soon(Clock(dut.clk_i, 10, unit="ns").start())
    dut.rst_ni.value = 0
    dut.en_i.value = 1
    dut.a_i.value = 0
    dut.b_i.value = 0
    dut.tag_i.value = 0
    for _ in range(3):
        await RisingEdge(dut.clk_i)
    dut.rst_ni.value = 1
    # extreme rows first (all equal, all different), then random; an input is taken on every enabled cycle
    a = rng.integers(0, 2, (CYCLES, n))
    b = rng.integers(0, 2, (CYCLES, n))
    b[0], b[1] = a[0], 1 - a[1]
    want = popcount_xnor(a, b)
    pipe = [None] * latency  # model of the enabled pipeline: (index) of what each stage holds
    checked = 0
    for i in range(CYCLES):
        en = bool(rng.random() < 0.7) or i < 2
        dut.en_i.value = int(en)
        dut.a_i.value = as_int(a[i])
        dut.b_i.value = as_int(b[i])
        dut.tag_i.value = (i % 127) + 1
        await RisingEdge(dut.clk_i)
        if en:
            pipe = [i, *pipe[:-1]]
        await Timer(1, unit="ns")
        j = pipe[-1]
        tag = int(dut.tag_o.value)
        if j is None:
            assert tag == 0, f"cycle {i}: tag {tag} out of an empty pipeline"
            continue
        assert tag == (j % 127) + 1, f"cycle {i}: tag {tag}, expected input {j} after {latency} stages"
        assert int(dut.y_o.value) == want[j], f"input {j}: popcount {int(dut.y_o.value)} != {want[j]}"
        checked += 1
    assert checked > CYCLES // 2


@pytest.mark.fast
@pytest.mark.parametrize("n,group", [(1, 3), (25, 2), (256, 3), (1024, 3), (97, 1)])
def test_schedule_converges_and_costs_under_1_6_lut_per_pair(n, group):
    s = schedule(n, group)
    assert max(s["heights"][-1]) <= 2 and s["heights"][0][0] == -(-n // group)
    if n >= 64 and group == 3:  # XNOR folded into level 0, ~1 LUT per removed heap bit after it
        assert s["luts"] / n < 1.45


@pytest.mark.sim
@pytest.mark.parametrize("case", CASES, ids=[f"N{c[0]}-G{c[1]}-L{c[2]}" for c in CASES])
def test_bnn_popcount(case):
    n, group, lps = case
    params = {"N": n, "GroupSize": group, "LevelsPerStage": lps, "TagBits": 7}
    run_sim("bnn_popcount", __file__, params, {"N": n, "latency": schedule(n, group, lps)["latency"]})
