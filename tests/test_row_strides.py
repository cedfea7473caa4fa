"""``RowStridesAsOwnWindow`` (flow/compiler/transforms/row_strides.py) on random convolution geometries:
the rewritten graph computes the same patches, and FINN's own sliding-window generator (finn-plus
``prepare_codegen_default`` / ``prepare_codegen_parallel``, run on the attributes FINN's conversion gives
each window) accepts every window of it. Fuzz seed 7001, net 15 (a 1 x 5 kernel, stride 3, padding 4
left and right, on a 2 x 1 map) is one such geometry."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.infer_shapes import InferShapes

import flow.core.finn_env  # noqa: F401  (must precede FINN's custom ops)
from flow.analysis.folding_steps import window_options
from flow.compiler.transforms.row_strides import PoolRowStridesAsOwnWindow, RowStridesAsOwnWindow
from flow.compiler.transforms.thin_maps import PadThinMaps, SingleWindowStrides
from flow.core.hw_graph import is_subsample_window
from flow.rtl_backend.emitters.subsample import subsample_params

pytestmark = pytest.mark.fast


def _im2col(hw, c, kernel, stride, pads) -> ModelWrapper:
    h, w = hw
    out = [(hw[a] + pads[a] + pads[a + 2] - kernel[a]) // stride[a] + 1 for a in (0, 1)]
    node = helper.make_node(
        "Im2Col", ["x"], ["y"], domain="qonnx.custom_op.general", stride=list(stride), kernel_size=list(kernel),
        input_shape=str((1, h, w, c)), pad_amount=list(pads), pad_value=0, dilations=[1, 1],
    )  # fmt: skip
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, h, w, c])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, *out, kernel[0] * kernel[1] * c])],
    )  # fmt: skip
    model = ModelWrapper(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))
    model.set_tensor_datatype("x", DataType["INT4"])
    return model.transform(InferShapes())


def _finn_graph(model: ModelWrapper) -> ModelWrapper:
    """``model`` after FINN's conversion of its Im2Col nodes (FMPadding + ConvolutionInputGenerator)."""
    from finn.transformation.fpgadataflow.convert_to_hw.conv_inp_gen import InferConvInpGen  # after finn_env

    return model.transform(InferConvInpGen())


def _finn_windows(model: ModelWrapper) -> list:
    """Each sliding window FINN's conversion makes of ``model``, as the RTL op it specialises to."""
    hw = _finn_graph(model)
    windows = []
    for node in hw.get_nodes_by_op_type("ConvolutionInputGenerator"):
        node.op_type, node.domain = "ConvolutionInputGenerator_rtl", "finn.custom_op.fpgadataflow.rtl"
        windows.append(getCustomOp(node))
    return windows


def _generate(window, simd: int) -> None:
    """FINN's code-generation preparation for this window, in the style our folding search may give it
    (``window_options``: serial with this SIMD where offered, else the whole window per cycle); a 1 x 1
    window is our stream_subsample instead (its parameters, checked by the emitter)."""
    if is_subsample_window(window.onnx_node):
        window.set_nodeattr("SIMD", simd)
        subsample_params(window.onnx_node)
        return
    options = window_options(window)
    option = (simd, 0) if (simd, 0) in options else options[-1]
    window.set_nodeattr("SIMD", option[0])
    window.set_nodeattr("parallel_window", option[1])
    if window.select_impl_style() == "parallel":
        window.prepare_codegen_parallel()
    else:
        window.prepare_codegen_default()


geometry = st.tuples(
    st.tuples(st.integers(1, 7), st.integers(1, 9)),  # map h, w
    st.tuples(st.integers(1, 3), st.integers(1, 7)),  # kernel h, w
    st.tuples(st.integers(1, 3), st.integers(1, 3)),  # strides
    st.tuples(*[st.integers(0, 4)] * 4),  # pads t, l, b, r
    st.sampled_from([1, 2]),  # SIMD of 2 channels: channel fold 2 or 1
)


def _valid(hw, kernel, stride, pads) -> bool:
    return all(hw[a] + pads[a] + pads[a + 2] >= kernel[a] for a in (0, 1))


@settings(max_examples=150, deadline=None)
@given(geometry)
def test_rewrite_is_exact_and_every_window_generates(case):
    hw, kernel, stride, pads, simd = case
    if not _valid(hw, kernel, stride, pads):
        return
    model = _im2col(hw, 2, kernel, stride, pads)
    pipeline = [RowStridesAsOwnWindow(), PadThinMaps(), SingleWindowStrides()]
    rewritten = model
    for transform in pipeline:
        rewritten = rewritten.transform(transform)
    x = {"x": np.random.default_rng(0).integers(-8, 8, (1, *hw, 2)).astype(np.float32)}
    reference = model
    for transform in pipeline[1:]:  # qonnx executes padded thin maps only after PadThinMaps
        reference = reference.transform(transform)
    np.testing.assert_array_equal(execute_onnx(rewritten, x)["y"], execute_onnx(reference, x)["y"])
    for window in _finn_windows(rewritten):
        try:
            _generate(window, simd)
        except (AssertionError, ValueError):  # open: see docs/compile_any.md (one or two windows)
            out_h, out_w = window.get_nodeattr("OFMDim")
            assert out_h * out_w <= 2


def test_net15_geometry_needed_the_rewrite():
    """Without the rewrite FINN asserts on this window; with it, it generates."""
    model = _im2col((2, 1), 2, (1, 5), (3, 3), (0, 4, 0, 4)).transform(PadThinMaps()).transform(SingleWindowStrides())
    (window,) = _finn_windows(model)
    with pytest.raises(AssertionError, match="H increment > buffer size"):
        _generate(window, 2)
    rewritten = _im2col((2, 1), 2, (1, 5), (3, 3), (0, 4, 0, 4)).transform(RowStridesAsOwnWindow())
    rewritten = rewritten.transform(PadThinMaps()).transform(SingleWindowStrides())
    windows = _finn_windows(rewritten)
    assert [w.get_nodeattr("ConvKernelDim") for w in windows] == [[1, 1], [1, 5]]
    for window in windows:
        _generate(window, 2)


def test_unread_end_columns_of_a_one_row_kernel_take_the_parallel_window():
    """1 x 2, column stride 3, on 7 columns: two end columns unread, FINN's serial window asserts; the
    folding search offers only the parallel one (four windows), which FINN generates."""
    (window,) = _finn_windows(_im2col((2, 7), 2, (1, 2), (1, 3), (0, 0, 0, 0)))
    assert window_options(window) == [(2, 1)]
    with pytest.raises(AssertionError, match="H increment > buffer size"):
        window.prepare_codegen_default()
    _generate(window, 2)


@settings(max_examples=40, deadline=None)
@given(
    st.tuples(st.integers(1, 7), st.integers(2, 9)), st.integers(1, 3), st.integers(2, 3), st.integers(1, 3),
    st.sampled_from(["max", "sum"]), st.booleans(),
)  # fmt: skip
def test_pool_row_stride_split_is_exact(hw, k_w, s_h, s_w, function, ceil):
    from flow.compiler.transforms.pools import make_pool_node
    from hw.golden.bnn_pool import pool_out_dim

    k_w = min(k_w, hw[1])
    out = [pool_out_dim(hw[0], 1, s_h, 0, 0, ceil), pool_out_dim(hw[1], k_w, s_w, 0, 0, ceil)]
    end = [max(0, (out[a] - 1) * (s_h, s_w)[a] + (1, k_w)[a] - hw[a]) for a in (0, 1)]
    geometry = {"kernel": [1, k_w], "stride": [s_h, s_w], "pads": [0, 0, *end], "out": out, "img": list(hw)}
    node = make_pool_node("x", "y", geometry, 2, function, "pool")
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, *hw, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, *out, 2])],
    )  # fmt: skip
    model = ModelWrapper(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))
    model.set_tensor_datatype("x", DataType["INT4"])
    getCustomOp(model.graph.node[0]).set_nodeattr("InputDataType", "INT4")
    rewritten = model.transform(PoolRowStridesAsOwnWindow())
    assert getCustomOp(rewritten.get_nodes_by_op_type("ShiftbnnPool")[0]).get_nodeattr("Stride")[0] == 1
    x = {"x": np.random.default_rng(0).integers(-8, 8, (1, *hw, 2)).astype(np.float32)}
    np.testing.assert_array_equal(execute_onnx(rewritten, x)["y"], execute_onnx(model, x)["y"])
