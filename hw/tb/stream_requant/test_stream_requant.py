"""stream_requant against its golden models: the clamp form (hw.golden.stream_requant, checked equal to
the MultiThreshold unit staircase and to qonnx's multithreshold) and the multiply-add-shift form
(hw.golden.requant_fit, fitted to a BatchNorm re-quantization table and compared with the table itself
on every input, extreme ones included); every idle x backpressure pair, mid-frame reset."""

from pathlib import Path
from typing import NamedTuple

import cocotb
import numpy as np
import pytest

from hw.golden.requant_fit import fit_muladd, multithreshold, write_param_mem
from hw.golden.stream import int_range, pack_beats, unpack_beats
from hw.golden.stream_requant import requant_clamp, requant_staircase, staircase_thresholds, staircase_to_clamp
from hw.tb.common import TB, run_sim, sim_cfg


class Case(NamedTuple):
    name: str
    pe: int
    in_bits: int
    in_signed: int
    out_bits: int
    clamp: tuple[int, int, int]  # (Offset, OutMin, OutMax): y = clamp(x + Offset, OutMin, OutMax)

    def params(self) -> dict:
        offset, out_min, out_max = self.clamp
        return dict(PE=self.pe, InBits=self.in_bits, InSigned=self.in_signed, OutBits=self.out_bits,
                    Offset=offset, OutMin=out_min, OutMax=out_max)  # fmt: skip


CASES = [
    Case("int9_to_int8_pe4", pe=4, in_bits=9, in_signed=1, out_bits=8, clamp=(0, -128, 127)),
    # MultiThreshold staircase t0 = 20, N = 5, out_bias = -2 on a UINT7 input
    Case("staircase_u7_pe1", pe=1, in_bits=7, in_signed=0, out_bits=3, clamp=staircase_to_clamp(20, 5, -2)),
    Case("s5_to_u4_pe3", pe=3, in_bits=5, in_signed=1, out_bits=4, clamp=(9, 0, 13)),
]
BEATS = 41  # beats per frame (odd)
N_FRAMES = 2


class MulAddCase(NamedTuple):
    """A per-channel re-quantization y = clip(round(x * s_c + b_c), -2^(out_bits-1), ...) as FINN's threshold
    table (float32 thresholds, rounded up), fitted to stream_requant's multiply-add-shift."""

    name: str
    pe: int
    channels: int
    in_bits: int
    in_signed: int
    out_bits: int
    scale: tuple[float, float]  # s_c drawn log-uniformly in this range
    seed: int = 0


MULADD_CASES = [
    MulAddCase("bnn_acc13_int8_pe4", pe=4, channels=12, in_bits=13, in_signed=1, out_bits=8, scale=(0.01, 0.5)),
    MulAddCase("stem_acc22_int8_pe3", pe=3, channels=6, in_bits=22, in_signed=1, out_bits=8, scale=(5e-5, 5e-4)),
    MulAddCase("u6_to_u3_pe2_nf1", pe=2, channels=2, in_bits=6, in_signed=0, out_bits=3, scale=(0.05, 3.0)),
]  # fmt: skip


def bn_table(rng, channels: int, out_bits: int, scale: tuple[float, float], lo: int, hi: int, dtype=np.float64):
    """(T, out_bias): thresholds of round(x * s + b) clipped to a signed out_bits type
    (x * s + b >= k + 1/2  <=>  x >= (k + 1/2 - b) / s), computed in ``dtype`` (FINN's streamlining
    uses float32, whose rounding can make a wide table no exact staircase of any line:
    tests/test_requant_fit.py counts those)."""
    s = np.exp(rng.uniform(*np.log(scale), channels)).astype(dtype)
    b = rng.uniform(-(2 ** (out_bits - 1)), 2 ** (out_bits - 1), channels).astype(dtype)
    k = np.arange(-(2 ** (out_bits - 1)), 2 ** (out_bits - 1) - 1).astype(dtype)
    T = np.ceil((k[None, :] + dtype(0.5) - b[:, None]) / s[:, None])
    return np.clip(T, lo, hi + 1), -(2 ** (out_bits - 1))


def make_muladd(case: MulAddCase, out_dir: Path):
    lo, hi = int_range(case.in_bits, bool(case.in_signed))
    T, bias = bn_table(np.random.default_rng(case.seed), case.channels, case.out_bits, case.scale, lo, hi)
    fit = fit_muladd(T, bias, lo, hi)
    assert fit.all_exact, case
    out_dir.mkdir(parents=True, exist_ok=True)
    pfile = out_dir / "params.hex"
    write_param_mem(fit, case.pe, fit.mul_bits, fit.add_bits, pfile)
    params = dict(PE=case.pe, InBits=case.in_bits, InSigned=case.in_signed, OutBits=case.out_bits, Offset=0,
                  OutMin=fit.out_min, OutMax=fit.out_max, Channels=case.channels, MulBits=fit.mul_bits,
                  AddBits=fit.add_bits, Shift=fit.shift_min, ShiftBits=fit.shift_bits,
                  ParamFile=str(pfile))  # fmt: skip
    cfg = {**params, "T": T.tolist(), "bias": bias}
    return params, cfg


@cocotb.test()
async def stream_all_stall_modes_and_reset(dut):
    cfg = sim_cfg()
    rng = np.random.default_rng(11)
    tb = TB(dut)
    await tb.reset()
    pe, ib, ob = cfg["PE"], cfg["InBits"], cfg["OutBits"]
    lo, hi = int_range(ib, bool(cfg["InSigned"]))
    channels = cfg.get("Channels", 0) or pe
    beats = BEATS * channels // pe  # whole pixels

    def frames(n):
        x = rng.integers(lo, hi + 1, size=(n, beats // (channels // pe), channels))
        x[0, 0], x[0, 1] = lo, hi  # the extremes of the range in every channel
        if "T" in cfg:  # every threshold and its neighbour below, where they are reachable
            T = np.array(cfg["T"], dtype=np.int64)
            edges = np.clip(np.concatenate([T, T - 1], axis=1), lo, hi).T  # (2N, C)
            take = edges[rng.integers(0, len(edges), size=x.shape[1] - 2)]
            x[-1, 2:] = take
        return x

    def reference(x):
        if "T" in cfg:
            return multithreshold(x, np.array(cfg["T"]), cfg["bias"])
        return requant_clamp(x, cfg["Offset"], cfg["OutMin"], cfg["OutMax"])

    async def check(n):
        x = frames(n)
        got = await tb.transfer(pack_beats(x, ib, pe), n * beats, max_cycles=8 * n * beats + 200)
        out = unpack_beats(got, ob, pe, cfg["OutMin"] < 0).reshape(x.shape)
        ref = reference(x)
        assert np.array_equal(out, ref), f"mismatch\n{x}\n{out}\n{ref}"

    for _ in tb.stall_pairs():
        await check(N_FRAMES)
    from cocotbext.axi import AxiStreamFrame

    tb.set_stalls("random", seed=5)
    await tb.source.send(AxiStreamFrame(pack_beats(frames(1), ib, pe)))
    await tb.cycles(beats // 2 + 1)
    await tb.reset()
    await check(1)


@pytest.mark.fast
def test_staircase_equals_clamp_and_qonnx():
    from qonnx.custom_op.general.multithreshold import multithreshold

    rng = np.random.default_rng(2)
    for _ in range(50):
        t0, n, b = int(rng.integers(-300, 300)), int(rng.integers(1, 40)), int(rng.integers(-64, 64))
        x = np.arange(t0 - n - 5, t0 + 2 * n + 5)
        stair = requant_staircase(x, t0, n, b)
        assert np.array_equal(stair, requant_clamp(x, *staircase_to_clamp(t0, n, b)))
        T = np.tile(staircase_thresholds(t0, n), (3, 1)).astype(np.float32)  # 3 channels, same T
        v = np.repeat(x[:, None], 3, axis=1).astype(np.float32)
        ref = multithreshold(v, T, out_scale=1.0, out_bias=float(b))
        assert np.array_equal(ref[:, 0], stair)


@pytest.mark.sim
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_stream_requant(case):
    run_sim("stream_requant", __file__, case.params(), case.params())


@pytest.mark.sim
@pytest.mark.parametrize("case", MULADD_CASES, ids=[c.name for c in MULADD_CASES])
def test_stream_requant_muladd(case):
    params, cfg = make_muladd(case, Path(__file__).parent / "sim_build" / "mem" / case.name)
    run_sim("stream_requant", __file__, params, cfg)
