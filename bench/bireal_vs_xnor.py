"""Bi-Real CNV (int8 residual shortcuts) next to XNOR CNV of the same width, through the whole flow.

    python bench/bireal_vs_xnor.py --xnor-checkpoint X.pt --bireal-checkpoint B.pt
    python bench/bireal_vs_xnor.py --table-only

Each checkpoint is compiled by ``flow/build.py --board Pynq-Z2 --synth`` with the same ``--target-fps``
(FINN SetFolding at the board clock), so the two designs are folded for the same throughput target.
The build verifies Brevitas, the FINN graph and the RTL simulation bit-exactly on Fashion-MNIST test
images (``--verify-images``, default 1,000). Recorded per network: test accuracy of the checkpoint
(its metrics.json from flow/train.py, the whole 10k test set), the build's verification counts, rtlsim
cycles/frame and img/s at 100 MHz, yosys LUT/FF/BRAM36/DSP (before place and route), FINN's estimate.
Writes results/bench/bireal_vs_xnor.json and the table between the markers in docs/bireal_hw.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from flow.core import cli, proc  # noqa: E402
from flow.core.provenance import provenance  # noqa: E402

RESULTS = REPO / "results" / "bench" / "bireal_vs_xnor.json"


def build(name: str, model: str, checkpoint: Path, out: Path, fps: float, images: int) -> dict:
    """Run flow/build.py as a user would; return what the comparison needs from its summary."""
    cmd = [sys.executable, str(REPO / "flow" / "build.py"), "--board", "Pynq-Z2", "--model", model,
           "--checkpoint", str(checkpoint), "--target-fps", str(fps), "--verify-images", str(images),
           "--synth", "--output", str(out)]  # fmt: skip
    print("$", " ".join(cmd), flush=True)
    t0 = time.monotonic()
    if proc.run(cmd, "flow/build.py", proc.scaled_timeout(4 * 3600.0)).returncode != 0:
        raise SystemExit(f"error: the build of {name} failed (see above)")
    (out / "report" / "command.txt").write_text(" ".join(cmd[1:]).replace(str(REPO) + "/", "") + "\n")
    return {**collect(name, model, checkpoint, out, (out / "report" / "command.txt").read_text().strip()),
            "build_s": round(time.monotonic() - t0, 1)}  # fmt: skip


def reused_command(out: Path) -> str:
    path = out / "report" / "command.txt"
    return path.read_text().strip() if path.is_file() else "(reused build; command not recorded)"


def collect(name: str, model: str, checkpoint: Path, out: Path, command: str) -> dict:
    """The comparison's numbers from a finished build folder and the checkpoint's metrics.json."""
    summary = json.loads((out / "report" / "summary.json").read_text())
    metrics_file = checkpoint.parent / "metrics.json"
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
    v, r, y, e = summary["verification"], summary["rtlsim"], summary["synth"], summary["estimate"]
    return {
        "network": name,
        "model": model,
        "model_kwargs": metrics.get("model_kwargs"),
        "checkpoint": str(checkpoint.relative_to(REPO)) if checkpoint.is_relative_to(REPO) else str(checkpoint),
        "test_accuracy": metrics.get("test_accuracy"),
        "training": {k: metrics.get("config", {}).get(k) for k in ("epochs", "train_limit", "batch_size", "seed")},
        "verification": {k: v.get(k) for k in ("images", "brevitas_vs_qonnx", "brevitas_vs_finn", "brevitas_vs_rtl")},
        "rtlsim": {k: r.get(k) for k in ("cycles_per_frame", "fps", "latency_cycles", "clock_mhz")},
        "synth": {k: y.get(k) for k in ("lut", "ff", "bram36", "dsp", "fits")},
        "finn_estimate": e,
        "nodes": _node_counts(out),
        "command": command,
    }


def _node_counts(out: Path) -> dict:
    from qonnx.core.modelwrapper import ModelWrapper

    counts: dict[str, int] = {}
    for node in ModelWrapper(str(out / "model" / "folded.onnx")).graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return counts


def table(results: list[dict], meta: dict) -> str:
    head = (
        "| network | test acc. % | verified RTL = Brevitas | cycles/frame | img/s @100 MHz | yosys LUT | FF "
        "| BRAM36 | DSP | fits xc7z020 |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n"
    )
    rows = []
    for res in results:
        v, r, y = res["verification"], res["rtlsim"], res["synth"]
        acc = "-" if res["test_accuracy"] is None else f"{100 * res['test_accuracy']:.2f}"
        rows.append(
            f"| {res['network']} | {acc} | {v['brevitas_vs_rtl']}/{v['images']} | {r['cycles_per_frame']:g} "
            f"| {r['fps']:,.0f} | {y['lut']} | {y['ff']} | {y['bram36']:g} | {y['dsp']} "
            f"| {'yes' if y['fits'] else 'no'} |"
        )
    foot = (
        f"\nMeasured {meta['date']} on {meta['machine']} (finn-plus {meta['finn']}, {meta['verilator']}, "
        f"{meta['yosys']}); both folded by FINN SetFolding for {meta['target_fps']:,} img/s. Accuracy: the "
        "checkpoint's 10,000-image Fashion-MNIST test set; yosys counts are before place and route.\n"
    )
    return head + "\n".join(rows) + "\n" + foot


def write_doc_table() -> None:
    """The tables of this JSON in docs/bireal_hw.md and the README (bench/tables.py)."""
    from bench.rerender import rerender

    rerender(["bireal-bench-table", "readme-bireal-bench"])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The options, checked before any build starts: bad input is one ``error:`` line (flow/core/cli.py)."""
    from flow.build import MAX_VERIFY_IMAGES

    ap = cli.Parser(description=__doc__.splitlines()[0])
    ap.add_argument("--xnor-checkpoint", type=Path)
    ap.add_argument("--bireal-checkpoint", type=Path)
    ap.add_argument("--target-fps", type=cli.positive_float, default=5000.0)
    ap.add_argument("--verify-images", type=cli.int_in(1, MAX_VERIFY_IMAGES), default=1000)
    ap.add_argument("--work", type=cli.output_path, default=REPO / "build" / "bench_bireal")
    ap.add_argument("--table-only", action="store_true", help="rewrite the docs table from the JSON")
    ap.add_argument("--reuse", action="store_true", help="take a network's finished build from --work if present")
    args = ap.parse_args(argv)
    if not args.table_only and not (args.xnor_checkpoint and args.bireal_checkpoint):
        ap.error("--xnor-checkpoint and --bireal-checkpoint are required (or --table-only)")
    return args


def main(argv: list[str] | None = None) -> int:
    return cli.run_cli(lambda: run(parse_args(argv)), "bireal_vs_xnor")


def run(args: argparse.Namespace) -> int:
    if args.table_only:
        write_doc_table()
        return 0
    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU, {platform.system()}",
        "verilator": f"Verilator {version('verilator')}",
        "yosys": f"yosys {version('pyosys')}",
        "finn": version("finn-plus"),
        "target_fps": int(args.target_fps),
        "provenance": provenance(),
    }
    results = []
    for name, model, ckpt in (
        ("xnor_cnv", "xnor_cnv", args.xnor_checkpoint),
        ("bireal_cnv (int8 shortcuts)", "bireal_cnv", args.bireal_checkpoint),
    ):
        out = args.work / model
        if args.reuse and (out / "report" / "summary.json").is_file():
            results.append(collect(name, model, ckpt.resolve(), out, reused_command(out)))
            continue
        shutil.rmtree(out, ignore_errors=True)
        results.append(build(name, model, ckpt.resolve(), out, args.target_fps, args.verify_images))
    data = {"meta": meta, "results": results}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=1) + "\n")
    write_doc_table()
    print(table(results, meta))
    return 0


if __name__ == "__main__":
    sys.exit(main())
