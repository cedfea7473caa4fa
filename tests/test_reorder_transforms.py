"""The rewrites that leave no stream reorder behind XNOR-Net's order with an average pool (generated net 11):
a per-channel Mul / Add moves past an NHWC -> NCHW transpose (then FINN's passes cancel the transpose
pair), and a +-1 sign after a pool goes into the weights of the product before it. Each is checked by
executing the graph before and after on random inputs (qonnx), for random shapes and constants."""

import numpy as np
import pytest
from finn.transformation.streamline.absorb import AbsorbConsecutiveTransposes, AbsorbTransposeIntoMultiThreshold
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes

import flow.core.hw_graph  # noqa: F401  (registers ShiftbnnPool)
from flow.compiler.transforms.channel_ops_layout import MoveNchwTransposePastChannelOps
from flow.compiler.transforms.pools import NCHW_TO_NHWC, NHWC_TO_NCHW, make_pool_node
from flow.compiler.transforms.sign_into_weights import SignIntoMatMulWeights
from hw.golden.bnn_pool import pool_out_dim

pytestmark = pytest.mark.fast
GEN = "qonnx.custom_op.general"


def _model(nodes, x_shape, y_shape, inits, x_dtype="FLOAT32", dtypes=()):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)],
    )
    model = ModelWrapper(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))
    for name, value in inits.items():
        model.set_initializer(name, np.asarray(value, dtype=np.float32))
    model.set_tensor_datatype("x", DataType[x_dtype])
    for name, dt in dtypes:
        model.set_tensor_datatype(name, DataType[dt])
    return model.transform(InferShapes()).transform(InferDataTypes())


def _exhaust(model, *transformations):
    for t in transformations:
        model = model.transform(t)
    return model


@settings(max_examples=30, deadline=None)
@given(h=st.integers(1, 5), w=st.integers(1, 5), c=st.integers(2, 6), seed=st.integers(0, 999))
def test_channel_ops_move_past_the_transpose_and_the_pair_cancels(h, w, c, seed):
    """NHWC x -> T(NCHW) -> Mul(a_c) -> Add(b_c) -> MultiThreshold (NCHW) -> T(NHWC)  ==  no transpose."""
    rng = np.random.default_rng(seed)
    a = rng.choice([-1.0, 1.0], c) * rng.uniform(0.5, 2, c)
    inits = {
        "a": a.reshape(1, c, 1, 1),
        "b": rng.integers(-3, 4, (1, c, 1, 1)),
        "thr": np.sort(rng.integers(-4, 5, (c, 3))),
    }
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], perm=NHWC_TO_NCHW),
        helper.make_node("Mul", ["t", "a"], ["m"]),
        helper.make_node("Add", ["m", "b"], ["p"]),
        helper.make_node("MultiThreshold", ["p", "thr"], ["q"], domain=GEN, out_dtype="UINT2"),
        helper.make_node("Transpose", ["q"], ["r"], perm=NCHW_TO_NHWC),
        helper.make_node("Relu", ["r"], ["y"]),  # FINN cancels no transpose at the graph output
    ]
    model = _model(nodes, [1, h, w, c], [1, h, w, c], inits, x_dtype="INT4")
    x = rng.integers(-8, 8, (1, h, w, c)).astype(np.float32)
    want = execute_onnx(model, {"x": x})["y"]
    moved = _exhaust(model, MoveNchwTransposePastChannelOps(), AbsorbTransposeIntoMultiThreshold(),
                     AbsorbConsecutiveTransposes())  # fmt: skip
    assert not moved.get_nodes_by_op_type("Transpose")
    assert np.array_equal(execute_onnx(moved, {"x": x})["y"], want)


def test_the_nchw_to_nhwc_input_transpose_and_scalars_stay():
    """Only NHWC -> NCHW transposes move, and only past per-channel constants (a scalar is FINN's)."""
    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=NCHW_TO_NHWC), helper.make_node("Mul", ["t", "a"], ["y"])]
    model = _model(nodes, [1, 3, 2, 2], [1, 2, 2, 3], {"a": np.ones((1, 1, 1, 3)) * 2})
    assert not model.transform(MoveNchwTransposePastChannelOps()).graph.node[0].op_type != "Transpose"
    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=NHWC_TO_NCHW), helper.make_node("Mul", ["t", "a"], ["y"])]
    model = _model(nodes, [1, 2, 2, 3], [1, 3, 2, 2], {"a": np.float32(2)})
    assert model.transform(MoveNchwTransposePastChannelOps()).graph.node[0].op_type == "Transpose"


@settings(max_examples=30, deadline=None)
@given(
    h=st.integers(2, 6), w=st.integers(2, 6), k=st.integers(1, 6), c=st.integers(1, 5), kernel=st.integers(1, 2),
    function=st.sampled_from(["sum", "max", None]), seed=st.integers(0, 999),
)  # fmt: skip
def test_a_sign_after_a_pool_goes_into_the_weights(h, w, k, c, kernel, function, seed):
    """MatMul(x, W) [-> ShiftbnnPool sum / max] -> Mul(+-1 per channel)  ==  MatMul(x, W diag(s)) [-> pool]."""
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], c)
    inits = {"W": rng.choice([-1.0, 1.0], (k, c)), "s": signs.reshape(1, 1, 1, c)}
    nodes = [helper.make_node("MatMul", ["x", "W"], ["mm"])]
    out = [h, w]
    if function is not None:
        out = [pool_out_dim(d, kernel, kernel, 0, 0, False) for d in (h, w)]
        geometry = {"img": [h, w], "kernel": [kernel] * 2, "stride": [kernel] * 2, "pads": [0] * 4, "out": out}
        nodes.append(make_pool_node("mm", "pooled", geometry, c, function, "pool"))
    nodes.append(helper.make_node("Mul", [nodes[-1].output[0], "s"], ["y"]))
    model = _model(nodes, [1, h, w, k], [1, *out, c], inits, x_dtype="INT4", dtypes=[("W", "BIPOLAR")])
    x = rng.integers(-8, 8, (1, h, w, k)).astype(np.float32)
    want = execute_onnx(model, {"x": x})["y"]
    folded = model.transform(SignIntoMatMulWeights())
    assert not folded.get_nodes_by_op_type("Mul")
    assert set(np.unique(folded.get_initializer("W"))) <= {-1.0, 1.0}
    assert np.array_equal(execute_onnx(folded, {"x": x})["y"], want)
    if function == "max":
        assert list(getCustomOp(folded.graph.node[1]).min_channels()) == list(signs < 0)
