"""The rewrites behind XNOR-Net's block order (conv -> pool -> BatchNorm -> sign / int8 quantizer), each
checked on random small graphs by executing them before and after (qonnx): equal outputs, bit for bit."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes

import flow.core.hw_graph  # noqa: F401  (registers ShiftbnnPool)
from flow.compiler.transforms.bipolar_int_matmul import BipolarInputAsBinary
from flow.compiler.transforms.pool_order import MoveMaxPoolPastMonotoneOps
from flow.compiler.transforms.pools import make_pool_node
from flow.compiler.transforms.sign_into_product import AbsorbChannelSignIntoProduct
from hw.golden.bnn_pool import pool_out_dim

pytestmark = pytest.mark.fast
GEN = "qonnx.custom_op.general"


def _model(nodes, x_shape, y_shape, inits, dtypes):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)],
    )
    model = ModelWrapper(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))
    for name, value in inits.items():
        model.set_initializer(name, np.asarray(value, dtype=np.int64 if name == "shape" else np.float32))
    for name, dt in dtypes.items():
        model.set_tensor_datatype(name, DataType[dt])
    return model.transform(InferShapes()).transform(InferDataTypes())


def _run(model, x):
    return execute_onnx(model, {"x": x})["y"]


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(1, 6), w=st.integers(1, 6), k=st.integers(1, 3), s=st.integers(1, 3), pad=st.integers(0, 1),
    function=st.sampled_from(["sum", "max"]), xnor=st.booleans(), transpose=st.booleans(),
    seed=st.integers(0, 10_000),
)  # fmt: skip
def test_channel_sign_after_a_pool_goes_into_the_product(h, w, k, s, pad, function, xnor, transpose, seed):
    """product -> ShiftbnnPool -> Mul(m) -> Add(b) [-> Transpose to NCHW] -> Mul(signed per channel): the
    Mul's signs go into the product's weights (XNOR columns complemented, integer columns negated), and
    the outputs are equal for every input."""
    rng = np.random.default_rng(seed)
    k = min(k, h, w)
    pad = min(pad, k // 2)
    oh, ow = pool_out_dim(h, k, s, pad, pad, False), pool_out_dim(w, k, s, pad, pad, False)
    assume((oh - 1) * s - pad < h and (ow - 1) * s - pad < w)  # every window holds an image position (PyTorch)
    rows, c = int(rng.integers(1, 9)), int(rng.integers(1, 6))
    geometry = {"kernel": [k, k], "stride": [s, s], "pads": [pad, pad, pad, pad], "out": [oh, ow], "img": [h, w]}
    sign = rng.choice([-1.0, 1.0], c) * rng.choice([1.0, 0.37, 2.5], c)
    inits = {"w": rng.integers(0, 2, (rows, c)) if xnor else rng.integers(-8, 8, (rows, c)),
             "m": rng.choice([1.0, 0.25, 0.1]), "b": rng.normal(size=c), "s": sign}  # fmt: skip
    product = "XnorPopcountMatMul" if xnor else "MatMul"
    nodes = [
        helper.make_node(product, ["x", "w"], ["p"], **({"domain": GEN} if xnor else {})),
        make_pool_node("p", "q", geometry, c, function, "pool"),
        helper.make_node("Mul", ["q", "m"], ["qm"]),
        helper.make_node("Add", ["qm", "b"], ["a"]),
    ]
    y_shape = [1, oh, ow, c]
    if transpose:
        nodes.append(helper.make_node("Transpose", ["a"], ["t"], perm=[0, 3, 1, 2]))
        inits["s"], y_shape = sign.reshape(1, c, 1, 1), [1, c, oh, ow]
    nodes.append(helper.make_node("Mul", ["t" if transpose else "a", "s"], ["y"]))
    x_dt = "BINARY" if xnor else "INT4"
    model = _model(nodes, [1, h, w, rows], y_shape, inits, {"x": x_dt, "w": "BINARY" if xnor else "INT4"})
    moved = model.transform(AbsorbChannelSignIntoProduct())
    weights = moved.get_initializer(moved.graph.node[0].input[1])
    w_dt = moved.get_tensor_datatype(moved.graph.node[0].input[1])
    assert w_dt.allowed(weights.min()) and w_dt.allowed(weights.max())
    assert (moved.get_initializer(moved.get_nodes_by_op_type("Mul")[-1].input[1]) >= 0).all()
    for _ in range(4):
        x = rng.integers(0, 2, (1, h, w, rows)) if xnor else rng.integers(-8, 8, (1, h, w, rows))
        np.testing.assert_array_equal(_run(moved, x.astype(np.float32)), _run(model, x.astype(np.float32)))


def test_a_sign_with_a_fork_in_the_chain_stays():
    nodes = [
        helper.make_node("XnorPopcountMatMul", ["x", "w"], ["p"], domain=GEN),
        helper.make_node("Mul", ["p", "s"], ["y"]),
        helper.make_node("Add", ["p", "s"], ["z"]),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 2]) for n in ("y", "z")],
    )
    model = ModelWrapper(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))
    model.set_initializer("w", np.ones((3, 2), np.float32))
    model.set_initializer("s", np.array([-1.0, 1.0], np.float32))
    assert model.transform(AbsorbChannelSignIntoProduct()).get_initializer("s").tolist() == [-1.0, 1.0]


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), c=st.integers(1, 4))
def test_xnor_order_pool_moves_past_the_whole_int8_quantizer(seed, c):
    """MaxPool -> BatchNorm -> MultiThreshold (counts 0..255) -> Add(-128) -> Mul(scale): the pool goes
    behind the Add and the Mul, so the Add stays next to its MultiThreshold (streamlining makes it the
    out_bias of a signed INT8 output), and the outputs stay equal."""
    rng = np.random.default_rng(seed)
    inits = {"g": rng.normal(size=c) * 2, "b": rng.normal(size=c), "m": rng.normal(size=c),
             "v": rng.uniform(0.5, 2, c), "thr": np.sort(rng.normal(size=(c, 255)) * 3, axis=1),
             "o": -128.0, "sc": 0.125}  # fmt: skip
    nodes = [
        helper.make_node("MaxPool", ["x"], ["p"], kernel_shape=[2, 1], strides=[2, 1]),
        helper.make_node("BatchNormalization", ["p", "g", "b", "m", "v"], ["n"]),
        helper.make_node("MultiThreshold", ["n", "thr"], ["q"], domain=GEN, out_dtype="UINT8"),
        helper.make_node("Add", ["q", "o"], ["a"]),
        helper.make_node("Mul", ["a", "sc"], ["y"]),
    ]
    model = _model(nodes, [1, c, 4, 3], [1, c, 2, 3], inits, {})
    moved = model.transform(MoveMaxPoolPastMonotoneOps())
    ops = [n.op_type for n in moved.graph.node]
    assert ops[:4] == ["BatchNormalization", "MultiThreshold", "Add", "Mul"], ops
    for _ in range(4):
        x = (rng.normal(size=(1, c, 4, 3)) * 4).astype(np.float32)
        np.testing.assert_array_equal(_run(moved, x), _run(model, x))


@pytest.mark.parametrize("layout", [[], ["Flatten"], ["Reshape"]])
def test_bipolar_activation_into_int8_weights_through_layout_ops(layout):
    """MultiThreshold(BIPOLAR) [-> Flatten / Reshape] -> MatMul(INT8): rewritten in the binary code through
    the layout op (a classifier after a binary conv's flatten), equal outputs."""
    rng = np.random.default_rng(5)
    w = rng.integers(-128, 128, (12, 4))
    nodes = [helper.make_node("MultiThreshold", ["x", "thr"], ["s"], domain=GEN, out_dtype="BIPOLAR", out_scale=2.0,
                              out_bias=-1.0)]  # fmt: skip
    inits = {"thr": [[0.5]], "w": w, "shape": [1, 12]}
    if layout == ["Flatten"]:
        nodes.append(helper.make_node("Flatten", ["s"], ["f"]))
    if layout == ["Reshape"]:
        nodes.append(helper.make_node("Reshape", ["s", "shape"], ["f"]))
    nodes.append(helper.make_node("MatMul", ["f" if layout else "s", "w"], ["y"]))
    x_shape = [1, 3, 2, 2] if layout else [1, 12]
    model = _model(nodes, x_shape, [1, 4], inits, {"w": "INT8"})
    model.set_tensor_datatype("s", DataType["BIPOLAR"])
    if layout:
        model.set_tensor_datatype("f", DataType["BIPOLAR"])
    rewritten = model.transform(BipolarInputAsBinary())
    assert [n.op_type for n in rewritten.graph.node][-2:] == ["Mul", "Add"]
    for seed in range(5):
        x = np.random.default_rng(seed).integers(-4, 5, x_shape).astype(np.float32)
        np.testing.assert_array_equal(_run(rewritten, x), _run(model, x))
