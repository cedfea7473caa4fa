"""Yosys xc7 LUT/FF of our width converter (hw/rtl/stream_dwc.sv) against finn-rtllib's (dwc_axi -> vpc)
on the width pairs the folding produces (CNV-W1A1 at 20k img/s, the residual int8 streams) and a few
coprime ones.

python bench/synth_dwc.py      # prints a markdown table, writes results/bench/dwc_synth.json

Each point goes through flow.rtl_backend.synth.synth_module (the one yosys runner of the project);
vpc.sv gets the same slang compatibility edit the RTL backend applied to it (emitters/finn_rtl.PATCHES).
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import finn

from bench.synth_mvau import RESULTS
from flow.rtl_backend.synth import SynthError, synth_module
from hw.sources import COMMON_SOURCES, RTL_DIR

FINN_DWC = Path(finn.__file__).resolve().parent / "finn-rtllib" / "dwc" / "hdl"
# (in bits, out bits): every converter of xnor_cnv at --target-fps 20000 (its folding search), the
# CNV-W1A1 SetFolding pair 64 -> 36, int8 residual streams, and coprime lanes
PAIRS = [
    (24, 216), (16, 64), (64, 192), (32, 16), (16, 576), (4, 16), (16, 384), (8, 2), (2, 576), (1, 128),
    (1, 32), (1, 64), (1, 2), (64, 36), (36, 64), (24, 64), (64, 24), (3, 5), (512, 24),
]  # fmt: skip


def _vpc_files(work: Path) -> list[Path]:
    from flow.rtl_backend.emitters.finn_rtl import PATCHES

    work.mkdir(parents=True, exist_ok=True)
    out = []
    for name in ("vpc.sv", "dwc_axi.sv"):
        text = (FINN_DWC / name).read_text()
        (work / name).write_text(PATCHES[name](text) if name in PATCHES else text)
        out.append(work / name)
    return out


def _row(name: str, r: dict) -> dict:
    return {f"{name}_lut": r["lut"], f"{name}_ff": r["ff"], f"{name}_carry": r["carry"], f"{name}_s": r["seconds"]}


def main() -> int:
    ours = [RTL_DIR / s for s in (*COMMON_SOURCES, "stream_dwc.sv")]
    vpc = _vpc_files(RESULTS / "logs" / "dwc_vpc_src")
    rows = []
    for a, b in PAIRS:
        row = {"in_bits": a, "out_bits": b}
        try:
            r = synth_module("stream_dwc", ours, RESULTS / "logs" / f"dwc_{a}_{b}", params={"InBits": a, "OutBits": b})
            row.update(_row("stream_dwc", r))
            r = synth_module("dwc_axi", vpc, RESULTS / "logs" / f"vpc_{a}_{b}", params={"IBITS": a, "OBITS": b})
            row.update(_row("vpc", r))
        except SynthError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        rows.append(row)
        print(row, flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    meta = {"command": "python bench/synth_dwc.py", "commit": commit, "date": time.strftime("%Y-%m-%d %H:%M UTC")}
    (RESULTS / "dwc_synth.json").write_text(json.dumps({**meta, "rows": rows}, indent=1) + "\n")
    print(table(rows))
    return 0


def table(rows: list[dict]) -> str:
    lines = [
        "| in bits | out bits | stream_dwc LUT | stream_dwc FF | vpc LUT | vpc FF |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['in_bits']} | {r['out_bits']} | {r['stream_dwc_lut']} | {r['stream_dwc_ff']} "
            f"| {r['vpc_lut']} | {r['vpc_ff']} |"
        )
    total = {k: sum(r[k] for r in rows) for k in ("stream_dwc_lut", "stream_dwc_ff", "vpc_lut", "vpc_ff")}
    lines.append(
        f"| **sum** | | **{total['stream_dwc_lut']}** | **{total['stream_dwc_ff']}** "
        f"| **{total['vpc_lut']}** | **{total['vpc_ff']}** |"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
