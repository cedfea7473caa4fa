"""Failure classes the fuzz benchmark (bench/fuzz_networks.py) found, fixed by mechanism: a one-channel
conv that qonnx lowers as depthwise (then a VVAU, which has no RTL of ours), and a sliding window of one or
two output windows for which finn-rtllib's parallel-window generator cannot be made (seed 7001); a
position-dependent offset (a zero-padded binary conv's border correction) in front of a pool, which stayed
there as an ElementwiseAdd with no RTL (seed 2026, net 26)."""

import numpy as np
import pytest
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.transformation.lower_convs_to_matmul import LowerConvsToMatMul

import flow.core.finn_env  # noqa: F401  (must precede FINN's custom ops)
from bench.synth_subsample import window_model
from flow.analysis.folding_steps import window_options
from flow.compiler.transforms.bipolar_pad import border_correction
from flow.compiler.transforms.border_threshold import AbsorbBorderAddIntoThreshold, refuse_position_offsets
from flow.compiler.transforms.pool_streamline import streamline_pools
from flow.compiler.transforms.pools import make_pool_node
from flow.compiler.transforms.single_channel_conv import DenseSingleChannelConvs

pytestmark = pytest.mark.fast


def _conv(channels: int, group: int, k: int) -> ModelWrapper:
    weight = np.random.default_rng(0).choice([-1.0, 1.0], (channels, channels // group, k, k)).astype(np.float32)
    pad = [k // 2] * 4
    node = helper.make_node(
        "Conv", ["x", "w"], ["y"], kernel_shape=[k, k], group=group, pads=pad, strides=[1, 1], dilations=[1, 1]
    )
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, 6, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, channels, 6, 5])],
        [helper.make_tensor("w", TensorProto.FLOAT, weight.shape, weight.flatten())],
    )  # fmt: skip
    return ModelWrapper(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])).transform(InferShapes())


@pytest.mark.parametrize("k", [3, 1])  # a pointwise conv has no Im2Col (fuzz seed 2026, net 161: a VVAU)
@pytest.mark.parametrize("channels, group, dense", [(1, 1, True), (3, 3, False), (3, 1, True)])
def test_only_a_one_channel_conv_loses_its_depthwise_marks_and_computes_the_same(channels, group, dense, k):
    model = _conv(channels, group, k)
    x = {"x": np.random.default_rng(1).normal(size=(1, channels, 6, 5)).astype(np.float32)}
    expected = execute_onnx(model, x)["y"]
    lowered = model.transform(LowerConvsToMatMul()).transform(DenseSingleChannelConvs())
    matmul = lowered.get_nodes_by_op_type("MatMul")[0]
    for im2col in lowered.get_nodes_by_op_type("Im2Col"):
        assert bool(getCustomOp(im2col).get_nodeattr("depthwise")) is not dense
    assert (lowered.get_tensor_sparsity(matmul.input[1]) is None) is dense
    np.testing.assert_allclose(execute_onnx(lowered, x)["y"], expected, rtol=0, atol=1e-5)


def _window(out_h: int, out_w: int, k: int = 3, channels: int = 2):
    in_hw = (out_h + k - 1, out_w + k - 1)
    return getCustomOp(window_model((k, k), in_hw, (1, 1), channels, channels, parallel=1).graph.node[0])


@pytest.mark.parametrize("out_h, out_w", [(h, w) for h in (1, 2, 3) for w in (1, 2, 3)])
def test_parallel_window_offered_exactly_where_finn_can_generate_it(out_h, out_w):
    inst = _window(out_h, out_w)
    try:
        inst.prepare_codegen_parallel()  # FINN's own generator is the judge
        generates = True
    except ValueError:
        generates = False
    assert ((2, 1) in window_options(inst)) is generates


def test_a_border_correction_before_a_subsampling_average_pool_becomes_position_thresholds():
    """Net 26 of seed 2026: a zero-padded 7x7 XNOR conv (stride 3, pads 6/3 on a 6x4 map) in XNOR-Net's
    order, conv -> average pool (1x1 window, stride 2) -> BatchNorm -> sign. The conv's border correction
    Add(C[y, x, c]) sat before the pool, which moved per-channel constants only, and reached folding as
    an ElementwiseAdd. Now the pooled correction moves past the pool and into position-indexed
    thresholds; the streamlined graph and the rewritten one agree on every popcount input."""
    c, (h, w) = 3, (4, 2)  # the conv's output map
    weights = np.random.default_rng(26).choice([-1.0, 1.0], (49, c))
    corr = border_correction(weights, (6, 4), (7, 7), (3, 3), (6, 3, 6, 3)) / 2
    assert corr.shape == (h, w, c)
    geometry = {"kernel": [1, 1], "stride": [2, 2], "pads": [0, 0, 0, 0], "out": [2, 1], "img": [h, w]}
    nodes = [
        helper.make_node("Add", ["x", "corr"], ["a"]),
        make_pool_node("a", "p", geometry, c, "sum", "pool"),
        helper.make_node("MultiThreshold", ["p", "thr"], ["y"], domain="qonnx.custom_op.general",
                         data_layout="NHWC", out_dtype="BINARY"),
    ]  # fmt: skip
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, h, w, c])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 1, c])],
    )  # fmt: skip
    model = ModelWrapper(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))
    model.set_initializer("corr", corr[None].astype(np.float32))
    model.set_initializer("thr", np.array([[20.5], [24.0], [27.5]], dtype=np.float32))
    model.set_tensor_datatype("x", DataType["UINT6"])  # a popcount over 49 taps
    model = model.transform(InferShapes())
    converted = streamline_pools(model).transform(AbsorbBorderAddIntoThreshold())
    refuse_position_offsets(converted)  # nothing position-dependent is left
    assert [n.op_type for n in converted.graph.node] == ["ShiftbnnPool", "ShiftbnnPosThreshold"]
    name = lambda m, io: getattr(m.graph, io)[0].name  # noqa: E731  (streamlining renames the tensors)
    for seed in range(4):
        x = np.random.default_rng(seed).integers(0, 50, (1, h, w, c)).astype(np.float32)
        expected = execute_onnx(model, {"x": x})["y"]
        got = execute_onnx(converted, {name(converted, "input"): x})[name(converted, "output")]
        np.testing.assert_array_equal(got, expected)
