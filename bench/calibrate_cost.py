"""Fit the resource model (flow/analysis/cost.py) on yosys' per-block counts of finished builds.

    python bench/calibrate_cost.py BUILD [BUILD ...]           # yosys per block on each build's rtl/
    python bench/calibrate_cost.py --table-only                # the docs table again from the JSON

Each BUILD is an output folder of flow/build.py (rtl/, model/folded.onnx, report/summary.json; FIFOs
sized when it ran the RTL simulation). For each: its lowered graph (``rtl_graph`` of folded.onnx with
the FIFO depths of rtl/top.json), yosys ``synth_xilinx`` keeping every block (``flatten=False``: LUTs
per instance) and flattened (the design's total, as ``--synth`` counts it; taken from the build's
summary when it ran ``--synth``). Every block is a row: its family and features (cost.py ``block_of``)
beside its yosys LUTs. Per family, non-negative least squares of (yosys LUT - the model's memory LUTs)
on the features gives the coefficients. Errors, per design, of the whole design's modelled LUT against
yosys' flattened total: in-sample (fitted on every design) and out-of-sample (fitted without that
design). The LUT margin is the worst out-of-sample underestimate (the BRAM36 margin likewise), so that
"fits" by the model means fits in yosys for every calibration design it did not see.

Writes results/bench/cost_calibration.json (every row, the errors, date, machine, commit, command, yosys
version) and the table between the markers in docs/rtl_backend.md (the error of the coefficients in use
beside the refit's). With ``--adopt`` flow/analysis/cost_coefficients.json gets the refit (what cost.py
reads: it changes what every search builds); without it the coefficients stay and each margin grows to
the worst underestimate they make on these designs (the fit check and ``max`` then keep designs that
fit in yosys). Whole-CNV yosys runs take 6-16 min each: run it under ``nice -n 19``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from flow.core.provenance import provenance  # noqa: E402

RESULTS = REPO / "results" / "bench" / "cost_calibration.json"
FOLDINGS = REPO / "results" / "bench" / "calibration"


def lowered_graph(build: Path, part: str):
    """The graph the build emitted: rtl_graph of its folded graph with the FIFO depths of rtl/top.json."""
    from qonnx.core.modelwrapper import ModelWrapper

    import flow.core.finn_env  # noqa: F401
    from flow.rtl_backend.emit import set_fifo_depths
    from flow.rtl_backend.graph import rtl_graph

    rtl = rtl_graph(ModelWrapper(str(build / "model" / "folded.onnx")), part)
    set_fifo_depths(rtl, json.loads((build / "rtl" / "top.json").read_text())["fifo_depths"])
    return rtl


def per_block_stat(build: Path, work: Path, board) -> dict:
    """yosys' per-instance cells of the build's top, every module kept: the build's own ``--synth`` run,
    an earlier per-block run (bench/rtl_backend.py --per-block, ``report/synth/per_block``) or a new one
    in ``work``."""
    from flow.rtl_backend.synth import kept_blocks, synth_module

    for run in ("synth", "synth/per_block"):  # the build's --synth run keeps every block (kept_blocks)
        kept = kept_blocks(build / "report" / run)
        if kept:
            return kept
    rtl = (build / "rtl").resolve()
    files = [f for f in (rtl / "filelist.f").read_text().split() if f != "fifo_gauge.sv"]
    return synth_module("shiftbnn_top", files, work / "per_block", family=board.family, cwd=rtl, flatten=False)[
        "blocks"
    ]


def measure(build: Path, work: Path) -> dict:
    """One design: the model's row of every block, yosys' LUTs beside those it has an instance for, and the
    flattened totals. Identical modules are synthesized once (``instances`` > 1): that row counts that often
    and the other nodes it stands for get no row of their own (their model rows still count in the total)."""
    from flow.analysis.cost import block_of
    from flow.core.boards import get_board
    from flow.rtl_backend.emitters.common import sv_name
    from flow.rtl_backend.synth import count_cells
    from flow.rtl_backend.synth_design import synthesize

    summary = json.loads((build / "report" / "summary.json").read_text())
    board = get_board(summary["board"])
    rtl = lowered_graph(build, board.part)
    blocks = per_block_stat(build, work, board)
    per_instance = {name.split(".u_")[-1]: (count_cells(b["cells"]), b["instances"]) for name, b in blocks.items()}
    flat = summary.get("synth") or synthesize(build / "rtl", board, work / "flat")
    model_rows, rows = [], []
    for node in rtl.graph.node:
        b = block_of(rtl, node, board.part)
        model_rows.append({"family": b.family, "features": b.features, "mem_lut": b.mem_lut, "bram36": b.bram36})
        if sv_name(node.name) in per_instance:
            y, n = per_instance[sv_name(node.name)]
            rows.append({"node": node.name, **model_rows[-1], "yosys_lut": y["lut"], "yosys_bram36": y["bram36"],
                         "instances": n})  # fmt: skip
    target = (summary.get("target") or {}).get("target_fps", "folding JSON")
    return {"build": str(build), "model": summary["model"], "board": board.name, "target": target,
            "yosys_lut": flat["lut"], "yosys_bram36": flat["bram36"], "blocks": rows,
            "model_blocks": model_rows}  # fmt: skip


MVAU_POINTS = REPO / "results" / "bench" / "mvau_synth.json"


def mvau_rows(path: Path = MVAU_POINTS) -> list[dict]:
    """bnn_mvau synthesized alone (bench/synth_mvau.py: one threshold, yosys per point) as rows of the
    family and features cost.py's ``mvau_block`` gives the node: ``mvau_xnor`` (XNOR mode) or ``mvau_int``
    (integer inputs, ``mode`` int<B>); PE x SIMD up to 1,024, beyond what the designs hold."""
    from flow.analysis.cost import rom_features, weight_memory

    if not path.is_file():
        return []
    rows = []
    for p in json.loads(path.read_text())["points"]:
        depth, width = p["MW"] * p["MH"] // (p["PE"] * p["SIMD"]), p["PE"] * p["SIMD"]
        xnor = p.get("mode", "xnor") == "xnor"
        mem_lut, bram, _ = weight_memory(p["weights"], depth, width, xnor)
        if xnor:
            family, feats = "mvau_xnor", {"pe_simd": width, **rom_features(p["weights"], depth, width)}
        else:
            family, feats = "mvau_int", {"pe_simd_bits": width * p["input_bits"]}
        name = f"bnn_mvau {p['MW']}x{p['MH']} {p['PE']}/{p['SIMD']} {p['weights']} {p.get('mode', 'xnor')}"
        measured = {"yosys_lut": p["lut"] + p["lutram_luts"], "yosys_bram36": p["bram18"] / 2, "instances": 1}
        rows.append({"node": name, "family": family, "features": {**feats, "pe": p["PE"], "one": 1},
                     "mem_lut": mem_lut, "bram36": bram, **measured})  # fmt: skip
    return rows


def fit(designs: list[dict], extra: list[dict] | None = None) -> dict:
    """Per family, non-negative least squares of (yosys LUT - memory LUTs) on the features (the designs'
    block rows and ``extra`` rows)."""
    from flow.analysis.cost import coefficients

    families = {}
    for r in [row for d in designs for row in d["blocks"]] + (extra or []):
        families.setdefault(r["family"], []).extend([r] * r["instances"])
    out = {f: dict(v) for f, v in coefficients()["families"].items()}  # families without rows keep theirs
    for family, rows in families.items():
        names = sorted({k for r in rows for k in r["features"]})
        a = np.array([[r["features"].get(n, 0.0) for n in names] for r in rows], dtype=float)
        y = np.array([r["yosys_lut"] - r["mem_lut"] for r in rows], dtype=float)
        scale = np.maximum(np.abs(a).max(axis=0), 1e-9)  # column scaling: features span 1 .. 10^5
        coef, _ = nnls(a / scale, y)
        fitted = {n: float(c / s) for n, c, s in zip(names, coef, scale, strict=True)}
        # a feature no row exercises keeps its previous coefficient (nothing measured it)
        out[family] = {**out.get(family, {}), **{n: v for n, v in fitted.items() if a[:, names.index(n)].any()}}
    return out


def modelled(design: dict, coef: dict) -> tuple[float, float]:
    """(LUT, BRAM36) of a design's blocks under the coefficients ``coef``."""
    lut = sum(sum(coef[r["family"]].get(k, 0.0) * v for k, v in r["features"].items()) + r["mem_lut"]
              for r in design["model_blocks"])  # fmt: skip
    return lut, sum(r["bram36"] for r in design["model_blocks"])


def errors(designs: list[dict], extra: list[dict]) -> list[dict]:
    """Per design: modelled LUT / BRAM36 against yosys' flattened totals, in-sample and out-of-sample."""
    from flow.analysis.cost import coefficients

    full, current = fit(designs, extra), coefficients()["families"]
    out = []
    for i, d in enumerate(designs):
        rest = designs[:i] + designs[i + 1 :]
        lut_in, bram = modelled(d, full)
        lut_now = modelled(d, current)[0]
        # fitted without this design's blocks: on the others and the MVAU benchmark rows (with one design,
        # on those rows alone; a family with no row keeps the coefficients in use)
        lut_out = modelled(d, fit(rest, extra))[0]
        out.append({
            "model": d["name"], "build": d["build"], "yosys_lut": d["yosys_lut"], "yosys_bram36": d["yosys_bram36"],
            "model_lut_current": round(lut_now), "error_current_pct": round(100 * (lut_now / d["yosys_lut"] - 1), 1),
            "model_lut_in_sample": round(lut_in), "model_lut_out_of_sample": round(lut_out), "model_bram36": bram,
            "error_in_sample_pct": round(100 * (lut_in / d["yosys_lut"] - 1), 1),
            "error_out_of_sample_pct": round(100 * (lut_out / d["yosys_lut"] - 1), 1),
            "error_bram36_pct": round(100 * (bram / d["yosys_bram36"] - 1), 1) if d["yosys_bram36"] else None,
        })  # fmt: skip
    return out


def margin(errs: list[dict], ratio) -> float:
    """The worst underestimate (yosys / model - 1, >= 0) over the designs."""
    worst = max((ratio(e) for e in errs if ratio(e) is not None), default=1.0)
    return round(max(0.0, worst - 1.0), 3)


def table(data: dict) -> str:
    rows = "".join(
        f"| {e['model']} | {e['yosys_lut']:,} | {e['model_lut_current']:,} ({e['error_current_pct']:+.1f} %) "
        f"| {e['model_lut_in_sample']:,} "
        f"({e['error_in_sample_pct']:+.1f} %) | {e['model_lut_out_of_sample']:,} "
        f"({e['error_out_of_sample_pct']:+.1f} %) "
        f"| {e['yosys_bram36']:g} | {e['model_bram36']:g} |\n"
        for e in data["errors"]
    )
    m = data["meta"]
    return (
        "| design | yosys LUT | model LUT, coefficients in use | refit, in-sample | refit, out-of-sample "
        "| yosys BRAM36 | model BRAM36 |\n|---|---:|---:|---:|---:|---:|---:|\n"
        + rows
        + f"\nRefit's LUT margin {data['margin']['lut']:.1%}, "
        f"BRAM36 margin {data['margin']['bram36']:.1%} (worst out-of-sample underestimate); the refit is "
        + ("in use" if data.get("adopted") else "**not adopted** (`--adopt`)")
        + f". Fitted {m['date']} on "
        f"{m['machine']}, commit {m['provenance']['commit'][:7]}, {m['yosys']}: `{m['command']}`.\n"
    )


def meta(argv: list[str]) -> dict:
    from bench.rtl_backend import meta as bench_meta

    return {**bench_meta(), "provenance": provenance(), "command": "python bench/calibrate_cost.py " + " ".join(argv)}


def design_arg(text: str) -> tuple[str, Path]:
    """``NAME=BUILD`` (a design's name in the tables) or a bare build folder (named after it)."""
    name, _, path = text.rpartition("=")
    return (name or Path(path).name), Path(path)


def save_folding(name: str, build: Path) -> str:
    """The design's folding (PE/SIMD, parallel_window, ram_style per node) as a FINN folding JSON under
    results/bench/calibration/, so that ``flow/build.py --folding`` builds the same design again whatever
    the resource model's coefficients then are (they steer the search and the weight memories)."""
    folding = json.loads((build / "report" / "summary.json").read_text())["folding"]
    path = FOLDINGS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"Defaults": {}, **folding}, indent=1) + "\n")
    return str(path.relative_to(REPO))


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("builds", nargs="*", type=design_arg, help="NAME=BUILD_FOLDER (or a bare folder)")
    ap.add_argument("--work", type=Path, default=REPO / "build" / "calibrate_cost")
    ap.add_argument("--table-only", action="store_true")
    ap.add_argument("--adopt", action="store_true", help="write the refit into flow/analysis/cost_coefficients.json")
    args = ap.parse_args(argv)
    from bench.rerender import rerender

    if args.table_only:
        rerender(["cost-calibration-table"])
        return 0
    if not args.builds:
        ap.error("name at least one build folder")
    designs = []
    for name, build in args.builds:
        print(f"== {name}: {build}", flush=True)
        design = measure(build.resolve(), args.work / name)
        designs.append({**design, "name": name, "folding_file": save_folding(name, build)})
    extra = mvau_rows()
    errs = errors(designs, extra)
    data = {
        "meta": meta(argv),
        "families": fit(designs, extra),
        "margin": {
            "lut": margin(errs, lambda e: e["yosys_lut"] / e["model_lut_out_of_sample"]),
            "bram36": margin(errs, lambda e: e["yosys_bram36"] / e["model_bram36"] if e["model_bram36"] else None),
        },
        "errors": errs,
        "designs": designs,
        "mvau_rows": extra,
    }
    from flow.analysis.cost import COEFFICIENTS, coefficients

    if args.adopt:  # changes what every search builds: re-run bench/rtl_backend.py after it
        coeffs = {"meta": data["meta"], "families": data["families"], "margin": {**data["margin"], "uram": 0, "dsp": 0}}
    else:  # the coefficients stay; each margin grows to the worst underestimate they make on these designs
        coeffs = dict(coefficients())
        seen = {"lut": margin(errs, lambda e: e["yosys_lut"] / e["model_lut_current"])}
        grown = {k: max(v, seen.get(k, 0.0)) for k, v in coeffs["margin"].items()}
        if grown != coeffs["margin"]:
            coeffs["margin"] = grown
            coeffs["meta"] = {**coeffs.get("meta", {}), "margin_from": data["meta"]["command"]}
    if coeffs != coefficients():  # adopted, or a margin grew; else the file stays as it is
        COEFFICIENTS.write_text(json.dumps(coeffs, indent=1) + "\n")
    data["adopted"], data["margin_in_use"] = args.adopt, coeffs["margin"]
    RESULTS.write_text(json.dumps(data, indent=1) + "\n")
    rerender(["cost-calibration-table"])
    print(table(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
