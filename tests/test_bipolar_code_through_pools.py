"""A bipolar activation reaches an int8 product through a max pool (``BipolarInputAsBinary``,
flow/compiler/transforms/bipolar_int_matmul.py): max and min commute with the increasing map
b -> 2 b - 1, so the pool carries the bit b and the product becomes 2 (b @ W) - colsum(W), exactly
(fuzz seed 2026, net 178: a 1x1 max pool with stride between a sign and an int8 classifier left the
integer MVAU a BIPOLAR x INT8 product)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes

import flow.core.hw_graph  # noqa: F401  (registers ShiftbnnPool)
from flow.compiler.transforms.bipolar_int_matmul import BipolarInputAsBinary
from flow.compiler.transforms.pools import make_pool_node
from hw.golden.bnn_pool import pool_out_dim

pytestmark = pytest.mark.fast
GEN = "qonnx.custom_op.general"


def _network(h, w, c, k, s, classes, flips, function, rng):
    out = [pool_out_dim(d, k, s, 0, 0) for d in (h, w)]
    geometry = {"kernel": [k, k], "stride": [s, s], "pads": [0, 0, 0, 0], "out": out, "img": [h, w]}
    features = out[0] * out[1] * c
    nodes = [
        helper.make_node("MultiThreshold", ["x", "thr"], ["s"], domain=GEN, out_dtype="BIPOLAR", out_scale=2.0,
                         out_bias=-1.0, data_layout="NHWC"),
        make_pool_node("s", "p", geometry, c, function, "ShiftbnnPool_0", min_channels=flips),
        helper.make_node("Reshape", ["p", "shape"], ["f"]),
        helper.make_node("MatMul", ["f", "w"], ["y"]),
    ]  # fmt: skip
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, h, w, c])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, classes])],
    )  # fmt: skip
    model = ModelWrapper(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))
    model.set_initializer("thr", rng.integers(-3, 4, (c, 1)).astype(np.float32))
    model.set_initializer("shape", np.asarray([1, features], np.int64))
    model.set_initializer("w", rng.integers(-128, 128, (features, classes)).astype(np.float32))
    model.set_tensor_datatype("x", DataType["INT4"])
    model.set_tensor_datatype("w", DataType["INT8"])
    return model.transform(InferShapes()).transform(InferDataTypes())


@settings(max_examples=25, deadline=None)
@given(
    h=st.integers(1, 6), w=st.integers(1, 6), c=st.integers(1, 3), k=st.integers(1, 3), s=st.integers(1, 3),
    function=st.sampled_from(["max", "sum"]), seed=st.integers(0, 99),
)  # fmt: skip
def test_a_max_pool_carries_the_bit_to_the_int8_product(h, w, c, k, s, function, seed):
    if k > h or k > w:
        return
    rng = np.random.default_rng(seed)
    flips = rng.integers(0, 2, c) if function == "max" else None
    model = _network(h, w, c, k, s, 3, flips, function, rng)
    rewritten = model.transform(BipolarInputAsBinary())
    ops = [n.op_type for n in rewritten.graph.node]
    if function == "sum":  # sum(2 b - 1) = 2 sum(b) - n: not the code passed through, left alone
        assert ops == ["MultiThreshold", "ShiftbnnPool", "Reshape", "MatMul"]
        return
    assert ops == ["MultiThreshold", "ShiftbnnPool", "Reshape", "MatMul", "Mul", "Add"]
    assert rewritten.get_tensor_datatype("s") == rewritten.get_tensor_datatype("f") == DataType["BINARY"]
    for _ in range(4):
        x = rng.integers(-8, 8, (1, h, w, c)).astype(np.float32)
        expected = execute_onnx(model, {"x": x})["y"]
        np.testing.assert_array_equal(execute_onnx(rewritten, {"x": x})["y"], expected)
