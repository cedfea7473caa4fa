"""bnn_mvau against hw.golden.bnn_mvau: FINN folding and packing, every idle x backpressure pair,
mid-frame reset; run-time weights loaded through s_axis_wgt, then inference."""

from pathlib import Path
from typing import NamedTuple

import cocotb
import numpy as np
import pytest

from hw.golden.bnn_mvau import acc_bits, acc_range, mvau
from hw.golden.mem_files import weight_stream, weight_words, write_threshold_mem, write_weight_mem
from hw.golden.stream import bipolar_to_bits, pack_beats, unpack_beats
from hw.sources import RTL_DEPENDENCIES
from hw.tb.common import TB, WeightPort, run_sim, sim_cfg


class Case(NamedTuple):
    name: str
    mw: int
    mh: int
    pe: int
    simd: int
    mode: str  # "xnor" (binary input, XNOR-popcount) or "int" (integer input, +-1 weights)
    in_bits: int
    in_signed: int
    n_thr: int  # thresholds per channel; 0 = no activation (the accumulator is the output)
    out_bits: int
    out_bias: int
    ram_style: str | None = None  # WeightRamStyle; None: the RTL's default
    runtime: bool = False  # RuntimeWeights: loaded through s_axis_wgt (the memory file holds other weights)
    lps: int | None = None  # LevelsPerStage (the flow picks it from the clock); None: the RTL's default
    wreg: bool = False  # WeightOutReg: the weight word registered once more (deep block RAM, fast clock)


CASES = [
    Case("xnor_basic", mw=64, mh=16, pe=4, simd=16, mode="xnor",
         in_bits=1, in_signed=0, n_thr=1, out_bits=1, out_bias=0),
    Case("xnor_pe1_simd25", mw=75, mh=6, pe=1, simd=25, mode="xnor",
         in_bits=1, in_signed=0, n_thr=1, out_bits=1, out_bias=0),
    Case("xnor_onefold_multithr", mw=36, mh=8, pe=8, simd=36, mode="xnor",
         in_bits=1, in_signed=0, n_thr=3, out_bits=3, out_bias=-1),
    Case("int8u_first_layer", mw=27, mh=8, pe=2, simd=3, mode="int",
         in_bits=8, in_signed=0, n_thr=1, out_bits=1, out_bias=0),
    Case("int4s_noact", mw=12, mh=6, pe=3, simd=4, mode="int", in_bits=4, in_signed=1, n_thr=0, out_bits=0, out_bias=0),
    Case("xnor_noact_sf1", mw=32, mh=10, pe=5, simd=32, mode="xnor",
         in_bits=1, in_signed=0, n_thr=0, out_bits=0, out_bias=0),
    # compressor tree: SIMD not a multiple of 3 or 6 (deep heaps: hw/tb/bnn_popcount, N 256 and 300), int
    # mode with the single-threshold subtracting accumulator, 2 thresholds on signed input
    Case("xnor_simd97", mw=194, mh=4, pe=2, simd=97, mode="xnor",
         in_bits=1, in_signed=0, n_thr=1, out_bits=2, out_bias=1),
    Case("int5s_two_thr", mw=20, mh=6, pe=2, simd=5, mode="int",
         in_bits=5, in_signed=1, n_thr=2, out_bits=2, out_bias=-1),
    # weights as LUT logic folded into the XNOR LUTs: 3, 4 and 5 ROM address bits (GroupSize 3, 2, 1)
    Case("xnor_dist_a3", mw=48, mh=8, pe=4, simd=12, mode="xnor",
         in_bits=1, in_signed=0, n_thr=1, out_bits=1, out_bias=0, ram_style="distributed"),
    Case("xnor_dist_a4", mw=80, mh=12, pe=4, simd=16, mode="xnor",
         in_bits=1, in_signed=0, n_thr=1, out_bits=1, out_bias=0, ram_style="distributed"),
    Case("xnor_dist_a5", mw=64, mh=12, pe=4, simd=8, mode="xnor",
         in_bits=1, in_signed=0, n_thr=1, out_bits=1, out_bias=0, ram_style="distributed"),
    # run-time weights: URAM (no initial contents at all), and LUTRAM over a file of other weights
    Case("xnor_runtime_ultra", mw=96, mh=8, pe=2, simd=48, mode="xnor",
         in_bits=1, in_signed=0, n_thr=1, out_bits=1, out_bias=0, ram_style="ultra", runtime=True),
    Case("int8_runtime_lutram", mw=27, mh=8, pe=4, simd=9, mode="int",
         in_bits=8, in_signed=0, n_thr=1, out_bits=1, out_bias=0, ram_style="distributed", runtime=True),
    # pipeline depth as the flow picks it from the clock: 4 compressor levels per stage at 100 MHz, 1 above
    # 250 MHz; the weight word registered once more (with the operand and control alongside)
    Case("int8_first_layer_lps4_wreg", mw=27, mh=8, pe=2, simd=27, mode="int",
         in_bits=8, in_signed=0, n_thr=1, out_bits=1, out_bias=0, lps=4, wreg=True),
    Case("xnor_multithr_wreg", mw=72, mh=8, pe=4, simd=36, mode="xnor",
         in_bits=1, in_signed=0, n_thr=3, out_bits=3, out_bias=-1, wreg=True),
    Case("xnor_simd97_lps1", mw=194, mh=4, pe=2, simd=97, mode="xnor",
         in_bits=1, in_signed=0, n_thr=1, out_bits=1, out_bias=0, lps=1),
]  # fmt: skip
N_VEC = 6  # input vectors per stall mode


def make_case(case: Case, out_dir: Path, seed: int = 0):
    """Random weights/thresholds for one case; writes the memory files; returns HDL params + cfg."""
    MW, MH, PE, SIMD, mode = case.mw, case.mh, case.pe, case.simd, case.mode
    ib, isg, nt, ob, obias = case.in_bits, case.in_signed, case.n_thr, case.out_bits, case.out_bias
    rng = np.random.default_rng(seed)
    W = rng.choice([-1, 1], size=(MW, MH))
    lo, hi = acc_range(MW, mode, ib, bool(isg))
    ab = acc_bits(MW, mode, ib, bool(isg))
    params = dict(
        MW=MW,
        MH=MH,
        PE=PE,
        SIMD=SIMD,
        XnorMode=int(mode == "xnor"),
        InputBits=ib,
        InputSigned=isg,
        AccBits=ab,
        NumThresholds=nt,
    )
    if case.ram_style is not None:
        params["WeightRamStyle"] = case.ram_style
    if case.lps is not None:
        params["LevelsPerStage"] = case.lps
    if case.wreg:
        params["WeightOutReg"] = 1
    out_dir.mkdir(parents=True, exist_ok=True)
    wfile = out_dir / "weights.hex"
    if not case.runtime:
        write_weight_mem(W, PE, SIMD, wfile)
        params["WeightFile"] = str(wfile)
    else:
        params["RuntimeWeights"] = 1
        if case.ram_style != "ultra":  # other weights in the file: only the load makes the outputs right
            write_weight_mem(-W, PE, SIMD, wfile)
            params["WeightFile"] = str(wfile)
    T = None
    if nt:
        # sorted per channel, around the middle of the reachable range, some beyond both ends
        mid, spread = (lo + hi) // 2, max(2, (hi - lo) // 6)
        T = np.sort(rng.integers(mid - spread, mid + spread + 1, size=(MH, nt)), axis=1)
        T[0, 0], T[-1, -1] = lo - 3, hi + 5  # never-fails / never-fires thresholds
        tb_bits = ab + 1
        tfile = out_dir / "thresholds.hex"
        write_threshold_mem(T, PE, tb_bits, tfile, acc_lo=lo, acc_hi=hi)
        params.update(ThresholdBits=tb_bits, OutBits=ob, OutBias=obias, ThresholdFile=str(tfile))
    cfg = dict(
        MW=MW,
        MH=MH,
        PE=PE,
        SIMD=SIMD,
        mode=mode,
        ib=ib,
        isg=isg,
        ab=ab,
        nt=nt,
        ob=ob,
        obias=obias,
        W=W.tolist(),
        T=None if T is None else T.tolist(),
        wgt=weight_stream(weight_words(W, PE, SIMD), PE * SIMD) if case.runtime else None,
    )
    return params, cfg


def random_inputs(cfg, rng, n):
    MW, mode, ib, isg = cfg["MW"], cfg["mode"], cfg["ib"], cfg["isg"]
    if mode == "xnor":
        return rng.choice([-1, 1], size=(n, MW))
    lo, hi = (-(2 ** (ib - 1)), 2 ** (ib - 1) - 1) if isg else (0, 2**ib - 1)
    x = rng.integers(lo, hi + 1, size=(n, MW))
    x[0, :] = lo if isg else hi  # extreme vector: largest |acc|
    return x


def golden_beats(cfg, x):
    """(input beats, expected output elements, output elem bits, signed) in FINN stream order."""
    W = np.array(cfg["W"])
    T = None if cfg["T"] is None else np.array(cfg["T"])
    y = mvau(x, W, T, cfg["mode"], cfg["obias"])
    xin = bipolar_to_bits(x) if cfg["mode"] == "xnor" else x
    beats = pack_beats(xin, cfg["ib"], cfg["SIMD"])
    if T is None:
        return beats, y, cfg["ab"], True
    return beats, y, cfg["ob"], cfg["obias"] < 0


# ---------------------------------------------------------------------------- cocotb side
@cocotb.test()
async def stream_all_stall_modes_and_reset(dut):
    cfg = sim_cfg()
    rng = np.random.default_rng(7)
    tb = TB(dut)
    port = WeightPort(dut) if cfg["wgt"] else None
    if port is None:
        WeightPort.idle(dut)
    await tb.reset()
    PE, MH, MW, SIMD = cfg["PE"], cfg["MH"], cfg["MW"], cfg["SIMD"]
    per_vec = (MW // SIMD) * (MH // PE)  # cycles per vector at full rate
    if port is not None:  # load, then infer: the memory holds other (or no) weights until then
        await port.load(cfg["wgt"], extra=[0xDEADBEEF, 7, 0], timeout_ns=40 * len(cfg["wgt"]) + 2000)
    for mode in tb.stall_pairs():
        x = random_inputs(cfg, rng, N_VEC)
        beats, y, eb, signed = golden_beats(cfg, x)
        got = await tb.transfer(beats, N_VEC * MH // PE, max_cycles=8 * per_vec * N_VEC + 200)
        out = unpack_beats(got, eb, PE, signed).reshape(N_VEC, MH)
        assert np.array_equal(out, y), f"stall mode {mode}: mismatch\n{out}\n{y}"

    # reset in the middle of a frame (input half consumed, outputs pending), then clean frames
    tb.set_stalls("random", seed=9)
    x = random_inputs(cfg, rng, 2)
    beats, _, _, _ = golden_beats(cfg, x)
    from cocotbext.axi import AxiStreamFrame

    await tb.source.send(AxiStreamFrame(beats))
    await tb.cycles(max(3, per_vec + per_vec // 2))
    await tb.reset()
    x = random_inputs(cfg, rng, 3)
    beats, y, eb, signed = golden_beats(cfg, x)
    got = await tb.transfer(beats, 3 * MH // PE, max_cycles=8 * per_vec * 3 + 200)
    out = unpack_beats(got, eb, PE, signed).reshape(3, MH)
    assert np.array_equal(out, y), "mismatch after mid-frame reset"


# ---------------------------------------------------------------------------- pytest side
@pytest.mark.sim
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bnn_mvau(case):
    out_dir = Path(__file__).parent / "sim_build" / "mem" / case.name
    params, cfg = make_case(case, out_dir)
    run_sim("bnn_mvau", __file__, params, cfg, sources=RTL_DEPENDENCIES["bnn_mvau"])
