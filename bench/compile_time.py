"""Compile time and parameter memory: a model from export to the folded graph, then the memory check.

    python bench/compile_time.py --model bireal_resnet18_hw --board ZCU104 --target-fps 1000
    python bench/compile_time.py --model bireal_resnet18_hw --profile /tmp/compile.prof   # + cProfile
    python bench/compile_time.py --model-args '{"stem_bits": 1}' --target-fps max --clock-mhz 200

Runs the build's steps as ``flow/build.py`` does (export_qonnx, the compile steps, memory_fit) and stops
there: no verification, RTL or synthesis, so the numbers are the front end's alone. Recorded per run: the
step times (wall and this process's CPU time: the machine is shared, CPU time is the steadier number),
their sums up to the folded graph (the issue's "export to folded graph"), and memory_fit's
report (parameter Mbit of the graph the backend emits and of the folded graph as FINN holds it), and
the folding search's model of the folded design (``fold``: img/s and cycles at the clock, bottleneck,
LUT / BRAM36 / URAM / DSP and whether it fits the board; flow/analysis/folding_search.py), so a model
variant's resources are known without RTL (the ``resnet-stem-table`` of docs/resnet_hw.md).
Results: results/bench/compile_time.json (merged by model, board, model args, target fps, passes,
profiling; each with its provenance) and the table in docs/resnet_hw.md (``bench/tables.py``
``compile-time-table``; ``--table-only`` regenerates it).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
RESULTS = REPO / "results" / "bench" / "compile_time.json"
FOLDED = "folding"  # the step after which the graph is folded


def compile_front_end(cfg) -> tuple[dict, dict]:
    """(wall s per step, CPU s per step, memory_fit's report, the folding search's result): the build up to and
    including memory_fit."""
    from flow.builder.build_steps import BEFORE_COMPILE, quietly, step_memory_fit
    from flow.builder.pipeline import run_compile_step
    from flow.compiler.compile_steps import COMPILE_STEPS
    from flow.core.config import BuildState

    cfg.model_dir.mkdir(parents=True)
    cfg.report_dir.mkdir(parents=True)
    state, times, cpu = BuildState(), {}, {}
    state.record = {}
    steps = [(n, s) for n, s in BEFORE_COMPILE] + [(n, s) for n, s, _ in COMPILE_STEPS]
    for name, step in [*steps, ("memory_fit", step_memory_fit)]:
        t0, c0 = time.perf_counter(), time.process_time()
        with quietly(cfg):
            run_compile_step(name, step, state, cfg)
        times[name] = round(time.perf_counter() - t0, 2)
        cpu[name] = round(time.process_time() - c0, 2)
        print(f"{name}: {times[name]:.2f} s ({cpu[name]:.2f} s CPU)", flush=True)
    return times, cpu, state.record.get("memory", {}), state.search


def run(args) -> dict:
    import torch

    from flow.backends import get_backend
    from flow.core import finn_env, qonnx_speed
    from flow.core.boards import get_board
    from flow.core.config import BuildConfig

    if args.qonnx_passes == "original":  # finn_env installs the fast ones
        qonnx_speed.uninstall()
    del finn_env
    with tempfile.TemporaryDirectory(prefix="compile_time_") as tmp:
        cfg = BuildConfig(board=get_board(args.board, args.clock_mhz), backend=get_backend("rtl"), workdir=Path(tmp),
                          model=args.model, model_kwargs=json.loads(args.model_args or "{}") or None,
                          target_fps=args.target_fps, verify_images=1)  # fmt: skip
        # the untrained model's random weights decide which re-quantizer channels keep a threshold table
        torch.manual_seed(args.seed)
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        times, cpu, memory, search = compile_front_end(cfg)
        if profiler:
            profiler.disable()
            profiler.dump_stats(str(args.profile))
    names = list(times)
    upto = names[: names.index(FOLDED) + 1]
    target = "max" if math.isinf(args.target_fps) else args.target_fps  # JSON has no infinity
    return {"model": args.model, "board": args.board, "model_args": args.model_args, "target_fps": target,
            "clock_mhz": args.clock_mhz, "seed": args.seed, "qonnx_passes": args.qonnx_passes,
            "profiled": bool(args.profile),
            "steps": times, "cpu_steps": cpu, "export_to_folded_s": round(sum(times[n] for n in upto), 1),
            "export_to_folded_cpu_s": round(sum(cpu[n] for n in upto), 1), "memory": memory,
            "fold": fold_record(search, cfg.board.clock_mhz)}  # fmt: skip


def fold_record(search, clock_mhz: float) -> dict | None:
    """The folding search's model of the folded design: what it reached and what it costs."""
    if search is None:
        return None
    c = search.cost
    # the folding is in graph order: the first MVAU is the stem
    stem = next(({"node": n, **f} for n, f in search.folding.items() if n.startswith("MVAU")), None)
    return {"clock_mhz": clock_mhz, "fps": round(search.fps, 1), "cycles_per_frame": search.cycles,
            "bottleneck": search.bottleneck, "reached": search.reached, "limit": search.limit,
            "lut": c.get("lut"), "bram36": c.get("bram36"), "uram": c.get("uram", 0), "dsp": c.get("dsp", 0),
            "fits": bool(c.get("fits")), "lut_by_family": c.get("lut_by_family"), "stem": stem}  # fmt: skip


def merge(result: dict) -> None:
    """Add ``result`` (with its provenance) to the JSON, replacing an earlier run of the same key."""
    from flow.core.files import write_atomically
    from flow.core.provenance import provenance

    result.setdefault("provenance", provenance())
    data = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {"results": []}
    key = ("model", "board", "model_args", "target_fps", "clock_mhz", "qonnx_passes", "profiled")
    data["results"] = [r for r in data["results"] if any(r.get(k) != result[k] for k in key)] + [result]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(RESULTS, json.dumps(data, indent=1) + "\n")


def table(results: list[dict]) -> str:
    """The docs table: one row per recorded run."""
    rows = ["| model | input | qonnx passes | export -> folded, CPU s (wall s) | per step, CPU s | parameters Mbit: "
            "folded graph -> emitted (re-quantizers) |", "|---|---|---|---:|---|---|"]  # fmt: skip
    for r in results:
        steps = ", ".join(f"{k} {v:.1f}" for k, v in r["cpu_steps"].items())
        m = r["memory"]
        rows.append(
            f"| {r['model']} | {setting(r)} | {r['qonnx_passes']}{' (cProfile)' * r['profiled']} "
            f"| {r['export_to_folded_cpu_s']:.0f} ({r['export_to_folded_s']:.0f}) | {steps} "
            f"| {m.get('folded_graph_mbit')} -> {m.get('parameter_mbit')} ({m.get('requant_nodes')}) |"
        )
    return "\n".join(rows) + "\n"


def setting(r: dict) -> str:
    """The model arguments, and the folding target where it is not the section's --target-fps 1000."""
    target = r["target_fps"] if r["target_fps"] == "max" else f"{r['target_fps']:g}"
    clock = f" @ {r['clock_mhz']:g} MHz" if r.get("clock_mhz") else ""
    fold = "" if target == "1000" and not clock else f", --target-fps {target}{clock}"
    return f"{r['model_args'] or 'full size'}{fold}"


def fold_table(results: list[dict]) -> str:
    """The folding search's modelled design of every run that recorded one (docs/resnet_hw.md, the stem)."""
    rows = [
        "| model | model args | --target-fps @ clock | modelled img/s (cycles/frame) | LUT | BRAM36 | URAM "
        "| DSP | fits | bottleneck | stem MVAU PE x SIMD |",
        "|---|---|---|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for r in results:
        f = r.get("fold")
        if not f:
            continue
        target = r["target_fps"] if r["target_fps"] == "max" else f"{r['target_fps']:g}"
        rows.append(
            f"| {r['model']} | {r['model_args'] or 'full size (int8 stem)'} | {target} @ {f['clock_mhz']:g} MHz "
            f"| {f['fps']:,.0f} ({f['cycles_per_frame']:,}) | {f['lut']:,} | {f['bram36']:g} | {f['uram']:g} "
            f"| {f['dsp']:,} | {'yes' if f['fits'] else 'no'} | {f['bottleneck']} | {stem_text(f.get('stem'))} |"
        )
    return "\n".join(rows) + "\n"


def stem_text(stem: dict | None) -> str:
    return f"{stem['PE']} x {stem['SIMD']} ({stem['node']})" if stem else "-"


def write_table() -> None:
    from bench.rerender import rerender

    rerender(["compile-time-table", "resnet-stem-table"])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The options, checked before the compile starts: bad input is one ``error:`` line (flow/core/cli.py)."""
    from flow.builder.options import target_fps
    from flow.core import cli
    from flow.core.boards import get_board

    p = cli.Parser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="bireal_resnet18_hw")
    p.add_argument("--board", default="ZCU104")
    p.add_argument("--model-args", type=cli.json_object_text, help="JSON constructor arguments (default: full size)")
    p.add_argument("--target-fps", type=target_fps, default=1000.0, help="img/s, or max (the fastest that fits)")
    p.add_argument("--clock-mhz", type=cli.positive_float, default=None, help="fabric clock (default: the board's)")
    p.add_argument("--seed", type=cli.int_in(0), default=0, help="torch seed of the untrained model's weights")
    p.add_argument("--profile", type=cli.output_path, default=None, help="write cProfile stats here")
    p.add_argument("--qonnx-passes", choices=("fast", "original"), default="fast",
                   help="original: qonnx's own InferShapes, SortGraph, GiveUniqueParameterTensors")  # fmt: skip
    p.add_argument("--no-record", action="store_true", help="do not write results/bench/compile_time.json")
    p.add_argument("--table-only", action="store_true", help="regenerate the docs table from the JSON")
    args = p.parse_args(argv)
    get_board(args.board, args.clock_mhz)  # an unknown board or a clock over its limit: BoardError
    return args


def main(argv: list[str] | None = None) -> int:
    from flow.core import cli
    from flow.core.boards import BoardError

    return cli.run_cli(lambda: record(parse_args(argv)), "compile_time", (BoardError,))


def record(args: argparse.Namespace) -> int:
    """Run (unless ``--table-only``), print and record the result, re-render the table."""
    if args.table_only:
        write_table()
        return 0
    result = run(args)
    print(json.dumps(result, indent=1))
    if not args.no_record:
        merge(result)
        write_table()
    return 0


if __name__ == "__main__":
    sys.exit(main())
