"""The graph rewrites behind pools of any shape, XNOR-Net's block order and zero-padded binary convs, each
checked by executing the graph before and after on random inputs (qonnx / onnxruntime), and the maths
they rest on against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from helpers import onnx_model as _model
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.custom_op.registry import getCustomOp

import flow.core.hw_graph  # noqa: F401  (registers ShiftbnnPool / ShiftbnnPosThreshold)
from flow.compiler.refusals import Refusal
from flow.compiler.transforms.bipolar_int_matmul import BipolarInputAsBinary
from flow.compiler.transforms.bipolar_pad import border_correction
from flow.compiler.transforms.border_threshold import AbsorbBorderAddIntoThreshold
from flow.compiler.transforms.pool_order import MoveMaxPoolPastMonotoneOps
from flow.compiler.transforms.pools import (
    ConvertPoolsToShiftbnn,
    FloorModePools,
    MoveLinearPastPool,
    make_pool_node,
)
from flow.compiler.transforms.sign_into_product import AbsorbChannelSignIntoProduct
from flow.compiler.transforms.thin_maps import SingleWindowStrides
from hw.golden.bnn_pool import pool_out_dim
from hw.golden.pos_threshold import border_classes

pytestmark = pytest.mark.fast
GEN = "qonnx.custom_op.general"


def _run(model, x):
    return execute_onnx(model, {"x": x})["y"]


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(1, 7), w=st.integers(1, 7), k=st.integers(1, 5), s=st.integers(1, 3),
    value=st.sampled_from([0.0, 1.0]), pads=st.lists(st.integers(0, 3), min_size=4, max_size=4),
    seed=st.integers(0, 50),
)  # fmt: skip
def test_border_correction_is_the_difference_of_two_paddings(h, w, k, s, value, pads, seed):
    """conv(pad_value border) = conv(-1 border) + border_correction, for any kernel, stride and padding."""
    t, left, b, r = (min(p, k - 1) for p in pads)
    if h + t + b < k or w + left + r < k:
        return
    rng = np.random.default_rng(seed)
    x = torch.tensor(rng.choice([-1.0, 1.0], (1, 3, h, w)))
    weight = torch.tensor(rng.choice([-1.0, 1.0], (4, 3, k, k)))
    conv = lambda v: F.conv2d(F.pad(x, (left, r, t, b), value=v), weight, stride=s)  # noqa: E731
    im2col_rows = weight.permute(2, 3, 1, 0).reshape(k * k * 3, 4).numpy()  # Im2Col order (ky, kx, c)
    corr = border_correction(im2col_rows, (h, w), (k, k), (s, s), (t, left, b, r), pad_value=value)
    np.testing.assert_array_equal(
        conv(value)[0].permute(1, 2, 0).numpy(), conv(-1.0)[0].permute(1, 2, 0).numpy() + corr
    )
    rows, cols, table = border_classes(corr)  # classes: at most one per border row / column + the interior
    assert rows[0] <= -(-t // s) and cols[0] <= -(-left // s) and len(table) <= (sum(rows) + 1) * (sum(cols) + 1)


def _pool_graph(op, attrs, x_shape, y_shape):
    return _model([helper.make_node(op, ["x"], ["y"], **attrs)], x_shape, y_shape, {})


@pytest.mark.parametrize(
    "op, attrs, y_hw",
    [
        ("MaxPool", dict(kernel_shape=[2, 2], strides=[2, 2]), (3, 4)),  # floor mode on 7x9
        ("MaxPool", dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1), (4, 5)),
        ("MaxPool", dict(kernel_shape=[1, 2], strides=[3, 1]), (3, 8)),  # stride above the kernel
        ("AveragePool", dict(kernel_shape=[3, 2], strides=[2, 2], pads=[1, 0, 1, 0], count_include_pad=1), (4, 4)),
        ("GlobalAveragePool", {}, (1, 1)),
    ],
)
def test_onnx_pools_become_one_shiftbnn_pool(op, attrs, y_hw):
    model = _pool_graph(op, attrs, [1, 3, 7, 9], [1, 3, *y_hw])
    x = np.random.default_rng(0).integers(-5, 6, (1, 3, 7, 9)).astype(np.float32)
    converted = model.transform(ConvertPoolsToShiftbnn())
    assert "ShiftbnnPool" in [n.op_type for n in converted.graph.node]
    np.testing.assert_allclose(_run(converted, x), _run(model, x), rtol=1e-6)


def test_average_with_a_position_dependent_divisor_is_refused():
    attrs = dict(kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1], count_include_pad=0)
    model = _pool_graph("AveragePool", attrs, [1, 2, 5, 5], [1, 2, 5, 5])
    with pytest.raises(Refusal, match="count_include_pad=True") as info:
        model.transform(ConvertPoolsToShiftbnn())
    assert info.value.reason == "avg-divisor"


def test_xnor_order_pool_moves_behind_the_threshold_with_min_lanes():
    """MaxPool -> BatchNorm (scales of both signs) -> Sub(t) -> MultiThreshold: the pool goes last, the
    channels with a negative scale take the min, and the outputs stay equal."""
    c = 4
    gamma = np.array([1.5, -0.7, 0.9, -2.0])
    inits = {"g": gamma, "b": [0.1, -0.2, 0.3, 0.0], "m": [0.5, -1, 2, 0], "v": [1, 2, 0.5, 1], "t": 0.25,
             "thr": np.zeros((c, 1))}  # fmt: skip
    nodes = [
        helper.make_node("MaxPool", ["x"], ["p"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["p", "g", "b", "m", "v"], ["n"]),
        helper.make_node("Sub", ["n", "t"], ["s"]),
        helper.make_node("MultiThreshold", ["s", "thr"], ["y"], domain=GEN, out_dtype="BIPOLAR", out_scale=2.0,
                         out_bias=-1.0),
    ]  # fmt: skip
    model = _model(nodes, [1, c, 6, 6], [1, c, 3, 3], inits)
    moved = model.transform(MoveMaxPoolPastMonotoneOps())
    assert [n.op_type for n in moved.graph.node][-3:] == ["Transpose", "ShiftbnnPool", "Transpose"]
    pool = getCustomOp(moved.get_nodes_by_op_type("ShiftbnnPool")[0])
    assert list(pool.get_nodeattr("MinChannels")) == [0, 1, 0, 1]
    for seed in range(5):
        x = np.random.default_rng(seed).normal(size=(1, c, 6, 6)).astype(np.float32) * 3
        np.testing.assert_array_equal(_run(moved, x), _run(model, x))


def test_a_position_dependent_add_stops_the_move():
    nodes = [
        helper.make_node("MaxPool", ["x"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Add", ["p", "c"], ["a"]),
        helper.make_node("MultiThreshold", ["a", "thr"], ["y"], domain=GEN, out_dtype="BINARY"),
    ]
    model = _model(
        nodes, [1, 2, 4, 4], [1, 2, 2, 2], {"c": np.arange(8.0).reshape(1, 2, 2, 2), "thr": np.zeros((2, 1))}
    )
    assert [n.op_type for n in model.transform(MoveMaxPoolPastMonotoneOps()).graph.node][0] == "MaxPool"


@pytest.mark.parametrize("steps", [1, 9])
def test_border_add_and_threshold_become_position_thresholds(steps):
    """Add(C[y, x, c]) -> MultiThreshold on an integer map: position-indexed thresholds (1 step) or the
    offset mode before per-channel thresholds (9 steps), equal on every integer input."""
    h, w, c = 5, 6, 3
    rng = np.random.default_rng(steps)
    corr = border_correction(rng.choice([-1.0, 1.0], (9 * 2, c)), (h, w), (3, 3), (1, 1), (1, 1, 1, 1)) / 2
    thr = np.sort(rng.integers(-4, 12, (c, steps)), axis=1)
    nodes = [
        helper.make_node("Add", ["x", "corr"], ["a"]),
        helper.make_node("MultiThreshold", ["a", "thr"], ["y"], domain=GEN, data_layout="NHWC",
                         out_dtype="UINT4" if steps > 1 else "BINARY"),
    ]  # fmt: skip
    model = _model(nodes, [1, h, w, c], [1, h, w, c], {"corr": corr[None], "thr": thr}, x_dtype="UINT4")
    converted = model.transform(AbsorbBorderAddIntoThreshold())
    ops = [n.op_type for n in converted.graph.node]
    assert ops == (["ShiftbnnPosThreshold"] if steps == 1 else ["ShiftbnnPosThreshold", "MultiThreshold"])
    for seed in range(5):
        x = np.random.default_rng(seed).integers(0, 16, (1, h, w, c)).astype(np.float32)
        np.testing.assert_array_equal(_run(converted, x), _run(model, x))


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(2, 9), w=st.integers(2, 9), k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 1),
    seed=st.integers(0, 50),
)  # fmt: skip
def test_ceil_mode_max_pool_in_floor_mode_has_pytorchs_shape_and_values(h, w, k, s, p, seed):
    """ONNX sizes a ceil-mode pool one larger than PyTorch where the last window would start in the end
    padding; FloorModePools gives the pool PyTorch's size and values before any shape inference."""
    if p > k // 2 or k > h + 2 * p or k > w + 2 * p:
        return
    x = np.random.default_rng(seed).integers(-5, 6, (1, 2, h, w)).astype(np.float32)
    expected = F.max_pool2d(torch.tensor(x), k, s, p, ceil_mode=True).numpy()
    attrs = dict(kernel_shape=[k, k], strides=[s, s], pads=[p] * 4, ceil_mode=1)
    model = _pool_graph("MaxPool", attrs, [1, 2, h, w], list(expected.shape))
    floor = model.transform(FloorModePools())
    assert floor.get_tensor_shape("y") == list(expected.shape)
    np.testing.assert_array_equal(_run(floor, x), expected)


def test_stride_beyond_a_one_window_axis_is_clipped_to_the_map():
    """A 1x1 conv with stride 3 on a 1 x 2 map: one output, FINN's window needs stride <= map size."""
    im2col = helper.make_node(
        "Im2Col", ["x"], ["y"], domain=GEN, stride=[3, 3], kernel_size=[1, 1], input_shape="(1, 1, 2, 4)",
        pad_amount=[0, 0, 0, 0],
    )  # fmt: skip
    model = _model([im2col], [1, 1, 2, 4], [1, 1, 1, 4], {})
    x = np.arange(8, dtype=np.float32).reshape(1, 1, 2, 4)
    fixed = model.transform(SingleWindowStrides())
    assert getCustomOp(fixed.graph.node[0]).get_nodeattr("stride") == [1, 2]
    assert fixed.get_tensor_shape("y") == [1, 1, 1, 4]
    np.testing.assert_array_equal(_run(fixed, x), _run(model, x))


def test_bipolar_activation_into_int8_weights_in_the_binary_code():
    """x @ W with x = 2 b - 1 in {-1, +1}: the threshold emits b, the product is 2 (b @ W) - colsum(W)."""
    rng = np.random.default_rng(3)
    w = rng.integers(-128, 128, (6, 4)).astype(np.float32)
    nodes = [
        helper.make_node("MultiThreshold", ["x", "thr"], ["s"], domain=GEN, out_dtype="BIPOLAR", out_scale=2.0,
                         out_bias=-1.0),
        helper.make_node("MatMul", ["s", "w"], ["y"]),
    ]  # fmt: skip
    model = _model(nodes, [1, 6], [1, 4], {"thr": rng.integers(-3, 4, (6, 1)), "w": w})
    model.set_tensor_datatype("s", DataType["BIPOLAR"])
    model.set_tensor_datatype("w", DataType["INT8"])
    rewritten = model.transform(BipolarInputAsBinary())
    assert [n.op_type for n in rewritten.graph.node] == ["MultiThreshold", "MatMul", "Mul", "Add"]
    assert rewritten.get_tensor_datatype(rewritten.graph.node[1].input[0]) == DataType["BINARY"]
    for seed in range(5):
        x = np.random.default_rng(seed).integers(-4, 5, (1, 6)).astype(np.float32)
        np.testing.assert_array_equal(_run(rewritten, x), _run(model, x))


# ---- XNOR-Net's block order (conv -> pool -> BatchNorm -> sign / int8 quantizer) ----------------------


def _typed(nodes, x_shape, y_shape, inits, dtypes):
    """``_model`` with float constants (a Reshape's shape int64) and the given tensor types."""
    inits = {k: np.asarray(v, np.int64 if k == "shape" else np.float32) for k, v in inits.items()}
    return _model(nodes, x_shape, y_shape, inits, dtypes.get("x", "FLOAT32"), dtypes)


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(1, 6), w=st.integers(1, 6), k=st.integers(1, 3), s=st.integers(1, 3), pad=st.integers(0, 1),
    function=st.sampled_from(["sum", "max"]), xnor=st.booleans(), transpose=st.booleans(),
    position=st.booleans(), seed=st.integers(0, 10_000),
)  # fmt: skip
def test_channel_sign_after_a_pool_goes_into_the_product(h, w, k, s, pad, function, xnor, transpose, position, seed):
    """product -> ShiftbnnPool -> Mul(m) -> Add(b) [-> Transpose to NCHW] -> Mul(signed per channel): the
    Mul's signs go into the product's weights (XNOR columns complemented, integer columns negated), and
    the outputs are equal for every input. ``b`` per channel, or per position (a pooled bias or border
    correction, pools.py), negated on the flipped channels either way."""
    rng = np.random.default_rng(seed)
    k = min(k, h, w)
    pad = min(pad, k // 2)
    oh, ow = pool_out_dim(h, k, s, pad, pad, False), pool_out_dim(w, k, s, pad, pad, False)
    assume((oh - 1) * s - pad < h and (ow - 1) * s - pad < w)  # every window holds an image position (PyTorch)
    rows, c = int(rng.integers(1, 9)), int(rng.integers(1, 6))
    geometry = {"kernel": [k, k], "stride": [s, s], "pads": [pad, pad, pad, pad], "out": [oh, ow], "img": [h, w]}
    sign = rng.choice([-1.0, 1.0], c) * rng.choice([1.0, 0.37, 2.5], c)
    inits = {"w": rng.integers(0, 2, (rows, c)) if xnor else rng.integers(-8, 8, (rows, c)),
             "m": rng.choice([1.0, 0.25, 0.1]), "b": rng.normal(size=(1, oh, ow, c) if position else c),
             "s": sign}  # fmt: skip
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
    model = _typed(nodes, [1, h, w, rows], y_shape, inits, {"x": x_dt, "w": "BINARY" if xnor else "INT4"})
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
    model = _typed(nodes, [1, c, 4, 3], [1, c, 2, 3], inits, {})
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
    model = _typed(nodes, x_shape, [1, 4], inits, {"w": "INT8"})
    model.set_tensor_datatype("s", DataType["BIPOLAR"])
    if layout:
        model.set_tensor_datatype("f", DataType["BIPOLAR"])
    rewritten = model.transform(BipolarInputAsBinary())
    assert [n.op_type for n in rewritten.graph.node][-2:] == ["Mul", "Add"]
    for seed in range(5):
        x = np.random.default_rng(seed).integers(-4, 5, x_shape).astype(np.float32)
        np.testing.assert_array_equal(_run(rewritten, x), _run(model, x))


# ---- a per-channel scale or bias between the product's and the pool's transposes (fuzz seed 9001, net 12) ----


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(1, 6), w=st.integers(1, 6), kh=st.integers(1, 3), kw=st.integers(1, 3), s=st.integers(1, 3),
    pad=st.integers(0, 1), function=st.sampled_from(["sum", "max"]), order=st.sampled_from(["mul-add", "add-mul"]),
    const_rank=st.sampled_from([0, 1, 3, 4]), seed=st.integers(0, 10_000),
)  # fmt: skip
def test_channel_linear_ops_move_through_the_transpose_and_the_pool(
    h, w, kh, kw, s, pad, function, order, const_rank, seed
):
    """NHWC map -> Transpose (NCHW) -> Mul / Add of per-channel (or scalar) constants -> Transpose (NHWC)
    -> ShiftbnnPool: the ops move past the transpose and the pool (``sum(x + b) = sum(x) + n b`` for full
    windows, a position-dependent offset after a padded one (tests/test_pool_offsets.py),
    ``max(a x) = a min(x)`` for a < 0). The outputs are equal for every input (constants of few bits:
    float32 is exact here)."""
    rng = np.random.default_rng(seed)
    kh, kw = min(kh, h), min(kw, w)
    pads = [min(pad, kh // 2), min(pad, kw // 2)] * 2
    oh, ow = pool_out_dim(h, kh, s, pads[0], pads[2], False), pool_out_dim(w, kw, s, pads[1], pads[3], False)
    c = int(rng.integers(1, 6))
    geometry = {"kernel": [kh, kw], "stride": [s, s], "pads": pads, "out": [oh, ow], "img": [h, w]}
    shape = {0: (), 1: (c,) if c > 1 else (1,), 3: (c, 1, 1), 4: (1, c, 1, 1)}[const_rank]
    const_shape = shape if const_rank != 1 else (1,)  # a 1D constant broadcasts along W in NCHW: scalar only
    inits = {
        "m": rng.choice([1.0, 2.0, -3.0, 0.5, -0.25], const_shape),
        "b": rng.integers(-4, 5, const_shape) + rng.choice([0.0, 0.5], const_shape),
    }
    first, second = ("Mul", "Add") if order == "mul-add" else ("Add", "Mul")
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
        helper.make_node(first, ["t", "m" if first == "Mul" else "b"], ["l1"]),
        helper.make_node(second, ["l1", "m" if second == "Mul" else "b"], ["l2"]),
        helper.make_node("Transpose", ["l2"], ["u"], perm=[0, 2, 3, 1]),
        make_pool_node("u", "y", geometry, c, function, "pool"),
    ]
    model = _typed(nodes, [1, h, w, c], [1, oh, ow, c], inits, {"x": "INT4"})
    moved = model.transform(MoveLinearPastPool())
    ops = [n.op_type for n in moved.graph.node]
    assert ops[: ops.index("ShiftbnnPool")] == ["Transpose", "Transpose"]
    for _ in range(4):
        x = rng.integers(-8, 8, (1, h, w, c)).astype(np.float32)
        np.testing.assert_array_equal(_run(moved, x), _run(model, x))
