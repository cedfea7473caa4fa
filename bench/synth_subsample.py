"""Yosys xc7 LUT/FF of our 1 x 1 window (hw/rtl/stream_subsample.sv) against FINN's generator for the same
window (finn-rtllib's sliding window, the parallel style FINN picks for every 1 x 1 kernel), on the
shapes such windows take: a strided 1 x 1 binary conv's subsample, an int8 Bi-Real downsample, the
row select of flow/compiler/transforms/row_strides.py.

    python bench/synth_subsample.py     # ~1 min; writes results/bench/subsample_synth.json and the
                                        # subsample-synth-table block of docs/hw.md

Each point goes through flow.rtl_backend.synth.synth_module (the one yosys runner of the project); FINN's
RTL is what its ``generate_hdl`` writes for the node (flow/rtl_backend/emitters/finn_rtl.py ``finn_hdl``).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

RESULTS = REPO / "results" / "bench" / "subsample_synth.json"
WORK = REPO / "build" / "bench" / "subsample_synth"
PART = "xc7z020clg400-1"
# (name, (H, W), (SH, SW), channels, SIMD, element type)
SHAPES = [
    ("binary 1x1 conv, stride 2", (32, 32), (2, 2), 64, 8, "BIPOLAR"),
    ("int8 downsample, stride 2", (7, 7), (2, 2), 16, 16, "INT8"),
    ("row select, stride (2, 1)", (14, 14), (2, 1), 32, 4, "BIPOLAR"),
]


def window_model(kernel, in_hw, stride, channels: int, simd: int, dtype: str = "BIPOLAR", parallel: int = 0):
    """A one-node graph: FINN's ConvolutionInputGenerator_rtl (no padding, dilation 1)."""
    from onnx import TensorProto, helper
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper

    import flow.core.finn_env  # noqa: F401  (must precede FINN's custom ops)

    out_hw = [(d - k) // s + 1 for d, k, s in zip(in_hw, kernel, stride, strict=True)]
    node = helper.make_node(
        "ConvolutionInputGenerator_rtl", ["x"], ["y"], domain="finn.custom_op.fpgadataflow.rtl",
        name="window", ConvKernelDim=list(kernel), IFMChannels=channels, IFMDim=list(in_hw), OFMDim=out_hw,
        SIMD=simd, Stride=list(stride), Dilation=[1, 1], inputDataType=dtype, outputDataType=dtype,
        parallel_window=parallel,
    )  # fmt: skip
    out_ch = kernel[0] * kernel[1] * channels
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, *in_hw, channels])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, *out_hw, out_ch])],
    )  # fmt: skip
    model = ModelWrapper(helper.make_model(graph))
    for t in ("x", "y"):
        model.set_tensor_datatype(t, DataType[dtype])
    return model


def measure(name: str, in_hw, stride, channels: int, simd: int, dtype: str) -> dict:
    from qonnx.custom_op.registry import getCustomOp

    from flow.rtl_backend.emitters.finn_rtl import finn_hdl
    from flow.rtl_backend.emitters.subsample import subsample_params
    from flow.rtl_backend.synth import synth_module
    from hw.sources import COMMON_SOURCES, RTL_DIR

    model = window_model((1, 1), in_hw, stride, channels, simd, dtype)
    node = model.graph.node[0]
    tag = f"{in_hw[0]}x{in_hw[1]}_s{stride[0]}{stride[1]}_c{channels}_p{simd}_{dtype}"
    ours = synth_module(
        "stream_subsample", [RTL_DIR / s for s in (*COMMON_SOURCES, "stream_subsample.sv")],
        WORK / f"ours_{tag}", params=subsample_params(node),
    )  # fmt: skip
    gen = WORK / f"finn_{tag}" / "rtl"
    gen.mkdir(parents=True, exist_ok=True)
    inst = getCustomOp(node)
    library, written = finn_hdl(model, inst, "window", gen, PART, 10.0)
    files = [*library, *(gen / f for f in written if f.endswith((".v", ".sv")))]
    finn = synth_module(inst.get_nodeattr("gen_top_module"), files, WORK / f"finn_{tag}" / "synth")
    row = {"shape": name, "in_hw": list(in_hw), "stride": list(stride), "channels": channels, "simd": simd}
    row["dtype"] = dtype
    for who, r in (("ours", ours), ("finn", finn)):
        row.update({f"{who}_lut": r["lut"], f"{who}_ff": r["ff"], f"{who}_s": r["seconds"]})
    return row


def table(data: dict) -> str:
    lines = [
        "| window | map, stride | channels / SIMD, type | stream_subsample LUT | FF | FINN's generator LUT | FF |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for r in data["rows"]:
        (h, w), (sh, sw) = r["in_hw"], r["stride"]
        lines.append(
            f"| {r['shape']} | {h}x{w}, ({sh}, {sw}) | {r['channels']} / {r['simd']}, {r['dtype']} "
            f"| {r['ours_lut']} | {r['ours_ff']} | {r['finn_lut']} | {r['finn_ff']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    from flow.core.provenance import provenance
    from flow.rtl_backend.synth import SynthError

    try:
        rows = [measure(*shape) for shape in SHAPES]
    except SynthError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for row in rows:
        print(row, flush=True)
    data = {"meta": {"provenance": provenance(argv)}, "rows": rows}
    from flow.core.files import write_json

    write_json(RESULTS, data)
    from bench.rerender import rerender

    rerender(["subsample-synth-table"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
