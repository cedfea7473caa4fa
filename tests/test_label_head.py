"""A trailing Softmax / LogSoftmax is dropped (the label is the logits' argmax) and said so; one over
another axis is refused with its fix (flow/compiler/transforms/label_head.py)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.infer_shapes import InferShapes

from flow.compiler.transforms.label_head import RemoveLabelPreservingOutputs
from flow.core.errors import BuildError

pytestmark = pytest.mark.fast


def _head_model(heads: list[tuple[str, int]], batch: int = 1, classes: int = 5) -> ModelWrapper:
    """x [batch, 3] @ W [3, classes], then the given (op, axis) nodes in order."""
    rng = np.random.default_rng(0)
    w = helper.make_tensor("W", TensorProto.FLOAT, [3, classes], rng.normal(size=3 * classes).tolist())
    nodes, last = [helper.make_node("MatMul", ["x", "W"], ["z0"], name="MatMul_0")], "z0"
    for i, (op, axis) in enumerate(heads):
        nodes.append(helper.make_node(op, [last], [f"z{i + 1}"], name=f"{op}_{i}", axis=axis))
        last = f"z{i + 1}"
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3])],
        [helper.make_tensor_value_info(last, TensorProto.FLOAT, [batch, classes])],
        initializer=[w],
    )
    model = ModelWrapper(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))
    return model.transform(InferShapes())


def _out(model: ModelWrapper, x: np.ndarray) -> np.ndarray:
    return execute_onnx(model, {"x": x})[model.graph.output[0].name]


@pytest.mark.parametrize("heads", [[("Softmax", -1)], [("LogSoftmax", 1)], [("Softmax", 1), ("LogSoftmax", -1)]])
def test_trailing_normalisation_removed_and_the_label_kept(heads):
    model = _head_model(heads)
    rng = np.random.default_rng(1)
    xs = rng.normal(size=(64, 1, 3)).astype(np.float32)
    before = [int(np.argmax(_out(model, x))) for x in xs]
    head = RemoveLabelPreservingOutputs()
    stripped = model.transform(head)
    assert head.removed == [f"{op}_{i}" for i, (op, _) in reversed(list(enumerate(heads)))]
    assert [n.op_type for n in stripped.graph.node] == ["MatMul"]
    assert stripped.graph.output[0].name == "z0"
    assert [int(np.argmax(_out(stripped, x))) for x in xs] == before
    onnx.checker.check_model(stripped.model)


def test_softmax_over_the_batch_axis_is_refused_with_its_fix():
    with pytest.raises(BuildError, match=r"'Softmax_0'.*other than the classes.*export the network without it"):
        _head_model([("Softmax", 0)], batch=4).transform(RemoveLabelPreservingOutputs())


def test_graph_without_a_normalisation_is_left_alone():
    model = _head_model([])
    head = RemoveLabelPreservingOutputs()
    assert [n.op_type for n in model.transform(head).graph.node] == ["MatMul"]
    assert head.removed == []
