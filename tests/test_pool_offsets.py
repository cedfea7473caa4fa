"""An Add of any constant moved past a pool (flow/compiler/transforms/pools.py ``MoveLinearPastPool``), the
position-dependent offset it leaves after a sum pool taken into the next threshold (border_threshold.py),
and the refusal of one that no threshold takes (``position-offset``): every rewrite executed before and
after on integer inputs (qonnx), equal exactly (constants of few bits: float32 is exact here)."""

import numpy as np
import pytest
import qonnx.core.data_layout as DataLayout
from helpers import onnx_model
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import helper
from qonnx.core.onnx_exec import execute_onnx

import flow.core.hw_graph  # noqa: F401  (registers ShiftbnnPool / ShiftbnnPosThreshold)
from flow.compiler.refusals import Refusal
from flow.compiler.transforms.border_threshold import AbsorbBorderAddIntoThreshold, refuse_position_offsets
from flow.compiler.transforms.constant_layouts import AnnotateConstantLayouts
from flow.compiler.transforms.pool_streamline import streamline_pools
from flow.compiler.transforms.pools import MoveLinearPastPool, make_pool_node
from hw.golden.bnn_pool import pool_out_dim, window_bounds
from hw.golden.pos_threshold import border_classes, expand

pytestmark = pytest.mark.fast
GEN = "qonnx.custom_op.general"
CONSTANTS = ["scalar", "channel", "border", "arbitrary"]


def _model(nodes, x_shape, y_shape, inits, x_dtype="INT4"):
    """The input is NHWC, as after the build's input transpose (InferDataLayouts would guess NCHW)."""
    model = onnx_model(nodes, x_shape, y_shape, {k: np.asarray(v, np.float32) for k, v in inits.items()}, x_dtype)
    model.set_tensor_layout("x", DataLayout.NHWC)
    return model


def _run(model, x):
    """The graph's output (streamlining renames the tensors)."""
    return execute_onnx(model, {model.graph.input[0].name: x})[model.graph.output[0].name]


def _constant(kind: str, rng, h: int, w: int, c: int) -> np.ndarray:
    """An NHWC constant of integers and halves: one value, one per channel, one per border class (two
    border rows / columns at most on each side, as a zero-padded conv's correction), or one per position."""
    values = lambda shape: rng.integers(-6, 7, shape) + rng.choice([0.0, 0.5], shape)  # noqa: E731
    if kind == "scalar":
        return values(())
    if kind == "channel":
        return values((1, 1, 1, c))
    if kind == "arbitrary":
        return values((1, h, w, c))
    split = lambda n: (min(int(rng.integers(0, 3)), n - 1), 0)  # noqa: E731
    rows, cols = split(h), split(w)
    rows, cols = (rows[0], min(int(rng.integers(0, 3)), h - 1 - rows[0])), (cols[0], min(1, w - 1 - cols[0]))
    table = values(((sum(rows) + 1) * (sum(cols) + 1), c))
    return expand(table, (h, w), rows, cols)[None]


def _geometry(h, w, kernel, stride, pads):
    kh, kw = min(kernel[0], h), min(kernel[1], w)
    t, left = min(pads[0], kh // 2), min(pads[1], kw // 2)  # PyTorch: a pad at most half the window
    b, r = min(pads[2], kh // 2), min(pads[3], kw // 2)
    out = [pool_out_dim(h, kh, stride[0], t, b), pool_out_dim(w, kw, stride[1], left, r)]
    return {"kernel": [kh, kw], "stride": list(stride), "pads": [t, left, b, r], "out": out, "img": [h, w]}


def _subsamples(g) -> bool:
    return all(
        e - b == 1
        for a in (0, 1)
        for b, e in window_bounds(g["out"][a], g["kernel"][a], g["stride"][a], g["pads"][a], g["img"][a])
    )


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(1, 7), w=st.integers(1, 7), c=st.integers(1, 3),
    kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)), stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    pads=st.lists(st.integers(0, 2), min_size=4, max_size=4), function=st.sampled_from(["sum", "max"]),
    kind=st.sampled_from(CONSTANTS), through_transpose=st.booleans(), seed=st.integers(0, 10_000),
)  # fmt: skip
def test_an_add_moves_past_every_pool_that_passes_it(h, w, c, kernel, stride, pads, function, kind, through_transpose,
                                                     seed):  # fmt: skip
    """Add(C) [between NHWC -> NCHW -> NHWC transposes] -> ShiftbnnPool: the Add goes after the pool as the
    pooled constant for a sum pool of any window, stride and padding, and for a max pool where C is
    per-channel or every window holds one position; elsewhere it stays. Equal outputs for every input."""
    rng = np.random.default_rng(seed)
    g = _geometry(h, w, kernel, stride, pads)
    const = _constant(kind, rng, h, w, c)
    nodes = [make_pool_node("u", "y", g, c, function, "pool")]
    if through_transpose:  # the constant in NCHW, as FINN leaves a conv's bias between the transposes
        nchw = const.transpose(0, 3, 1, 2) if const.ndim == 4 else const
        nodes[:0] = [
            helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
            helper.make_node("Add", ["t", "c"], ["a"]),
            helper.make_node("Transpose", ["a"], ["u"], perm=[0, 2, 3, 1]),
        ]
    else:
        nchw = const
        nodes.insert(0, helper.make_node("Add", ["x", "c"], ["u"]))
    model = _model(nodes, [1, h, w, c], [1, *g["out"], c], {"c": nchw})
    moved = model.transform(MoveLinearPastPool())
    passes = function == "sum" or kind in ("scalar", "channel") or _subsamples(g)
    ops = [n.op_type for n in moved.graph.node]
    assert (ops[-1] == "Add") is passes, ops
    for _ in range(4):
        x = rng.integers(-8, 8, (1, h, w, c)).astype(np.float32)
        np.testing.assert_array_equal(_run(moved, x), _run(model, x))
    if passes:
        offset = moved.get_initializer(moved.graph.node[-1].input[1])
        if offset.ndim == 4:  # position-dependent: NHWC after the settle step, and border-class structured
            moved = moved.transform(AnnotateConstantLayouts())
            assert moved.get_tensor_layout(moved.graph.node[-1].input[1]) == DataLayout.NHWC
            rows, cols, table = border_classes(offset[0])
            np.testing.assert_array_equal(expand(table, offset.shape[1:3], rows, cols), offset[0])


@settings(max_examples=30, deadline=None)
@given(
    h=st.integers(2, 7), w=st.integers(1, 7), c=st.integers(1, 3), k=st.integers(1, 3), s=st.integers(1, 2),
    pad=st.integers(0, 1), kind=st.sampled_from(CONSTANTS[1:]), scale=st.sampled_from([1.0, 0.5, 2.0]),
    steps=st.sampled_from([1, 3, 9]), seed=st.integers(0, 10_000),
)  # fmt: skip
def test_a_pooled_offset_becomes_position_thresholds_or_is_refused(h, w, c, k, s, pad, kind, scale, steps, seed):
    """integer map -> Add(C) -> sum pool (zero-padded) -> Mul(a > 0) -> MultiThreshold, streamlined as the
    build does: the offset and the scale go into position-indexed thresholds (or the offset mode before
    per-channel thresholds where the offsets are integers or halves), equal on every input; an offset
    that neither holds stays and is refused by name. A one-channel one-column map is the shape FINN's
    AbsorbAddIntoMultiThreshold would misread as per-channel if the offset were not annotated NHWC."""
    rng = np.random.default_rng(seed)
    g = _geometry(h, w, (k, k), (s, s), [pad] * 4)
    const = _constant(kind, rng, h, w, c)
    thr = np.sort(rng.integers(-20, 20, (c, steps)) + rng.choice([0.0, 0.5], (c, steps)), axis=1)
    odt = "BINARY" if steps == 1 else ("UINT2" if steps == 3 else "UINT4")
    nodes = [
        helper.make_node("Add", ["x", "c"], ["a"]),
        make_pool_node("a", "p", g, c, "sum", "pool"),
        helper.make_node("Mul", ["p", "m"], ["q"]),
        helper.make_node("MultiThreshold", ["q", "thr"], ["y"], domain=GEN, data_layout="NHWC", out_dtype=odt),
    ]
    inits = {"c": const, "m": np.full(c, scale), "thr": thr}
    model = _model(nodes, [1, h, w, c], [1, *g["out"], c], inits, x_dtype="UINT4")
    streamlined = streamline_pools(model)
    converted = streamlined.transform(AbsorbBorderAddIntoThreshold())
    ops = [n.op_type for n in converted.graph.node]
    assert ops[0] == "ShiftbnnPool" and "Mul" not in ops, ops
    if "Add" in ops:  # the offset mode cannot hold offsets other than integers and halves
        assert steps > 7 or not np.any(converted.get_initializer(converted.graph.node[1].input[1]))
        with pytest.raises(Refusal) as info:
            refuse_position_offsets(converted)
        assert info.value.reason == "position-offset"
    for _ in range(4):
        x = rng.integers(0, 16, (1, h, w, c)).astype(np.float32)
        np.testing.assert_array_equal(_run(converted, x), _run(model, x))


def test_a_position_offset_with_no_threshold_after_it_is_refused_and_a_channel_one_is_not():
    h, w, c = 3, 4, 2
    offset = np.arange(h * w * c, dtype=np.float32).reshape(1, h, w, c)
    for const, refused in ((offset, True), (offset[:, :1, :1, :], False)):
        model = _model([helper.make_node("Add", ["x", "c"], ["y"])], [1, h, w, c], [1, h, w, c], {"c": const})
        if refused:
            with pytest.raises(Refusal, match="position-offset|depends on the position") as info:
                refuse_position_offsets(model)
            assert "fix in Brevitas: " in str(info.value)
        else:
            refuse_position_offsets(model)
