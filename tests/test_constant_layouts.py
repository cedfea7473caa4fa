"""Constants that FINN's own streamlining passes make anew (CollapseRepeatedAdd, MoveAddPastMul) carry the
layout of the map they meet (flow/compiler/transforms/constant_layouts.py): on an NHWC map a
position-dependent constant of any shape is never absorbed as a per-channel one, and the streamlined
graph computes what the original did, exactly (integers and halves: float32 is exact here)."""

import numpy as np
import pytest
import qonnx.core.data_layout as DataLayout
from helpers import onnx_model
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import helper
from qonnx.core.onnx_exec import execute_onnx

from flow.compiler.transforms.constant_layouts import AnnotateConstantLayouts
from flow.compiler.transforms.fast_streamline import fast_streamline

pytestmark = pytest.mark.fast
GEN = "qonnx.custom_op.general"


def _run(model, x):
    return execute_onnx(model, {model.graph.input[0].name: x})[model.graph.output[0].name]


def _constant(rng, axes: tuple[bool, bool, bool], h: int, w: int, c: int, rank: int) -> np.ndarray:
    """Integers and halves varying along the chosen NHWC axes (H, W, C), of rank 4 or 3 (no batch axis)."""
    shape = [n if keep else 1 for keep, n in zip(axes, (h, w, c), strict=True)]
    value = rng.integers(-6, 7, shape) + rng.choice([0.0, 0.5], shape)
    return value[None] if rank == 4 else value


@settings(max_examples=25, deadline=None)
@given(
    h=st.integers(1, 4), w=st.integers(1, 4), c=st.integers(1, 3),
    axes=st.tuples(st.booleans(), st.booleans(), st.booleans()), rank=st.sampled_from([3, 4]),
    chain=st.sampled_from(["add_add", "add_mul"]), steps=st.integers(1, 3), seed=st.integers(0, 10_000),
)  # fmt: skip
def test_a_new_constant_on_an_nhwc_map_keeps_its_positions(h, w, c, axes, rank, chain, steps, seed):
    """NCHW input -> Transpose (NHWC) -> Add(C1) -> Add(C2) or Mul(a > 0) -> MultiThreshold, through FINN's
    streamlining: the constant FINN makes (C1 + C2, or C1 * a) is annotated with its NHWC axes."""
    rng = np.random.default_rng(seed)
    c1, c2 = _constant(rng, axes, h, w, c, rank), _constant(rng, axes, h, w, c, rank)
    second = c2 if chain == "add_add" else rng.choice([0.5, 1.0, 2.0], c)  # a positive per-channel scale
    thr = np.sort(rng.integers(-20, 20, (c, steps)) + rng.choice([0.0, 0.5], (c, steps)), axis=1)
    odt = "BINARY" if steps == 1 else "UINT2"
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]),
        helper.make_node("Add", ["t", "c1"], ["a"]),
        helper.make_node("Add" if chain == "add_add" else "Mul", ["a", "c2"], ["b"]),
        helper.make_node("MultiThreshold", ["b", "thr"], ["y"], domain=GEN, data_layout="NHWC", out_dtype=odt),
    ]
    inits = {"c1": c1, "c2": second, "thr": thr}
    model = onnx_model(nodes, [1, c, h, w], [1, h, w, c], inits, x_dtype="UINT4")
    streamlined = model.transform(fast_streamline())
    for node in streamlined.graph.node:
        const = streamlined.get_initializer(node.input[1]) if len(node.input) > 1 else None
        if node.op_type in ("Add", "Mul") and const is not None and const.size > 1:
            assert streamlined.get_tensor_layout(node.input[1]) == DataLayout.NHWC[4 - const.ndim :]
    offset = c1 + c2 if chain == "add_add" else c1  # the positions of the Add FINN leaves (C1 * a varies as C1)
    if np.ptp(offset, axis=(rank - 3, rank - 2)).any():  # varies over the positions: no per-channel absorption
        assert any(n.op_type == "Add" for n in streamlined.graph.node)
    for _ in range(4):
        x = rng.integers(0, 16, (1, c, h, w)).astype(np.float32)
        np.testing.assert_array_equal(_run(streamlined, x), _run(model, x))


def test_a_constant_shared_by_maps_of_two_layouts_gets_a_copy_for_each():
    """C (1, 2, 2, 2) added to the NCHW input and to its NHWC transpose: two constants, each annotated."""
    const = np.arange(8, dtype=np.float32).reshape(1, 2, 2, 2)
    nodes = [
        helper.make_node("Add", ["x", "k"], ["a"]),
        helper.make_node("Transpose", ["a"], ["t"], perm=[0, 2, 3, 1]),
        helper.make_node("Add", ["t", "k"], ["y"]),
    ]
    model = onnx_model(nodes, [1, 2, 2, 2], [1, 2, 2, 2], {"k": const})
    annotated = model.transform(AnnotateConstantLayouts())
    first, second = (n.input[1] for n in annotated.graph.node if n.op_type == "Add")
    assert first != second
    assert annotated.get_tensor_layout(first) == DataLayout.NCHW
    assert annotated.get_tensor_layout(second) == DataLayout.NHWC
    x = np.arange(8, dtype=np.float32).reshape(1, 2, 2, 2)
    np.testing.assert_array_equal(_run(annotated, x), _run(model, x))
