"""The refusal rule (flow/compiler/refusals.py): each reason raised by the check that owns it, on a small
ONNX graph, as one line naming the node, the reason and the fix in Brevitas."""

import numpy as np
import pytest
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.util.basic import qonnx_make_model

from flow.compiler.refusals import REASONS, Refusal, reason_of, refuse_unscaled_adds
from flow.compiler.transforms.pools import pool_geometry

pytestmark = pytest.mark.fast


def graph(nodes, inputs, out_shape, initializers=()) -> ModelWrapper:
    ins = [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs]
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)
    model = ModelWrapper(qonnx_make_model(helper.make_graph(nodes, "g", ins, [out])))
    for name, value in initializers:
        model.set_initializer(name, np.asarray(value, dtype=np.float32))
    return model


def refusal(fn, *args) -> Refusal:
    with pytest.raises(Refusal) as info:
        fn(*args)
    message = str(info.value)
    assert "\n" not in message and "fix in Brevitas: " in message
    assert reason_of(message) == info.value.reason  # the benchmark's classification finds it again
    return info.value


def test_every_reason_round_trips_through_its_message():
    for key in REASONS:
        assert reason_of(str(Refusal("N_0", key))) == key
    assert reason_of("error: something else") is None


def test_add_of_two_differently_scaled_streams_is_refused():
    nodes = [
        helper.make_node("Mul", ["a", "s1"], ["a1"], name="Mul_a"),
        helper.make_node("Mul", ["b", "s2"], ["b1"], name="Mul_b"),
        helper.make_node("Add", ["a1", "b1"], ["y"], name="Add_res"),
    ]
    model = graph(nodes, [("a", [1, 4]), ("b", [1, 4])], [1, 4], [("s1", 0.1), ("s2", 0.2)])
    r = refusal(refuse_unscaled_adds, model)
    assert r.node == "Add_res" and r.reason == "add-scales" and "one shared QuantIdentity" in str(r)


def test_integer_add_and_constant_adds_pass():
    nodes = [helper.make_node("Add", ["a", "b"], ["t"]), helper.make_node("Add", ["t", "c"], ["y"])]
    refuse_unscaled_adds(graph(nodes, [("a", [1, 4]), ("b", [1, 4])], [1, 4], [("c", np.ones(4))]))


def pool(op, **attrs) -> tuple[ModelWrapper, object]:
    node = helper.make_node(op, ["x"], ["y"], name=f"{op}_0", **attrs)
    return graph([node], [("x", [1, 3, 6, 6])], [1, 3, 3, 3]), node


@pytest.mark.parametrize(
    "op, attrs, reason",
    [
        ("MaxPool", {"kernel_shape": [2, 2], "strides": [2, 2], "dilations": [2, 2]}, "dilation"),
        ("AveragePool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}, "avg-divisor"),
    ],
)
def test_pool_without_exact_hardware_is_refused(op, attrs, reason):
    model, node = pool(op, **attrs)
    r = refusal(pool_geometry, model, node)
    assert r.node == f"{op}_0" and r.reason == reason


def test_average_counting_its_pads_has_a_constant_divisor():
    attrs = {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "count_include_pad": 1}
    model, node = pool("AveragePool", **attrs)
    assert pool_geometry(model, node)["out"] == [3, 3]


def test_a_refusal_names_the_layer_as_the_user_exported_it():
    """The cleanup renumbers node names (qonnx GiveUniqueNodeNames); the refusal still names the exported
    layer: its own for a node that survived, the nearest one upstream for a node the compiler made."""
    from flow.compiler.export import clean_qonnx
    from flow.compiler.refusals import layer_of

    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="/features/act/Relu"),
        helper.make_node("MaxPool", ["r"], ["y"], name="/features/pool/MaxPool", kernel_shape=[2, 2], strides=[2, 2]),
    ]
    nodes[1].attribute.append(helper.make_attribute("dilations", [2, 2]))
    model = clean_qonnx(graph(nodes, [("x", [1, 3, 6, 6])], [1, 3, 2, 2]))
    relu, pool_node = model.graph.node
    assert pool_node.name != "/features/pool/MaxPool"  # renamed by the cleanup
    r = refusal(pool_geometry, model, pool_node)
    assert f"node {pool_node.name!r} (layer '/features/pool/MaxPool'): " in str(r)
    made = helper.make_node("Mul", [pool_node.output[0], "s"], ["z"], name="Mul_made")  # no origin: the compiler's own
    model.graph.node.append(made)
    assert layer_of(model, made) == "after layer '/features/pool/MaxPool'"
    assert layer_of(model, relu) == "layer '/features/act/Relu'"
