"""Critical path of every block of a generated design, each block synthesized alone (no whole-design run).

A whole CNV through yosys takes about an hour on the 2-core machine; its blocks one by one take minutes,
and the slowest register-to-register path of the design is the slowest of its blocks' (the top only
wires streams between them: every block's ports are registered or pass straight through). For each
distinct (module, parameters) instance of ``shiftbnn_top`` in a build's rtl/ folder, yosys
``synth_xilinx`` of that module alone (flow.rtl_backend.synth.synth_module, the project's one yosys
runner, with the build's memory files) and the delay model's critical path (flow/rtl_backend/timing.py).

    python flow/build.py --board Pynq-Z2 --model xnor_cnv --model-kwargs '{"in_channels": 3, "in_size": 32}' \\
        --target-fps 20000 --skip-rtlsim --output build/cnv20k
    python bench/synth_timing.py --rtl build/cnv20k/rtl --label after     # adds/overwrites that label
    python bench/tables.py timing-blocks-table                            # the docs table from the JSON
    python bench/synth_timing.py --label after --whole-design build/x     # a --synth build's whole design

Writes results/bench/timing_blocks.json: per label (``before``: the RTL of the commit recorded with it;
``after``: this one) the blocks with their LUT/FF, critical path (ns, LUT levels, CARRY4s), where it runs
and the next-slowest paths; the provenance (commit, command, machine, yosys version) of each label.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path

from flow.core import cli
from flow.core.provenance import provenance
from flow.rtl_backend.synth import SynthError, synth_module

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "results" / "bench" / "timing_blocks.json"
CLOCK_NS = 5.0  # the issue-26 goal: 200 MHz by the delay model

INSTANCE = re.compile(r"^  (\w+)\s*(?:#\((.*?)\n  \))?\s*u_(\w+)\s*\(", re.M | re.S)
PARAM = re.compile(r"\.(\w+)\s*\((.*?)\)\s*(?:,|$)", re.M)


def instances(top_text: str) -> list[dict]:
    """The top's block instances: module, instance name (without ``u_``) and parameter overrides as
    SystemVerilog text (strings keep their quotes: yosys' ``-G`` takes them as written)."""
    return [
        {"module": m, "instance": name, "params": dict(PARAM.findall(plist or ""))}
        for m, plist, name in INSTANCE.findall(top_text)
    ]


def distinct(blocks: list[dict]) -> list[dict]:
    """One entry per (module, parameters), with every instance it stands for."""
    out: dict[tuple, dict] = {}
    for b in blocks:
        key = (b["module"], tuple(sorted(b["params"].items())))
        out.setdefault(key, {**b, "instances": []})["instances"].append(b["instance"])
    return list(out.values())


def synth_block(block: dict, rtl: Path, work: Path) -> dict:
    files = [f for f in (rtl / "filelist.f").read_text().split() if f != "fifo_gauge.sv"]
    r = synth_module(block["module"], files, work / block["instance"], params=block["params"], cwd=rtl, depth=True)
    d = r["depth"]
    return {
        "module": block["module"],
        "instances": block["instances"],
        "params": block["params"],
        "lut": r["lut"],
        "ff": r["ff"],
        "carry4": r["carry"],
        "critical_path_ns": d["critical_path_ns"],
        "critical_path_lut_levels": d["critical_path_lut_levels"],
        "critical_path_carry4": d["critical_path_carry4"],
        "critical_path_from": d["critical_path_from"],
        "critical_path_to": d["critical_path_to"],
        "slowest_paths": d["slowest_paths"][:4],
        "synth_s": r["seconds"],
    }


def extra_block(spec: str) -> dict:
    """``module:{"PARAM": value, ...}`` (JSON; strings as SystemVerilog text): a module of the rtl/ folder
    at other parameters, e.g. FINN's fifo at the depth FIFO sizing gives (a --skip-rtlsim build's are 2)."""
    module, _, params = spec.partition(":")
    try:
        values = json.loads(params or "{}")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{spec}: expected module:{{JSON parameters}}") from None
    name = module + "_" + "_".join(f"{k}{v}" for k, v in values.items())
    return {"module": module, "instance": re.sub(r"\W", "", name), "params": {k: str(v) for k, v in values.items()}}


def run(rtl: Path, work: Path, jobs: int, only: str | None, extra: list[dict]) -> list[dict]:
    blocks = distinct(instances((rtl / "shiftbnn_top.sv").read_text()))
    if only:
        blocks = [b for b in blocks if re.search(only, b["module"] + " " + " ".join(b["instances"]))]
    blocks += distinct(extra)
    if not blocks:
        raise SystemExit(f"error: no block instances found in {rtl / 'shiftbnn_top.sv'}")

    def one(b: dict) -> dict:
        try:
            row = synth_block(b, rtl, work)
        except SynthError as exc:
            row = {"module": b["module"], "instances": b["instances"], "params": b["params"], "error": str(exc)}
        print(f"{b['instances'][0]:<36} {row.get('critical_path_ns', 'FAILED')} ns", flush=True)
        return row

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        rows = list(pool.map(one, blocks))
    return sorted(rows, key=lambda r: -r.get("critical_path_ns", 99))


def _cell(r: dict | None) -> str:
    if not r:
        return "-"
    if "error" in r:
        return "failed"
    ns = r["critical_path_ns"]
    mark = f"**{ns}**" if ns > CLOCK_NS else f"{ns}"
    return f"{mark} ({r['critical_path_lut_levels']} LUT + {r['critical_path_carry4']} CARRY4)"


def _params(p: dict) -> str:
    keep = ("MW", "MH", "PE", "SIMD", "XnorMode", "InputBits", "LevelsPerStage", "WeightOutReg", "InBits", "OutBits")
    keep += ("Channels", "DEPTH", "DATA_WIDTH")
    return ", ".join(f"{k}={v}" for k, v in p.items() if k in keep) or "-"


def _merged(runs: dict, label: str) -> dict:
    """A label's blocks by (module, first instance); a run restricted by ``--only`` takes the first
    label's rows for the blocks it did not synthesize (the same RTL and parameters: checked when run)."""
    key = lambda r: (r["module"], r["instances"][0])  # noqa: E731
    first = next(iter(runs.values()))
    rows = {key(r): r for r in runs[label]["blocks"]}
    if runs[label].get("only"):
        rows = {**{key(r): {**r, "carried": True} for r in first["blocks"]}, **rows}
    return rows


def table(data: dict, design: str = "cnv-20k") -> str:
    """Per block: LUT / FF and critical path of every run (bold: over the clock goal; in parentheses: a
    block the run did not synthesize again), slowest first by the last run, and where that path runs."""
    runs = data["designs"][design]
    labels = list(runs)
    by = {lab: _merged(runs, lab) for lab in labels}
    last = labels[-1]
    order = sorted(by[last], key=lambda k: -by[last][k].get("critical_path_ns", 99))
    runs_head = " | ".join(f"{lab}: LUT / FF | {lab}: ns" for lab in labels)
    head = f"| block (instances) | module | parameters ({last}) | {runs_head}"
    lines = [head + f" | slowest path ({last}) |", "|---|---|---|" + "---:|---:|" * len(labels) + "---|"]
    for k in order:
        r = by[last][k]
        n = len(r["instances"])
        cells = []
        for lab in labels:
            x = by[lab].get(k)
            size = f"{x.get('lut', '-')} / {x.get('ff', '-')}" if x and not x.get("carried") else "(same)"
            cells += [size, f"({_cell(x)})" if x and x.get("carried") else _cell(x)]
        lines.append(
            f"| {r['instances'][0]}{f' (+{n - 1})' if n > 1 else ''} | {r['module']} | {_params(r['params'])} | "
            + " | ".join(cells)
            + f" | {r.get('critical_path_from')} -> {r.get('critical_path_to')} |"
        )
    notes = "; ".join(
        f"**{lab}**: {runs[lab].get('what', '')} `{runs[lab]['provenance']['command']}` at "
        f"{runs[lab]['provenance']['commit'][:7]} ({runs[lab]['date']}, {runs[lab]['provenance']['machine']}, "
        f"{runs[lab]['yosys']}), slowest block "
        f"{max((r['critical_path_ns'] for r in by[lab].values() if 'critical_path_ns' in r), default='-')} ns"
        for lab in labels
    )
    return (
        "\n".join(lines)
        + "\n\nEach block synthesized alone (`bench/synth_timing.py`, yosys `synth_xilinx -family xc7`) from the "
        "rtl/ of a `flow/build.py ... --skip-rtlsim` build; critical path by the delay model of "
        "`flow/rtl_backend/timing.py` (no place and route), **bold** above the "
        f"{CLOCK_NS:g} ns goal (200 MHz). Paths through a port (`-`) count from / to the port, so a handshake "
        f"path between two blocks is split between them. Runs: {notes}.\n" + _whole(runs[last], last)
    )


def _whole(run: dict, label: str) -> str:
    """The one whole-design run of a label, where recorded: its critical path and where it runs."""
    w = run.get("whole_design")
    if not w:
        return ""
    paths = "; ".join(f"{q['ns']} ns {q['from']} -> {q['to']}" for q in w["slowest_paths"][:4])
    return (
        f"\nWhole design ({label}, `{w['command']}` at {w['commit'][:7]}, {w['date']}, "
        f"yosys {w['yosys_seconds']:.0f} s): "
        f"{w['lut']} LUT / {w['ff']} FF, critical path **{w['critical_path_ns']} ns** "
        f"({w['depth']['critical_path_lut_levels']} LUT levels; meets {w['clock_mhz']:g} MHz: {w['meets_clock']}). "
        f"Slowest paths: {paths}. {w.get('note', '')}\n"
    )


def whole_design(build: Path) -> dict:
    """The whole-design run of a ``flow/build.py --synth`` build (its summary.json): command, commit,
    yosys' counts and time, the delay model's critical path (cell by cell) and slowest paths."""
    summary = json.loads((build / "report" / "summary.json").read_text())
    y, prov = summary.get("synth") or {}, summary.get("provenance") or {}
    if "depth" not in y:
        raise SystemExit(f"error: {build} has no synthesis with a critical path (build with --synth)")
    return {
        "note": "Every block mapped on its own, the netlist timed flattened (flow/rtl_backend/synth.py "
        "synthesize): paths between blocks included.",
        "command": prov.get("command", "?"),
        "commit": prov.get("commit", "?"),
        "dirty_files": prov.get("dirty_files", []),
        "date": prov.get("date", "?"),
        "machine": prov.get("machine", "?"),
        "yosys_seconds": y["seconds"],
        **{k: y[k] for k in ("lut", "ff", "bram36", "critical_path_ns", "meets_clock", "clock_mhz")},
        "rtlsim_fps": (summary.get("rtlsim") or {}).get("fps"),
        "depth": y["depth"],
        "slowest_paths": y["depth"]["slowest_paths"][:8],
    }


def record_whole(design: str, label: str, build: Path | None) -> int:
    """``--whole-design BUILD`` without ``--rtl``: the build's whole-design run into an existing label."""
    data = json.loads(OUT.read_text()) if OUT.is_file() else {"designs": {}}
    runs = data["designs"].get(design, {})
    if build is None or label not in runs:
        print(f"error: give --rtl, or --whole-design BUILD with a --label of {design} ({list(runs)})", file=sys.stderr)
        return 2
    runs[label]["whole_design"] = whole_design(build.resolve())
    _write(data)
    print(f"{design} / {label}: whole design {runs[label]['whole_design']['critical_path_ns']} ns; wrote {OUT}")
    return 0


def _write(data: dict) -> None:
    tmp = OUT.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(OUT)


def main(argv: list[str] | None = None) -> int:
    return cli.run_cli(lambda: time_blocks(parse_args(argv)), "synth_timing")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The options, checked before any work: bad input is one ``error:`` line (flow/core/cli.py)."""
    ap = cli.Parser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rtl", type=Path, help="a build's rtl/ folder (flow/build.py --skip-rtlsim)")
    ap.add_argument("--label", default="after", help="the entry of the JSON to write (before / after)")
    ap.add_argument("--design", default="cnv-20k", help="what the rtl/ folder holds (recorded)")
    ap.add_argument("--build-command", default="", help="the flow/build.py command that made --rtl (recorded)")
    ap.add_argument("--what", default="", help="what the run shows, one phrase (recorded, in the table)")
    ap.add_argument("--only", help="regular expression: only the blocks whose module or instance matches")
    ap.add_argument("--extra", type=extra_block, action="append", default=[], metavar='MODULE:{"P": V}',
                    help="also this module of rtl/ at these parameters (repeatable)")  # fmt: skip
    ap.add_argument("--whole-design", type=Path, metavar="BUILD",
                    help="record this flow/build.py --synth build's whole-design run with the label")  # fmt: skip
    ap.add_argument("--jobs", type=cli.int_in(1, cli.MAX_JOBS), default=1)
    ap.add_argument("--work", type=Path, default=ROOT / "results" / "bench" / "logs" / "timing_blocks")
    return ap.parse_args(argv)


def time_blocks(args: argparse.Namespace) -> int:
    if args.rtl is None:  # only the whole-design run, into a label measured before
        return record_whole(args.design, args.label, args.whole_design)
    rtl = args.rtl.resolve()
    if not (rtl / "shiftbnn_top.sv").is_file() or not (rtl / "filelist.f").is_file():
        print(f"error: {rtl} holds no shiftbnn_top.sv / filelist.f (a build's rtl/ folder)", file=sys.stderr)
        return 2
    prov = provenance()  # the code the run starts from
    whole = whole_design(args.whole_design.resolve()) if args.whole_design else None
    rows = run(rtl, args.work / args.label, args.jobs, args.only, args.extra)
    data = json.loads(OUT.read_text()) if OUT.is_file() else {"clock_goal_ns": CLOCK_NS, "designs": {}}
    entry = data["designs"].setdefault(args.design, {})
    entry[args.label] = {
        "date": prov["date"],
        "provenance": prov,
        "yosys": f"yosys {version('pyosys')} (pyosys)",
        "build_command": args.build_command,
        "what": args.what,
        "only": args.only,
        "blocks": rows,
        **({"whole_design": whole} if whole else {}),
    }
    _write(data)
    worst = max((r for r in rows if "critical_path_ns" in r), key=lambda r: r["critical_path_ns"], default=None)
    if worst:
        print(f"slowest block: {worst['instances'][0]} {worst['critical_path_ns']} ns; wrote {OUT}")
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
