"""fold_for_target: FINN's SetFolding as configured, retried with a wide MVAU weight stream only when its
estimate misses the target (an int8 7x7 stem: SIMD x 8 bits <= 36 caps SIMD at 3: 614,656 cycles/frame).
FINN still caps an HLS MVAU's whole weight word (PE x SIMD x bits) at 8,191 bits, so the stem cannot
reach 100,000 cycles this way (200,704 with SIMD 147, PE 4)."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

import flow.core.finn_env  # noqa: F401  (boots FINN without Vivado)
from flow.backends.finn_hls_folding import fold_for_target, max_cycles
from flow.builder.compile import compile_config
from flow.compiler.compile_steps import finn_config
from flow.core.boards import get_board
from flow.core.hw_graph import HW_DOMAIN


def stem_mvau() -> ModelWrapper:
    """The 7x7x3 -> 64 int8 stem of ResNet-18 at 112x112 output pixels, as FINN's MVAU_hls."""
    node = helper.make_node(
        "MVAU_hls", ["x", "W"], ["y"], domain=HW_DOMAIN + ".hls", backend="fpgadataflow", name="MVAU_hls_0",
        MW=147, MH=64, PE=1, SIMD=1, inputDataType="UINT8", weightDataType="INT8", outputDataType="INT24",
        noActivation=1, binaryXnorMode=0, numInputVectors=[1, 112, 112], mem_mode="internal_decoupled",
    )  # fmt: skip
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 112, 112, 147])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 112, 112, 64])],
    )
    model = ModelWrapper(helper.make_model(graph))
    model.set_initializer("W", np.ones((147, 64), dtype=np.float32))
    model.set_tensor_datatype("W", DataType["INT8"])
    return model


@pytest.mark.fast
@pytest.mark.parametrize(("fps", "cycles"), [(1000, 200_704), (100, 614_656)])
def test_wide_weight_stream_only_when_the_target_is_missed(tmp_path, fps, cycles):
    cfg = compile_config(get_board("ZCU104", clock_mhz=100), tmp_path, target_fps=fps)
    folded = fold_for_target(stem_mvau(), finn_config(cfg))
    simd = getCustomOp(folded.graph.node[0]).get_nodeattr("SIMD")
    assert max_cycles(folded) == cycles
    # FINN's default cap (36 bits per PE: SIMD 3) is kept where it meets the target (1,000,000 cycles)
    assert (simd, fps) in ((147, 1000), (3, 100))
