"""Failure classes the fuzz benchmark (bench/fuzz_networks.py, seed 7001) found, fixed by mechanism:
a one-channel conv that qonnx lowers as depthwise (then a VVAU, which has no RTL of ours), and a sliding
window of one or two output windows for which finn-rtllib's parallel-window generator cannot be made."""

import numpy as np
import pytest
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.transformation.lower_convs_to_matmul import LowerConvsToMatMul

import flow.core.finn_env  # noqa: F401  (must precede FINN's custom ops)
from bench.synth_subsample import window_model
from flow.analysis.folding_search import window_options
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
