"""The hardware ResNets (bireal_resnet18_hw, xnor_resnet18_hw, bireal_resnet34_hw) through flow/build.py.

    python bench/resnet_hw.py --board ZCU104 --verify-images 2                 # full size, 224x224
    python bench/resnet_hw.py --board ZCU104 --model-args '{"in_size": 32, "width": 0.125}'
    python bench/resnet_hw.py --table-only

Each model is built as a user would (``flow/build.py --board B --model M [--model-args J] --target-fps F``,
untrained, random UINT8 verification images), each build in its own process with a wall-clock limit.
``--target-fps`` is the folding search's target at the board's clock (``--clock-mhz``, default the
board's: 200 MHz on the ZCU104, so ``--target-fps 2000`` is the issue's 100,000 cycles per frame).
Recorded per build: the step times, how far it got (a failed step and its one-line error, or the step a
timeout stopped and how long it had run), the verification counts (Brevitas = QONNX = FINN
graph = RTL), RTL-simulated cycles/frame and img/s at 100 and 200 MHz, FINN's estimate, the parameter
memory against the board (flow/analysis/memory_fit.py) and yosys resources with ``--synth``.
Results: results/bench/resnet_hw.json (merged by model/board/model args); the table in docs/resnet_hw.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from flow.core import cli
from flow.core.files import write_json
from flow.core.provenance import provenance

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "results" / "bench" / "resnet_hw.json"
MODELS = ("bireal_resnet18_hw", "xnor_resnet18_hw", "bireal_resnet34_hw")


def build(model: str, board: str, args, out: Path) -> dict:
    """One flow/build.py run in its own process; what it reached, from its log and summary.json."""
    cmd = [sys.executable, str(REPO / "flow" / "build.py"), "--board", board, "--model", model,
           "--target-fps", str(args.target_fps), "--verify-images", str(args.verify_images),
           "--output", str(out)]  # fmt: skip
    cmd += ["--model-args", args.model_args] if args.model_args else []
    cmd += ["--synth"] if args.synth else []
    cmd += ["--clock-mhz", str(args.clock_mhz)] if args.clock_mhz is not None else []
    print("$", " ".join(cmd), flush=True)
    t0 = time.monotonic()
    # its own process group, so a timeout also stops the Verilator / yosys processes the build started
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            start_new_session=True)  # fmt: skip
    try:
        _, log = proc.communicate(timeout=args.timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, log = proc.communicate()
        code = None
    result = {"model": model, "board": board, "model_args": args.model_args, "target_fps": args.target_fps,
              "clock_mhz": args.clock_mhz, "wall_s": round(time.monotonic() - t0, 1), "exit_code": code,
              "steps": step_times(log)}  # fmt: skip
    errors = [line for line in log.splitlines() if line.startswith("error:")]
    started = re.findall(r"^\[\s*\d+/\d+\] (\w+) \.\.\.", log, re.M)
    running = started[-1] if started and started[-1] not in result["steps"] else None
    in_step = result["wall_s"] - sum(result["steps"].values())  # the unfinished step's share of the wall time
    stopped = f"stopped after {args.timeout:.0f} s in step {running} (running for {in_step:.0f} s)"
    result["error"] = errors[-1] if errors else (None if code == 0 else stopped)
    summary = out / "report" / "summary.json"
    if code == 0 and summary.is_file():
        result.update(collect(json.loads(summary.read_text())))
    return result


def step_times(log: str) -> dict:
    """``{step: seconds}`` from the progress lines (``        name: done in 12.34 s``)."""
    return {m[1]: float(m[3]) for m in re.finditer(r"^\s+(\w+): (done|FAILED|skipped) in ([0-9.]+) s", log, re.M)}


def collect(summary: dict) -> dict:
    v, r = summary["verification"], summary["rtlsim"] or {}
    cycles = r.get("cycles_per_frame")
    memory = next((s.get("memory") for s in summary["steps"] if s["name"] == "memory_fit"), None)
    return {
        "verification": {k: v.get(k) for k in ("images", "brevitas_vs_qonnx", "brevitas_vs_finn", "brevitas_vs_rtl")},
        "cycles_per_frame": cycles,
        "fps_100mhz": 100e6 / cycles if cycles else None,
        "fps_200mhz": 200e6 / cycles if cycles else None,
        "latency_cycles": r.get("latency_cycles"),
        "fifo_sizing": {k: (r.get("fifo_sizing") or {}).get(k) for k in ("runs", "seconds", "total_bits")},
        "finn_estimate": summary["estimate"],
        "memory": memory,
        "synth": summary["synth"],
    }


def table(results: list[dict]) -> str:
    head = (
        "| model | board | input / width | stages bit-exact (QONNX / FINN / RTL) | cycles/frame | img/s @100 / 200 MHz "
        "| FINN est. cycles | parameters Mbit (BRAM Mbit) | yosys LUT / FF / BRAM36 / URAM / DSP "
        "| build time per step (s) |\n"
        "|---|---|---|---|---:|---:|---:|---|---|---|\n"
    )
    rows = []
    for r in results:
        v = r.get("verification") or {}
        stages = (
            " / ".join(
                f"{v[k]}/{v['images']}"
                for k in ("brevitas_vs_qonnx", "brevitas_vs_finn", "brevitas_vs_rtl")
                if v.get(k) is not None
            )
            or "-"
        )
        cyc = r.get("cycles_per_frame")
        fps = f"{r['fps_100mhz']:,.0f} / {r['fps_200mhz']:,.0f}" if cyc else "-"
        est = (r.get("finn_estimate") or {}).get("cycles_per_frame", "-")
        mem = r.get("memory") or {}
        mem_s = f"{mem['parameter_mbit']} ({mem['bram_mbit']})" if mem else "-"
        y = r.get("synth") or {}
        synth = "not run"
        if y:  # an older row has no URAM count; out of context: one yosys process per block
            fits = ("fits" if y["fits"] else "over") + (", per block" if y.get("out_of_context") else "")
            synth = f"{y['lut']:,} / {y['ff']:,} / {y['bram36']:g} / {y.get('uram', '-')} / {y['dsp']:,} ({fits})"
        steps = ", ".join(f"{k} {v:.0f}" for k, v in r["steps"].items())
        status = "" if r.get("exit_code") == 0 else f" **stopped**: {r.get('error')}"
        rows.append(f"| {r['model']} | {r['board']} | {r.get('model_args') or '224 px, 1.0'} | {stages} | {cyc or '-'} "
                    f"| {fps} | {est} | {mem_s} | {synth} | {steps}{status} |")  # fmt: skip
    return head + "\n".join(rows) + "\n"


def doc_table(data: dict) -> str:
    """The bench table of docs/resnet_hw.md (bench/tables.py: resnet-bench-table)."""
    meta = data["meta"]
    foot = (
        f"\nLast run measured {meta['date']} (each row's date and commit below) on {meta['machine']} "
        "(shared with other jobs; times are wall clock).\n"
    )
    return table(data["results"]) + foot


def synth_table(results: list[dict]) -> str:
    """yosys per RTL module kind, and the delay model's slowest blocks, of every row synthesized out of
    context (``synth.by_module``; bench/tables.py: resnet-synth-table)."""
    out = []
    for r in results:
        y = r.get("synth") or {}
        if not y.get("by_module"):
            continue
        out.append(f"\n{r['model']}, {r['board']}, {r.get('model_args') or '224 px, 1.0'} ({r['date']}):\n\n")
        out.append("| RTL module | instances | LUT (as memory) | FF | BRAM36 | URAM | DSP |\n")
        out.append("|---|---:|---:|---:|---:|---:|---:|\n")
        for kind, m in y["by_module"].items():
            out.append(f"| {kind} | {m['instances']} | {m['lut']:,} ({m['lut_memory']:,}) | {m['ff']:,} "
                       f"| {m['bram36']:g} | {m['uram']} | {m['dsp']:,} |\n")  # fmt: skip
        util = y["utilization_pct"]
        out.append(f"| **total** (% of {y['part']}) | | **{y['lut']:,}** ({util['lut']} %) "
                   f"| {y['ff']:,} ({util['ff']} %) "
                   f"| {y['bram36']:g} ({util['bram36']} %) | {y['uram']} ({util['uram']} %) "
                   f"| {y['dsp']:,} ({util['dsp']} %) |\n")  # fmt: skip
        slow = (y.get("depth") or {}).get("slowest_blocks") or []
        out.append("\n| slowest blocks (delay model) | ns | LUT levels | from -> to |\n|---|---:|---:|---|\n")
        out += [f"| {b['block'].split('.u_')[-1]} | {b['critical_path_ns']} | {b['critical_path_lut_levels']} "
                f"| {b['critical_path_from']} -> {b['critical_path_to']} |\n" for b in slow]  # fmt: skip
    return "".join(out) or "\nNo out-of-context synthesis recorded.\n"


# The accuracy cost of the hardware form and its stem (flow/sweep.py runs; bench/run_benchmarks.sh step_resnet_acc).
ACC_RUNS = (
    ('hardware: max-pool + projection (`downsample="maxpool"`)', "fmnist_bireal_resnet_hw_maxpool"),
    (
        "hardware form with a binary-weight stem (`stem_bits=1`: alpha_o * sign(W) on UINT8 pixels)",
        "fmnist_bireal_resnet_hw_binstem",
    ),
    (
        'Bi-Real\'s float down-sampling shortcut on the int8 stream (`downsample="conv"`)',
        "fmnist_bireal_resnet_hw_conv",
    ),
    ("float zoo model `bireal_resnet18` (float stem, shortcuts, classifier)", "fmnist_bireal_resnet_float"),
)


def run_accuracies(folder: str) -> dict[int, float]:
    """Test accuracy (%) by seed from the sweep's per-run metrics.json files (finished runs only)."""
    out = {}
    for path in sorted((REPO / "results" / folder / "runs").glob("*/metrics.json")):
        metrics = json.loads(path.read_text())
        out[int(metrics["config"]["seed"])] = 100 * metrics["test_accuracy"]
    return out


def accuracy_table() -> str:
    """Test accuracy per seed, mean +- std, and the paired difference to the hardware form."""
    rows, base = [], run_accuracies(ACC_RUNS[0][1])  # the hardware form: every row's paired reference
    for label, folder in ACC_RUNS:
        acc = run_accuracies(folder)
        if not acc:
            rows.append(f"| {label} | not run | - | - |")
            continue
        paired = [base[k] - acc[k] for k in acc if k in base]  # paired by seed (the same data order)
        values = list(acc.values())
        diff = f"{sum(paired) / len(paired):+.2f} +- {_std(paired):.2f}" if paired else "-"
        rows.append(
            f"| {label} (`results/{folder}`) | {' / '.join(f'{acc[k]:.2f}' for k in sorted(acc))} "
            f"| {sum(values) / len(values):.2f} +- {_std(values):.2f} | {diff} |"
        )
    head = (
        "| form | test accuracy % (seeds 0 / 1 / 2) | mean +- std "
        "| hardware form minus this (paired mean +- std, pp) |\n"
    )
    return head + "|---|---|---|---|\n" + "\n".join(rows) + "\n"


def _std(values: list[float]) -> float:
    mean = sum(values) / len(values)
    return (sum((v - mean) ** 2 for v in values) / max(1, len(values) - 1)) ** 0.5


def load_results() -> dict:
    return json.loads(RESULTS.read_text()) if RESULTS.is_file() else {"meta": {}, "results": []}


def save_result(result: dict, meta: dict) -> None:
    """Merge one build into the JSON, replacing an earlier run of the same model, board and arguments
    (re-read first: several bench runs may write the file)."""
    data = load_results()
    for r in data["results"]:  # earlier rows keep the date (and commit) they were measured at
        r.setdefault("date", data["meta"].get("date"))
    result = {**result, "date": meta["date"], "provenance": meta["provenance"]}
    key = (result["model"], result["board"], result["model_args"])
    data["results"] = [r for r in data["results"] if (r["model"], r["board"], r["model_args"]) != key] + [result]
    data["meta"] = {k: v for k, v in meta.items() if k != "provenance"}  # provenance is per row
    write_json(RESULTS, data)  # temp file, then rename


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The options, checked before any build starts: bad input is one ``error:`` line (flow/core/cli.py)."""
    from flow.build import MAX_VERIFY_IMAGES
    from flow.core.boards import get_board

    ap = cli.Parser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    ap.add_argument("--board", action="append", help="ZCU104, KV260, Pynq-Z2 (repeatable; default ZCU104)")
    ap.add_argument(
        "--model-args", type=cli.json_object_text, help="JSON constructor arguments (reduced width / input size)"
    )
    ap.add_argument("--target-fps", type=cli.positive_float, default=1000.0, help="folding search target at the clock")
    ap.add_argument(
        "--clock-mhz", type=cli.positive_float, help="fabric clock (flow/build.py --clock-mhz; default the board's)"
    )
    ap.add_argument("--verify-images", type=cli.int_in(1, MAX_VERIFY_IMAGES), default=2)
    ap.add_argument("--synth", action="store_true", help="yosys resources (flow/build.py --synth)")
    ap.add_argument("--timeout", type=cli.positive_float, default=4 * 3600, help="wall-clock limit per build (s)")
    ap.add_argument("--work", type=cli.output_path, default=REPO / "build" / "bench_resnet")
    ap.add_argument("--table-only", action="store_true", help="rewrite the docs table from the JSON")
    args = ap.parse_args(argv)
    args.board = args.board or ["ZCU104"]
    for board in args.board:
        get_board(board, args.clock_mhz)  # an unknown board, or a clock beyond its PS's limit (BoardError)
    return args


def main(argv: list[str] | None = None) -> int:
    from flow.core.boards import BoardError

    return cli.run_cli(lambda: run(parse_args(argv)), "resnet_hw", (BoardError,))


def run(args: argparse.Namespace) -> int:
    if not args.table_only:
        meta = {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPU, {platform.system()}",
            "provenance": provenance(),
        }
        for board in args.board:
            for model in args.models:
                out = args.work / f"{model}-{board}"
                shutil.rmtree(out, ignore_errors=True)
                save_result(build(model, board, args, out), meta)  # after every build: partial results survive
    data = load_results()
    from bench.rerender import rerender

    rerender(["resnet-bench-table", "resnet-acc-table", "resnet-synth-table"])
    print(table(data["results"]))
    print(accuracy_table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
