"""SplitMvauThresholds: an MVAU's activation moved into a Thresholding node computes the same function
(FINN's Python execution of the generic ops), for integer weights and for wide binary activations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.custom_op.registry import getCustomOp

import flow.core.finn_env  # noqa: F401  (boots FINN without Vivado)
from flow.core.hw_graph import HW_DOMAIN
from flow.rtl_backend.split_thresholds import SplitMvauThresholds


def mvau_graph(W: np.ndarray, T: np.ndarray, idt: str, wdt: str, odt: str, act_val: int, xnor: int = 0, pe=1, simd=1):
    mw, mh = W.shape
    node = helper.make_node(
        "MVAU", ["x", "W", "T"], ["y"], domain=HW_DOMAIN, backend="fpgadataflow", name="MVAU_0",
        MW=mw, MH=mh, PE=pe, SIMD=simd, inputDataType=idt, weightDataType=wdt, outputDataType=odt,
        ActVal=act_val, binaryXnorMode=xnor, noActivation=0, numInputVectors=[1, 2, 3],
    )  # fmt: skip
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 3, mw])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 3, mh])],
    )
    model = ModelWrapper(helper.make_model(graph))
    model.set_initializer("W", W.astype(np.float32))
    model.set_initializer("T", T.astype(np.float32))
    for name, dt in (("x", idt), ("W", wdt), ("y", odt)):
        model.set_tensor_datatype(name, DataType[dt])
    return model


def run_generic(model: ModelWrapper, x: np.ndarray) -> np.ndarray:
    """Execute with every node mapped to its generic FINN op (as flow/compiler/verify.py does)."""
    for node in model.graph.node:
        node.domain, node.op_type = HW_DOMAIN, node.op_type.removesuffix("_rtl")
    return execute_onnx(model, {"x": x.astype(np.float32)})["y"]


CASES = {
    # stem-like: UINT8 pixels x INT8 weights -> 255 unsorted thresholds -> INT8
    "int_weights": ("UINT8", "INT8", "INT8", -128, 255, 0),
    # XNOR popcount with an INT8 re-quantization (Bi-Real block): 255 thresholds -> split
    "binary_wide": ("BINARY", "BINARY", "INT8", -128, 255, 1),
}


@pytest.mark.fast
@pytest.mark.parametrize("case", sorted(CASES))
def test_split_is_the_same_function(case):
    idt, wdt, odt, act, n_thr, xnor = CASES[case]
    rng = np.random.default_rng(1)
    mw, mh = 12, 4
    lo_x, hi_x = (0, 1) if idt == "BINARY" else (0, 255)
    W = rng.integers(0, 2, size=(mw, mh)) if wdt == "BINARY" else rng.integers(-128, 128, size=(mw, mh))
    acc_hi = mw if xnor else int(np.abs(W).sum(0).max() * 255)
    T = rng.integers(-acc_hi - 50, acc_hi + 50, size=(mh, n_thr))  # unsorted, some out of range
    x = rng.integers(lo_x, hi_x + 1, size=(1, 2, 3, mw))
    before = run_generic(mvau_graph(W, T, idt, wdt, odt, act, xnor), x)
    split = mvau_graph(W, T, idt, wdt, odt, act, xnor).transform(SplitMvauThresholds())
    ops = [n.op_type for n in split.graph.node]
    assert ops == ["MVAU", "Thresholding_rtl"]
    assert split.get_initializer(split.graph.node[1].input[1]).shape == (mh, n_thr)
    after = run_generic(split, x)
    assert np.array_equal(before, after) and len(np.unique(before)) > 3


@pytest.mark.fast
def test_sign_of_binary_mvau_stays_embedded():
    W = np.ones((8, 2))
    model = mvau_graph(W, np.full((2, 1), 4), "BINARY", "BINARY", "BIPOLAR", 0, 1).transform(SplitMvauThresholds())
    assert [n.op_type for n in model.graph.node] == ["MVAU"]


@pytest.mark.fast
def test_xnor_thresholds_survive_bit_width_minimization():
    """FINN sizes an XNOR MVAU's accumulator for sum(+-1 weight * 0/1 input) in [-#neg, #pos], not for the
    popcount 0..MW it computes, and clips the thresholds to that type: popcounts above #pos + 1 then change
    the output. minimize_bit_width (compile_steps.py) keeps them; FINN's own step does not (finn-plus 1.6.1)."""
    import finn.builder.build_dataflow_config as bc
    import finn.builder.build_dataflow_steps as finn_steps

    from flow.compiler.compile_steps import minimize_bit_width

    mw, mh = 12, 2
    W = np.zeros((mw, mh))
    W[:6] = 1  # six +1 and six -1 weights per channel: FINN's accumulator type INT4 holds -8..7
    T = np.tile(np.arange(1, mw + 2)[None, :], (mh, 1))  # thresholds 1..13 (the last never met)
    x = np.tile((np.arange(mw) < 6).astype(float), (1, 2, 3, 1))  # every input equal to its weight: popcount 12
    want = -128 + (12 >= T[0]).sum()  # 12 thresholds met
    cfg = bc.DataflowBuildConfig(output_dir="/tmp", synth_clk_period_ns=10.0, generate_outputs=[])
    ours = minimize_bit_width(mvau_graph(W, T, "BINARY", "BINARY", "INT8", -128, xnor=1))
    finn = finn_steps.step_minimize_bit_width(mvau_graph(W, T, "BINARY", "BINARY", "INT8", -128, xnor=1), cfg)
    assert np.all(run_generic(ours, x) == want)
    assert np.all(run_generic(finn, x) == want + 1)  # FINN clipped thresholds 9..13 to 8: all 13 met


def _divisor(draw, n: int) -> int:
    return draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))


@pytest.mark.fast
@settings(max_examples=40, deadline=None)
@given(st.data())
def test_split_threshold_is_as_narrow_as_its_mvau_allows(data):
    """The Thresholding keeps up with its MVAU (beats per frame <= the MVAU's cycles) with the fewest
    lanes dividing the MVAU's PE: a stem at PE 64 folded over SIMD must not make a 64-lane table."""
    mw, mh = data.draw(st.integers(1, 160)), data.draw(st.integers(1, 96))
    pe, simd = _divisor(data.draw, mh), _divisor(data.draw, mw)
    rng = np.random.default_rng(0)
    W, T = rng.integers(-8, 8, size=(mw, mh)), rng.integers(-500, 500, size=(mh, 15))
    split = mvau_graph(W, T, "UINT8", "INT8", "INT4", -8, pe=pe, simd=simd).transform(SplitMvauThresholds())
    thr = getCustomOp(split.graph.node[1]).get_nodeattr("PE")
    mvau_cycles, beats = (mw // simd) * (mh // pe), mh // thr  # per input vector
    assert pe % thr == 0 and beats <= mvau_cycles
    narrower = [d for d in range(1, thr) if pe % d == 0]
    assert all(mh // d > mvau_cycles for d in narrower)
