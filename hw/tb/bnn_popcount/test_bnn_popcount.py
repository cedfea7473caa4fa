"""bnn_popcount against hw.golden.bnn_popcount: the value and the latency under a random enable, in XNOR
and integer mode."""

import cocotb
import numpy as np
import pytest

from hw.golden.bnn_popcount import out_bits, pm1_dot, popcount_xnor, schedule
from hw.sources import RTL_DEPENDENCIES
from hw.tb.common import run_sim, sim_cfg

# (N, GroupSize, LevelsPerStage, InputBits (0: XNOR mode), InputSigned): one pair; a partial level-0
# group; groups of 2 and 1; deep heaps, N not a multiple of 3 or 7; 2 levels per stage; integer mode:
# a CNV first layer (27 unsigned bytes), signed 5-bit, 1-bit unsigned, one signed 16-bit term
CASES = [
    (1, 3, 1, 0, 0),
    (5, 3, 1, 0, 0),
    (25, 2, 1, 0, 0),
    (97, 1, 1, 0, 0),
    (64, 3, 1, 0, 0),
    (256, 3, 1, 0, 0),
    (300, 3, 2, 0, 0),
    (27, 3, 1, 8, 0),
    (20, 3, 2, 5, 1),
    (7, 3, 1, 1, 0),
    (1, 3, 1, 16, 1),
]
CYCLES = 400


def as_int(bits: np.ndarray) -> int:
    return int("".join(str(int(b)) for b in bits[::-1]), 2)


@cocotb.test()
async def value_and_latency_under_random_enable(dut):
    from cocotb.clock import Clock
    from cocotb.triggers import RisingEdge, Timer

    cfg = sim_cfg()
    n, latency, bits, signed = cfg["N"], cfg["latency"], cfg["bits"], cfg["signed"]
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
    # extreme rows first (all equal, all different / the extreme sums), then random; an input is taken on
    # every enabled cycle
    b = rng.integers(0, 2, (CYCLES, n))
    if bits == 0:
        a = rng.integers(0, 2, (CYCLES, n))
        b[0], b[1] = a[0], 1 - a[1]
        want, packed = popcount_xnor(a, b), a
    else:
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        x = rng.integers(lo, hi + 1, (CYCLES, n))
        x[0], x[1], x[2], b[0], b[1], b[2] = hi, lo, lo, 1, 1, 0
        want = pm1_dot(x, b) % (1 << out_bits(n, False, bits))
        packed = ((x[:, :, None] >> np.arange(bits)) & 1).reshape(CYCLES, n * bits)  # element i at bits i*B
    pipe = [None] * latency  # model of the enabled pipeline: (index) of what each stage holds
    checked = 0
    for i in range(CYCLES):
        en = bool(rng.random() < 0.7) or i < 2
        dut.en_i.value = int(en)
        dut.a_i.value = as_int(packed[i])
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
        assert int(dut.y_o.value) == want[j], f"input {j}: sum {int(dut.y_o.value)} != {want[j]}"
        checked += 1
    assert checked > CYCLES // 2


@pytest.mark.fast
@pytest.mark.parametrize("n,group", [(1, 3), (25, 2), (256, 3), (1024, 3), (97, 1)])
def test_schedule_converges_and_costs_about_1_lut_per_pair(n, group):
    s = schedule(n, group)
    assert max(s["heights"][-1]) <= 3 and s["heights"][0][0] == -(-n // group)
    if n >= 64 and group == 3:  # XNOR folded into level 0, 2 heap bits removed per LUT after it
        assert s["luts"] / n < 1.1


@pytest.mark.fast
def test_schedule_converges_within_the_rtl_table():
    """The RTL's elaboration table holds 24 levels: every lane size of XNOR and integer mode fits."""
    deepest = max(schedule(n, g)["levels"] for n in range(1, 4097, 7) for g in (1, 2, 3))
    deepest = max(deepest, *(schedule(n, 3, 1, False, b, s)["levels"] for n in range(1, 600, 11)
                             for b in range(1, 17) for s in (False, True)))  # fmt: skip
    assert deepest < 24


@pytest.mark.sim
@pytest.mark.parametrize("case", CASES, ids=[f"N{c[0]}-G{c[1]}-L{c[2]}-B{c[3]}{'s' if c[4] else ''}" for c in CASES])
def test_bnn_popcount(case):
    n, group, lps, bits, signed = case
    params = {"N": n, "GroupSize": group, "LevelsPerStage": lps, "TagBits": 7}
    if bits:
        params.update(Xnor=0, InputBits=bits, InputSigned=signed)
    lat = schedule(n, group, lps, not bits, max(bits, 1), bool(signed))["latency"]
    run_sim(
        "bnn_popcount",
        __file__,
        params,
        {"N": n, "latency": lat, "bits": bits, "signed": signed},
        sources=RTL_DEPENDENCIES["bnn_popcount"],
    )
