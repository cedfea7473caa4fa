"""qonnx_speed: each linear-time pass gives exactly qonnx's own result (the serialised model), on real
graphs of a residual network at every compile stage and on generated graphs (shuffled node order,
shared and unused initializers, custom ops)."""

from __future__ import annotations

import copy
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.fold_constants import FoldConstants
from qonnx.transformation.general import GiveUniqueParameterTensors, SortGraph
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.util.basic import qonnx_make_model
from toposort import CircularDependencyError, toposort_flatten

import flow.core.finn_env  # noqa: F401  (installs the fast passes)
from flow.core import qonnx_speed

PASSES = (InferShapes, SortGraph, GiveUniqueParameterTensors, InferDataTypes, FoldConstants)


def both(model: ModelWrapper, transformation) -> tuple[bytes, bytes]:
    """(qonnx's result, ours), serialised, each on its own copy of ``model`` (new tensor names are
    qonnx's random strings: the same seed for both), applied until it reports no change."""

    def run() -> bytes:
        random.seed(0)
        return copy.deepcopy(model).transform(transformation(), cleanup=False).model.SerializeToString()

    qonnx_speed.uninstall()
    try:
        theirs = run()
    finally:
        qonnx_speed.install()
    return theirs, run()


def random_graph(seed: int) -> ModelWrapper:
    """A chain of MatMul / Add / Reshape / MultiThreshold with a fork and a join, big and small
    weights, one weight shared by two nodes, a chain of two constant-only nodes, the nodes in random
    order, some ValueInfos missing, some tensors annotated."""
    rng = np.random.default_rng(seed)
    width = int(rng.integers(8, 48))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, width])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, width])
    inits = [
        helper.make_tensor("W", TensorProto.FLOAT, [width, width], rng.standard_normal(width * width)),
        helper.make_tensor("b", TensorProto.FLOAT, [width], rng.standard_normal(width)),
        helper.make_tensor("T", TensorProto.FLOAT, [width, 3], np.sort(rng.standard_normal((width, 3))).ravel()),
        helper.make_tensor("shape", TensorProto.INT64, [2], [1, width]),
        helper.make_tensor("unused", TensorProto.FLOAT, [4], [0, 1, 2, 3]),
        helper.make_tensor("two", TensorProto.FLOAT, [1], [2.0]),
    ]
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["m0"], name="mm0"),
        helper.make_node("Mul", ["b", "two"], ["b2"], name="const0"),  # constants only: folded
        helper.make_node("Neg", ["b2"], ["b3"], name="const1"),  # foldable once const0 is
        helper.make_node("Add", ["m0", "b3"], ["a0"], name="add0"),
        helper.make_node("MatMul", ["a0", "W"], ["m1"], name="mm1"),  # W shared
        helper.make_node(
            "MultiThreshold", ["m0", "T"], ["t0"], domain="qonnx.custom_op.general", name="mt", out_dtype="UINT2"
        ),
        helper.make_node("Add", ["m1", "t0"], ["j"], name="join"),
        helper.make_node("Reshape", ["j", "shape"], ["y"], name="reshape"),
    ]
    order = rng.permutation(len(nodes))
    graph = helper.make_graph([nodes[i] for i in order], "g", [x], [y], inits)
    model = ModelWrapper(qonnx_make_model(graph), fix_missing_initializer_valueinfo=False)
    model.set_tensor_datatype("x", DataType["UINT8"])  # annotated and not: both lookups of InferDataTypes
    model.set_tensor_datatype("T", DataType["INT8"] if seed % 2 else None)
    return model


@pytest.mark.fast
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("transformation", PASSES, ids=lambda t: t.__name__)
def test_generated_graphs(seed, transformation, monkeypatch):
    monkeypatch.setattr(qonnx_speed, "STUB_ELEMENTS", 16)  # W and T reach shape inference as stubs
    model = random_graph(seed)
    if transformation is not SortGraph:
        model = ModelWrapper(model.model).transform(SortGraph(), cleanup=False)
    if transformation is FoldConstants:  # it executes nodes: their outputs need shapes
        model = model.transform(InferShapes(), cleanup=False)
    theirs, ours = both(model, transformation)
    assert theirs == ours


@pytest.fixture(scope="module")
def residual_stages(tmp_path_factory) -> list[ModelWrapper]:
    """A small Bi-Real ResNet at export, after FINN's conversion and after streamlining."""
    import finn.builder.build_dataflow_steps as finn_steps  # noqa: I001  (after finn_env)
    from finn.builder.build_dataflow_config import DataflowBuildConfig

    from brevitas_models.registry import build_model, input_shape
    from flow.compiler.export import export_model
    from flow.compiler.transforms.fast_streamline import fast_step_streamline

    tmp = tmp_path_factory.mktemp("residual")
    kwargs = {"in_size": 16, "width": 0.0625, "depths": [1, 1], "num_classes": 10, "shift": 0.3}
    net = build_model("bireal_resnet18_hw", **kwargs)
    model = export_model(net, input_shape("bireal_resnet18_hw", kwargs), tmp / "q.onnx")
    cfg = DataflowBuildConfig(output_dir=str(tmp), synth_clk_period_ns=10.0, generate_outputs=[])
    finn = finn_steps.step_qonnx_to_finn(model, cfg)
    return [model, finn, fast_step_streamline(finn)]


@pytest.mark.slow
@pytest.mark.parametrize("transformation", PASSES, ids=lambda t: t.__name__)
def test_residual_network_stages(transformation, residual_stages, monkeypatch):
    monkeypatch.setattr(qonnx_speed, "STUB_ELEMENTS", 16)
    for stage in residual_stages:
        theirs, ours = both(stage, transformation)
        assert theirs == ours


@pytest.mark.fast
@given(st.dictionaries(st.integers(0, 40), st.sets(st.integers(0, 40), max_size=4), max_size=40))
@settings(max_examples=200, deadline=None)
def test_toposort_order_is_toposort_flatten(graph):
    acyclic = {k: {d for d in deps if d < k} for k, deps in graph.items()}  # edges to lower: no cycle
    assert qonnx_speed.toposort_order(acyclic) == toposort_flatten(acyclic, sort=True)


@pytest.mark.fast
def test_toposort_order_cycle():
    with pytest.raises(CircularDependencyError):
        qonnx_speed.toposort_order({0: {1}, 1: {2}, 2: {0}, 3: set()})


@pytest.mark.fast
@given(st.sampled_from(["INT4", "UINT8", "INT17", "BIPOLAR", "BINARY", "FLOAT32"]),
       st.lists(st.floats(-300, 300) | st.integers(-300, 300).map(float), min_size=1, max_size=64))  # fmt: skip
@settings(max_examples=100, deadline=None)
def test_threshold_check_numpy(name, values):
    """FINN's ``np.vectorize(dt.allowed)(x)`` gives numpy's answer through the shim, for every type."""
    from finn.custom_op.fpgadataflow import thresholding
    from qonnx.core.datatype import DataType

    x = np.array(values, dtype=np.float32).reshape(-1, 1)
    allowed = DataType[name].allowed
    assert np.array_equal(thresholding.np.vectorize(allowed)(x), np.vectorize(allowed)(x))
