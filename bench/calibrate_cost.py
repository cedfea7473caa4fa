"""Calibrate the resource model (flow/analysis/cost.py) on finished builds that ran yosys (``--synth``).

    python bench/calibrate_cost.py build/bench/compile_any/*/build /path/to/other/build ...

For each build: the model's features of its RTL graph (``network_features``: the MVAU model's LUTs,
the stream bits and number of the other blocks) beside yosys' LUT count. Prints the rows for
``NETWORK_POINTS`` in cost.py, the coefficients they give, and the model's error per design with them;
writes results/bench/cost_calibration.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from flow.core.provenance import provenance  # noqa: E402

RESULTS = REPO / "results" / "bench" / "cost_calibration.json"


def features(build: Path) -> dict:
    from qonnx.core.modelwrapper import ModelWrapper

    import flow.core.finn_env  # noqa: F401
    from flow.analysis.cost import network_features
    from flow.rtl_backend.graph import rtl_graph

    summary = json.loads((build / "report" / "summary.json").read_text())
    if not summary.get("synth"):
        raise SystemExit(f"{build}: no yosys result (build with --synth)")
    rtl = rtl_graph(ModelWrapper(str(build / "model" / "folded.onnx")), summary["part"])
    mvau, bits, blocks = network_features(rtl)
    return {"build": str(build), "model": summary["model"], "mvau_model_lut": round(mvau, 1), "stream_bits": bits,
            "other_blocks": blocks, "yosys_lut": summary["synth"]["lut"], "yosys_bram36": summary["synth"]["bram36"],
            "cost_model": (summary.get("target") or {}).get("cost_model")}  # fmt: skip


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("builds", nargs="+", type=Path)
    args = ap.parse_args(argv)
    from flow.analysis.cost import fit_network

    rows = [features(b) for b in args.builds]
    points = [(r["mvau_model_lut"], r["stream_bits"], r["other_blocks"], r["yosys_lut"]) for r in rows]
    scale, per_bit, per_block = fit_network(points)
    for r, point in zip(rows, points, strict=True):
        r["fitted_lut"] = round(
            scale * r["mvau_model_lut"] + per_bit * r["stream_bits"] + per_block * r["other_blocks"]
        )
        r["error_pct"] = round(100 * (r["fitted_lut"] - r["yosys_lut"]) / r["yosys_lut"], 1)
        print(f"    {point},  # {r['model']}: fitted {r['fitted_lut']} ({r['error_pct']:+} %)")
    print(f"MVAU_SCALE = {scale:.3f}, STREAM_LUT_PER_BIT = {per_bit:.3f}, BLOCK_LUT = {per_block:.1f}")
    out = {
        "mvau_scale": scale,
        "stream_lut_per_bit": per_bit,
        "block_lut": per_block,
        "designs": rows,
        "provenance": provenance(),
    }
    RESULTS.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
