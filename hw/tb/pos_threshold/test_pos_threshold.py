"""pos_threshold against hw.golden.pos_threshold: border-class thresholds (1 and 3 per channel) and
offsets, symmetric and one-sided borders; NHWC stream order, every idle x backpressure pair,
mid-frame reset."""

from pathlib import Path
from typing import NamedTuple

import cocotb
import numpy as np
import pytest

from hw.golden.pos_threshold import pos_threshold, write_table
from hw.golden.stream import int_range, pack_beats, unpack_beats
from hw.tb.common import TB, run_sim, sim_cfg


class Case(NamedTuple):
    name: str
    hw: tuple[int, int]
    channels: int
    pe: int
    rows: tuple[int, int]
    cols: tuple[int, int]
    in_bits: int
    thresholds: int  # 0: offset mode
    thr_bits: int
    out_bits: int
    out_bias: int = 0
    scale: int = 1

    def classes(self) -> int:
        return (sum(self.rows) + 1) * (sum(self.cols) + 1)

    def table(self) -> np.ndarray:
        rng = np.random.default_rng(len(self.name))
        lo, hi = int_range(self.thr_bits, True)
        shape = (self.classes(), self.channels) + ((self.thresholds,) if self.thresholds else ())
        t = rng.integers(max(lo, -(1 << (self.in_bits - 1))), min(hi, 1 << (self.in_bits - 1)) + 1, shape)
        return np.sort(t, axis=-1) if self.thresholds else t

    def params(self, table_file: str) -> dict:
        return dict(Channels=self.channels, PE=self.pe, OutH=self.hw[0], OutW=self.hw[1], RowTop=self.rows[0],
                    RowBot=self.rows[1], ColLeft=self.cols[0], ColRight=self.cols[1], InBits=self.in_bits,
                    InSigned=1, NumThresholds=self.thresholds, ThrBits=self.thr_bits, OutBits=self.out_bits,
                    OutBias=self.out_bias, AccScale=self.scale, TableFile=table_file)  # fmt: skip


CASES = [
    # the 3x3 / pad 1 / stride 1 correction: 9 classes, one threshold per channel, a bit out
    Case("thr1_3x3pad1", (6, 7), 4, 2, (1, 1), (1, 1), in_bits=6, thresholds=1, thr_bits=7, out_bits=1),
    # one-sided borders (ceil-like padding), 3 thresholds, signed 3-bit output, PE 1, odd channels
    Case("thr3_onesided", (5, 4), 3, 1, (0, 2), (1, 0), in_bits=5, thresholds=3, thr_bits=6, out_bits=3, out_bias=-1),
    # offset mode (the correction before a multi-level re-quantizer): 2 * acc + O[k, c]
    Case("offset_x2", (4, 5), 4, 4, (2, 1), (1, 1), in_bits=7, thresholds=0, thr_bits=8, out_bits=10, scale=2),
]
N_IMG = 2


@cocotb.test()
async def stream_all_stall_modes_and_reset(dut):
    cfg = sim_cfg()
    rng = np.random.default_rng(4)
    tb = TB(dut)
    await tb.reset()
    (h, w), c, pe, ib, ob = cfg["hw"], cfg["channels"], cfg["pe"], cfg["in_bits"], cfg["out_bits"]
    table, rows, cols = np.array(cfg["table"]), tuple(cfg["rows"]), tuple(cfg["cols"])
    lo, hi = int_range(ib, True)
    n_beats = h * w * c // pe

    async def check(n):
        acc = rng.integers(lo, hi + 1, size=(n, h, w, c))
        got = await tb.transfer(pack_beats(acc, ib, pe), n * n_beats, max_cycles=8 * n * n_beats + 200)
        out = unpack_beats(got, ob, pe, signed=ob > 1).reshape(n, h, w, c)
        want = pos_threshold(acc, table, rows, cols, cfg["out_bias"], cfg["scale"], offset_mode=not cfg["thresholds"])
        assert np.array_equal(out, want), f"mismatch\n{out[..., 0]}\n{want[..., 0]}"

    for _ in tb.stall_pairs():
        await check(N_IMG)
    from cocotbext.axi import AxiStreamFrame

    tb.set_stalls("random", seed=5)
    await tb.source.send(AxiStreamFrame(pack_beats(rng.integers(lo, hi + 1, size=(1, h, w, c)), ib, pe)))
    await tb.cycles(n_beats // 2)
    await tb.reset()
    await check(1)


@pytest.mark.sim
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_pos_threshold(case):
    tables = Path(__file__).resolve().parent / "sim_build" / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    table = case.table()
    path = tables / f"{case.name}.hex"
    write_table(table, case.pe, case.thr_bits, path)
    cfg = {**case._asdict(), "table": table.tolist()}
    run_sim("pos_threshold", __file__, case.params(str(path)), cfg)
