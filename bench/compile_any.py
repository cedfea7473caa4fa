"""Benchmark: networks written elsewhere, compiled as a user would (``flow/build.py --onnx``).

    python bench/compile_any.py                          # every case, ~1-2 h on 2 shared cores
    python bench/compile_any.py --cases tfc-full odd-pad-stride --no-synth

Cases (brevitas_models/corpus.py, random weights and randomized BatchNorm): Brevitas' own bnn_pynq
TFC, SFC, LFC and CNV W1A1 at full size, and three odd shapes of ours. Each is exported to QONNX,
built for the Pynq-Z2 with ``--target-fps`` (the folding search on our RTL's cycle model), verified
on its images through every stage, simulated in Verilator and synthesized by yosys (``--synth``).
Writes results/bench/compile_any_<case>.json (the build's summary.json plus the command) and the
table between the markers in docs/compile_any.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from flow.core.provenance import provenance  # noqa: E402

RESULTS = REPO / "results" / "bench"
# case -> (source, --target-fps, verification images)
CASES = {
    "tfc-full": ("Brevitas bnn_pynq TFC-W1A1 (784-64-64-64-10)", 200_000, 200),
    "sfc-full": ("Brevitas bnn_pynq SFC-W1A1 (784-256-256-256-10)", 100_000, 200),
    "lfc-full": ("Brevitas bnn_pynq LFC-W1A1 (784-1024-1024-1024-10)", 20_000, 100),
    "cnv-full": ("Brevitas bnn_pynq CNV-W1A1 (32x32x3, 6 conv + 3 FC)", 10_000, 20),
    "odd-pad-stride": ("ours: 3x14x10, padded int input, stride 2, 1x1 conv, per-channel t, 3 classes", 50_000, 200),
    "odd-even-kernel": ("ours: 1x13x13, 2x2 kernel, max-pool, 13 channels, 2 classes", 100_000, 200),
    "odd-mlp-big-shift": ("ours: 1x7x9 MLP, shifts +-9 (always-on/off units), 7 classes", 100_000, 200),
}
BUILD_TIMEOUT_S = 3 * 3600


def run_case(case: str, work: Path, synth: bool, existing: Path | None = None) -> dict:
    """Export and build ``case`` (or read the finished build ``existing`` made the same way)."""
    from brevitas_models.corpus import corpus_network
    from flow.compiler.export import export_model

    source, fps, images = CASES[case]
    if existing is not None:
        summary = json.loads((existing / "report" / "summary.json").read_text())
        result = {"case": case, "source": source, "target_fps": fps, "command": f"existing build {existing}"}
        result["summary"] = {
            k: summary[k] for k in ("verification", "rtlsim", "synth", "target", "folding", "estimate")
        }
        return result
    work.mkdir(parents=True, exist_ok=True)
    model, shape = corpus_network(case)
    export_model(model, shape, work / f"{case}.onnx")
    out = work / "build"
    cmd = [sys.executable, str(REPO / "flow" / "build.py"), "--board", "Pynq-Z2", "--onnx", str(work / f"{case}.onnx")]
    cmd += ["--target-fps", str(fps), "--verify-images", str(images), "--output", str(out)]
    cmd += ["--synth"] if synth else []
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, env=_env())
    seconds = round(time.monotonic() - start, 1)
    result = {"case": case, "source": source, "target_fps": fps, "command": " ".join(cmd[1:]), "seconds": seconds}
    if proc.returncode != 0:
        result["error"] = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
        return result
    summary = json.loads((out / "report" / "summary.json").read_text())
    result["summary"] = {k: summary[k] for k in ("verification", "rtlsim", "synth", "target", "folding", "estimate")}
    return result


def _env() -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env["PATH"] = f"{REPO / '.venv' / 'bin'}:{env.get('PATH', '')}"
    return env


def _row(r: dict) -> str:
    if "error" in r:
        return f"| {r['case']} | {r['source']} | failed: {r['error']} | | | | |"
    s = r["summary"]
    v, sim, t, y = s["verification"], s["rtlsim"], s["target"], s["synth"] or {}
    n = v["images"]
    from flow.compiler.verify import stage_matches  # old summaries (brevitas_vs_*) read the same

    m = stage_matches(v)
    stages = f"{m['streamlined']}/{m['finn']}/{m['rtl']} of {n}"
    ties = f"{v['output_ties']} output, {v['float_ties']} float"
    reached = "yes" if t["reached"] else f"no ({t['limit']})"
    cycles = f"model {t['model_cycles_per_frame']} / sim {sim['cycles_per_frame']:g} cycles"
    speed = f"{sim['fps']:,.0f} vs {r['target_fps']:,} ({reached}); {cycles}"
    synth = f"{y['lut']:,} / {y['bram36']:g} ({'fits' if y['fits'] else 'does not fit'})" if y else "-"
    model = f"{t['cost_model']['lut']:,} / {t['cost_model']['bram36']:g}"
    return f"| {r['case']} | {r['source']} | {stages} | {ties} | {speed} | {synth} | {model} |"


def table(results: list[dict], meta: dict) -> str:
    head = (
        "| network | source | stages bit-exact (streamlined / folded / RTL) | ties | RTL img/s vs target "
        "| yosys LUT / BRAM36 | cost model LUT / BRAM36 |\n|---|---|---|---|---|---|---|\n"
    )
    foot = (
        f"\nMeasured {meta['date']} on {meta['machine']} (shared with other jobs): QONNX is the reference "
        "(``--onnx``), stage counts are images whose label agrees with it (tie-aware, ``output ties`` counted); "
        "the RTL's labels equal the folded integer graph's on every image. img/s = 100 MHz / cycles per frame "
        "measured in Verilator simulation of the whole generated top; model = the folding search's cycle "
        "model (flow/analysis/cycles.py). yosys 0.70 ``synth_xilinx -family xc7`` before place and route "
        "(xc7z020: 53,200 LUT, 140 BRAM36). Cost model: the resource model's prediction when the build ran "
        "(flow/analysis/cost.py; its calibration on these builds is in results/bench/cost_calibration.json, "
        "so rows built before it show the uncalibrated defaults).\n"
    )
    return head + "\n".join(_row(r) for r in results) + "\n" + foot


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    ap.add_argument("--no-synth", action="store_true")
    ap.add_argument("--work", type=Path, default=REPO / "build" / "bench" / "compile_any")
    ap.add_argument("--table-only", action="store_true", help="rewrite the docs table from the JSON files")
    ap.add_argument("--existing", type=Path, help="take the one --cases case from this finished build folder")
    args = ap.parse_args(argv)
    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU, {platform.system()}",
        "provenance": provenance(),
    }
    for case in [] if args.table_only else args.cases:
        print(f"== {case}", flush=True)
        result = run_case(case, args.work / case, not args.no_synth, args.existing)
        result["meta"] = meta
        (RESULTS / f"compile_any_{case}.json").write_text(json.dumps(result, indent=1) + "\n")
        print(_row(result), flush=True)
    from bench.rerender import rerender

    rerender(["compile-any-table"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
