"""int_mvau against hw.golden.int_mvau: FINN folding and packing, signed/unsigned inputs, every
weight-memory style (URAM loaded at run time through s_axis_wgt, then inference), every idle x
backpressure pair, mid-frame reset."""

from pathlib import Path
from typing import NamedTuple

import cocotb
import numpy as np
import pytest

from hw.golden.int_mvau import acc_range, int_mvau, rtl_acc_bits, weight_words, write_weight_mem
from hw.golden.mem_files import weight_stream
from hw.golden.stream import int_range, pack_beats, unpack_beats
from hw.sources import RTL_DEPENDENCIES
from hw.tb.common import TB, WeightPort, run_sim, sim_cfg


class Case(NamedTuple):
    name: str
    mw: int
    mh: int
    pe: int
    simd: int
    weight_bits: int
    input_bits: int
    input_signed: int
    ram_style: str
    acc: str | None = None  # None: the RTL's default AccBits; "tight": the range of these weights
    runtime: bool = False  # RuntimeWeights: no memory file, the weights come through s_axis_wgt


CASES = [
    Case("stem_u8_w8", mw=27, mh=8, pe=2, simd=3, weight_bits=8, input_bits=8, input_signed=0, ram_style="block"),
    Case("classifier_s12_w8_sf1", mw=16, mh=10, pe=5, simd=16, weight_bits=8, input_bits=12, input_signed=1,
         ram_style="distributed"),
    Case("nf1_pe_all_w4_ultra_runtime", mw=24, mh=6, pe=6, simd=4, weight_bits=4, input_bits=5, input_signed=1,
         ram_style="ultra", runtime=True),
    Case("s3_w2_auto_tight_acc", mw=20, mh=9, pe=3, simd=5, weight_bits=2, input_bits=3, input_signed=1,
         ram_style="auto", acc="tight"),
]  # fmt: skip
N_VEC = 5


def make_case(case: Case, out_dir: Path, seed: int = 0):
    MW, MH, PE, SIMD = case.mw, case.mh, case.pe, case.simd
    wb, ib, isg = case.weight_bits, case.input_bits, case.input_signed
    rng = np.random.default_rng(seed)
    W = rng.integers(-(1 << (wb - 1)), 1 << (wb - 1), size=(MW, MH))
    W[:, 0] = -(1 << (wb - 1))  # the most negative weight everywhere in one channel
    if case.acc == "tight":
        lo, hi = acc_range(W, ib, bool(isg))
        ab = max(int(hi).bit_length(), int(-lo - 1).bit_length()) + 1
    else:
        ab = rtl_acc_bits(MW, wb, ib, bool(isg))
    out_dir.mkdir(parents=True, exist_ok=True)
    wfile = out_dir / "weights.hex"
    params = dict(MW=MW, MH=MH, PE=PE, SIMD=SIMD, WeightBits=wb, InputBits=ib, InputSigned=isg, AccBits=ab)
    params.update(RamStyle=case.ram_style)
    if case.runtime:
        params["RuntimeWeights"] = 1
    else:
        write_weight_mem(W, PE, SIMD, wb, wfile)
        params["WeightFile"] = str(wfile)
    wgt = weight_stream(weight_words(W, PE, SIMD, wb), PE * SIMD * wb) if case.runtime else None
    cfg = dict(MW=MW, MH=MH, PE=PE, SIMD=SIMD, ib=ib, isg=isg, ab=ab, W=W.tolist(), wgt=wgt)
    return params, cfg


def random_inputs(cfg, rng, n):
    lo, hi = int_range(cfg["ib"], bool(cfg["isg"]))
    x = rng.integers(lo, hi + 1, size=(n, cfg["MW"]))
    x[0, :] = lo if cfg["isg"] else hi  # extreme vector: the largest |acc|
    return x


# ---------------------------------------------------------------------------- cocotb side
async def check(tb, cfg, x, max_factor=8):
    PE, MH, MW, SIMD = cfg["PE"], cfg["MH"], cfg["MW"], cfg["SIMD"]
    per_vec = (MW // SIMD) * (MH // PE)
    y = int_mvau(x, np.array(cfg["W"]))
    beats = pack_beats(x, cfg["ib"], SIMD)
    got = await tb.transfer(beats, len(x) * MH // PE, max_cycles=max_factor * per_vec * len(x) + 200)
    out = unpack_beats(got, cfg["ab"], PE, True).reshape(len(x), MH)
    assert np.array_equal(out, y), f"mismatch\n{out}\n{y}"


@cocotb.test()
async def stream_all_stall_modes_and_reset(dut):
    from cocotbext.axi import AxiStreamFrame

    cfg = sim_cfg()
    rng = np.random.default_rng(7)
    tb = TB(dut)
    port = WeightPort(dut) if cfg["wgt"] else None
    if port is None:
        WeightPort.idle(dut)
    await tb.reset()
    if port is not None:  # load, then infer: the URAM has no initial contents
        await port.load(cfg["wgt"], extra=[0xDEADBEEF, 7, 0], timeout_ns=40 * len(cfg["wgt"]) + 2000)
    for _ in tb.stall_pairs():
        await check(tb, cfg, random_inputs(cfg, rng, N_VEC))
    # reset in the middle of a frame (input half consumed, outputs pending), then clean frames
    tb.set_stalls("random", seed=9)
    await tb.source.send(AxiStreamFrame(pack_beats(random_inputs(cfg, rng, 2), cfg["ib"], cfg["SIMD"])))
    await tb.cycles(max(3, (cfg["MW"] // cfg["SIMD"]) * 3 // 2))
    await tb.reset()
    await check(tb, cfg, random_inputs(cfg, rng, 3))


# ---------------------------------------------------------------------------- pytest side
@pytest.mark.fast
def test_golden_acc_bits_hold_the_extremes():
    rng = np.random.default_rng(3)
    for _ in range(30):
        MW, wb, ib, isg = (
            int(rng.integers(1, 300)),
            int(rng.integers(2, 9)),
            int(rng.integers(1, 13)),
            bool(rng.integers(2)),
        )
        bits = rtl_acc_bits(MW, wb, ib, isg)
        x_lo, x_hi = int_range(ib, isg)
        w_lo = -(1 << (wb - 1))
        extremes = [MW * w_lo * x_lo, MW * w_lo * x_hi, MW * (-w_lo - 1) * x_hi]
        assert all(-(1 << (bits - 1)) <= e < (1 << (bits - 1)) for e in extremes)


@pytest.mark.sim
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_int_mvau(case):
    out_dir = Path(__file__).parent / "sim_build" / "mem" / case.name
    params, cfg = make_case(case, out_dir)
    run_sim("int_mvau", __file__, params, cfg, sources=RTL_DEPENDENCIES["int_mvau"])
