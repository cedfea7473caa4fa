"""1 x 1 sliding windows: our stream_subsample (hw/rtl/stream_subsample.sv) instead of FINN's generator.

- The folding search's ``_generates`` says what FINN's ``generate_hdl`` really does (the style
  ``select_impl_style`` picks, then its ``prepare_codegen_*``), on every small window shape.
- Every 1 x 1 window FINN's conversion makes (any map, 1-wide and 1-high ones, strides 1-3, padding,
  channels, SIMD) goes to stream_subsample, and the golden model on the emitter's parameters equals
  FINN's execution of the window (its padding is FINN's FMPadding node in front, never the window's).
- The cycle and resource models and the folding options of such a window are ours, not FINN's.
"""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.custom_op.registry import getCustomOp
from test_row_strides import _finn_graph, _im2col

import flow.core.finn_env  # noqa: F401  (must precede FINN's custom ops)
from bench.synth_subsample import window_model
from flow.analysis.cost import block_of
from flow.analysis.cycles import block_cycles
from flow.analysis.folding_steps import _generates, window_options
from flow.compiler.transforms.thin_maps import PadThinMaps, SingleWindowStrides
from flow.core.hw_graph import is_subsample_window
from flow.rtl_backend.emitters import emit_node
from flow.rtl_backend.emitters.common import Edge
from flow.rtl_backend.emitters.subsample import subsample_params
from hw.golden.stream_subsample import subsample_frame

pytestmark = pytest.mark.fast
PART = "xc7z020clg400-1"


def window(kernel, in_hw, stride, channels: int, parallel: int) -> ModelWrapper:
    """One FINN ConvolutionInputGenerator_rtl node, SIMD = channels."""
    return window_model(kernel, in_hw, stride, channels, channels, parallel=parallel)


def small_windows():
    for kernel in [(1, 1), (1, 2), (2, 2)]:
        for in_hw in itertools.product(range(1, 4), range(1, 5)):
            for stride in itertools.product(range(1, 4), repeat=2):
                if all(k <= d and s <= d for k, s, d in zip(kernel, stride, in_hw, strict=True)):
                    for channels, parallel in itertools.product((1, 2), (0, 1)):
                        yield kernel, in_hw, stride, channels, parallel


def test_generates_is_what_finn_generate_hdl_does(tmp_path):
    """Exhaustive on small shapes; FINN's 1 x 1 windows are its parallel style whatever parallel_window
    says, so the serial answer of a 1 x 1 window follows the parallel generator (e.g. generated net 11's
    3 x 1 map, stride 3, 2 channels: ``math domain error``)."""
    seen = {True: 0, False: 0}
    for kernel, in_hw, stride, channels, parallel in small_windows():
        model = window(kernel, in_hw, stride, channels, parallel)
        inst = getCustomOp(model.graph.node[0])
        inst.set_nodeattr("code_gen_dir_ipgen", str(tmp_path))
        try:
            inst.generate_hdl(model, PART, 10.0)
            made = True
        except (AssertionError, ValueError):
            made = False
        assert _generates(inst, bool(parallel)) == made, (kernel, in_hw, stride, channels, parallel)
        seen[made] += 1
    assert min(seen.values()) > 20  # both outcomes are exercised
    net11 = getCustomOp(window((1, 1), (3, 1), (3, 1), 2, 0).graph.node[0])
    assert not _generates(net11, parallel=False)


@settings(max_examples=120, deadline=None)
@given(
    st.tuples(st.integers(1, 7), st.integers(1, 7)),  # map h, w
    st.tuples(st.integers(1, 3), st.integers(1, 3)),  # strides
    st.tuples(*[st.integers(0, 2)] * 4),  # pads t, l, b, r
    st.sampled_from([(1, 1), (2, 1), (2, 2), (3, 3), (4, 2), (6, 3)]),  # channels, SIMD
)
def test_every_1x1_window_is_stream_subsample_and_matches_finn_execution(hw, stride, pads, folding):
    channels, simd = folding
    model = _im2col(hw, channels, (1, 1), stride, pads)
    model = model.transform(PadThinMaps()).transform(SingleWindowStrides())  # as the compiler runs it
    finn = _finn_graph(model)
    (node,) = finn.get_nodes_by_op_type("ConvolutionInputGenerator")
    assert is_subsample_window(node)
    inst = getCustomOp(node)
    inst.set_nodeattr("SIMD", simd)
    padded = [hw[0] + pads[0] + pads[2], hw[1] + pads[1] + pads[3]]
    assert list(inst.get_nodeattr("IFMDim")) == padded  # the padding is FMPadding's, before the window
    assert bool(finn.get_nodes_by_op_type("FMPadding")) == any(pads)
    params = subsample_params(node)
    assert (params["Folds"], params["BeatBits"]) == (channels // simd, simd * 4)  # INT4 elements
    x = np.random.default_rng(sum(hw) + channels).integers(-8, 8, (1, *hw, channels)).astype(np.float32)
    ctx = execute_onnx(finn, {"x": x}, return_full_exec_context=True)
    want = execute_onnx(model, {"x": x})["y"].reshape(-1)
    np.testing.assert_array_equal(ctx["y"].reshape(-1), want)
    golden = subsample_frame(
        ctx[node.input[0]].reshape(-1), (params["H"], params["W"]), channels, (params["SH"], params["SW"]),
        (params["OH"], params["OW"]),
    )  # fmt: skip
    np.testing.assert_array_equal(golden, want)


def test_the_emitter_instantiates_stream_subsample_for_a_1x1_window(tmp_path):
    model = window((1, 1), (3, 1), (3, 1), 2, 0)  # generated net 11's window
    node = model.graph.node[0]
    inst = emit_node(model, node, tmp_path, [Edge("a", 2, 3)], [Edge("b", 2, 1)], PART, 10.0)
    assert "stream_subsample #(" in inst.text and ".SH            (3)" in inst.text
    assert [p.name for p in inst.sources] == ["stream_subsample.sv"]


def test_models_of_a_1x1_window_are_stream_subsample():
    """Cycles: one input beat per cycle (H * W * C / SIMD), not FINN's parallel style's + 2; resources:
    a stream block (no buffer); folding: every SIMD dividing the channels, no parallel_window."""
    model = window((1, 1), (6, 5), (2, 3), 4, 0)
    node = model.graph.node[0]
    inst = getCustomOp(node)
    inst.set_nodeattr("SIMD", 2)
    assert block_cycles(model, node) == 6 * 5 * 2
    block = block_of(model, node, PART)
    assert block.family == "stream" and block.mem_lut == block.bram36 == 0
    assert window_options(inst) == [(1, 0), (2, 0), (4, 0)]
