"""Benchmark: what the zero-padding correction of a binary convolution costs in LUT / BRAM (yosys).

    python bench/zero_pad_cost.py            # two small builds with --synth, ~10 min on 2 shared cores

The same binary 3x3 layer (C -> C channels, an H x W output map) built twice, in a network that differs
only in that layer's padding:

- ``padded``:   1x1 integer conv on H x W -> binary 3x3 conv, ``padding=1`` (PyTorch's zero padding of a
  +-1 map) -> H x W; the hardware pads with -1 (FMPadding) and corrects the border outputs with
  position-indexed thresholds (pos_threshold.sv) after an MVAU without activation;
- ``unpadded``: 1x1 integer conv on (H+2) x (W+2) -> the same binary 3x3 conv, no padding -> H x W; the
  thresholds sit inside the MVAU.

Both have the same head (global average pool, binary classifier) and are folded for the same target.
Writes results/bench/zero_pad_cost.json (both builds' yosys counts, per block where yosys reports them,
their folding, provenance) and the table between the ``zero-pad-cost-table`` markers of docs/compile_any.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

RESULTS = REPO / "results" / "bench" / "zero_pad_cost.json"
TIMEOUT_S = 3600
CHANNELS, SIZE, TARGET_FPS = 32, 12, 20_000


def spec(padded: bool) -> dict:
    size = SIZE if padded else SIZE + 2
    first = {"kind": "conv", "out": CHANNELS, "k": [1, 1], "stride": 1, "pad": [0] * 4, "pad_value": 0,
             "bias": False, "order": "cnv", "shift": 0.3, "act": "sign", "pool": None, "bits": 1}  # fmt: skip
    layer = {**first, "k": [3, 3], "pad": [int(padded)] * 4, "shift": "channel"}
    head = {"gap": True, "flatten": "flatten", "hidden": [], "classes": 10, "bits": 1, "bias": "none",
            "scaling": "tensor"}  # fmt: skip
    return {"seed": 25, "input": {"channels": 3, "h": size, "w": size, "norm": "none"}, "layers": [first, layer],
            "head": head, "bn_negative": True, "quant_scale": 0.1, "shared_quant": True}  # fmt: skip


def build(name: str, work: Path) -> dict:
    from brevitas_models.generated import build_generated
    from flow.compiler.export import export_model

    model, shape = build_generated(spec(name == "padded"))
    work.mkdir(parents=True, exist_ok=True)
    export_model(model, shape, work / "net.onnx")
    cmd = [sys.executable, str(REPO / "flow" / "build.py"), "--board", "Pynq-Z2", "--onnx", str(work / "net.onnx"),
           "--target-fps", str(TARGET_FPS), "--skip-rtlsim", "--synth", "--force",
           "--output", str(work / "out")]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
    if proc.returncode != 0:
        raise SystemExit(f"error: the {name} build failed: {proc.stderr.strip().splitlines()[-1]}")
    summary = json.loads((work / "out" / "report" / "summary.json").read_text())
    synth = summary["synth"]
    blocks = [{k: b.get(k) for k in ("name", "op_type", "lut", "bram36")} for b in summary.get("blocks", [])]
    return {"synth": {k: synth.get(k) for k in ("lut", "ff", "bram36", "dsp")}, "folding": summary["folding"],
            "blocks": blocks}  # fmt: skip


def table(data: dict) -> str:
    p, u = data["padded"]["synth"], data["unpadded"]["synth"]
    rows = [
        f"| {what} | {u[k]:,} | {p[k]:,} | {p[k] - u[k]:+,} |" if k != "bram36" else
        f"| {what} | {u[k]:g} | {p[k]:g} | {p[k] - u[k]:+g} |"
        for what, k in (("LUT", "lut"), ("FF", "ff"), ("BRAM36", "bram36"))
    ]  # fmt: skip
    return (
        f"Binary 3x3 conv, {CHANNELS} -> {CHANNELS} channels, {SIZE} x {SIZE} output, folded for "
        f"{TARGET_FPS:,} img/s (whole design, yosys `synth_xilinx`):\n\n"
        "| resource | unpadded | zero-padded (corrected) | cost of the correction |\n|---|---:|---:|---:|\n"
        + "\n".join(rows)
        + "\n"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=REPO / "build" / "bench" / "zero_pad_cost")
    ap.add_argument("--table-only", action="store_true")
    args = ap.parse_args(argv)
    if not args.table_only:
        from flow.core.provenance import provenance

        data = {"meta": {"provenance": provenance()}}
        for name in ("unpadded", "padded"):
            data[name] = build(name, args.work / name)
        from flow.core.files import write_json

        write_json(RESULTS, data)
    from bench.rerender import rerender

    rerender(["zero-pad-cost-table"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
