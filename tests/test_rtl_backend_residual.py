"""RTL backend on graphs that fork and join (Bi-Real residual blocks), built by hand from FINN HW ops.

``residual_graph`` (tests/residual_graphs.py) is a small Bi-Real stage in FINN's HW layers: INT8 input ->
DuplicateStreams -> [Thresholding (per-channel sign) -> FMPadding -> sliding window -> XNOR MVAU with thresholds] +
shortcut -> ElementwiseAdd -> staircase Thresholding (the int8 re-quantization), then a 2x2 max pool
on INT8 and a second block whose re-quantizer has another PE (so it stays a separate stream_requant
behind a DWC instead of being fused into the add); ``head_graph`` is a global sum pool -> sign Thresholding
-> XNOR MVAU -> LabelSelect. The RTL (``rtl_graph`` + ``generate_rtl`` + Verilator) must equal FINN's
own Python execution of the same graph (``execute_onnx``) bit-exactly, and the shortcut FIFO must be
sized so that the fork/join neither deadlocks nor slows the pipeline.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import flow.core.finn_env  # noqa: F401  (must precede finn imports)

# isort: split
from finn.transformation.fpgadataflow.specialize_layers import SpecializeLayers
from onnx import helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.general import GiveUniqueNodeNames
from residual_graphs import head_graph, residual_graph

from flow.core import ops as shiftbnn_ops
from flow.core.boards import get_board
from flow.core.hw_graph import ADD_OP, stream_shape
from flow.rtl_backend import fifo
from flow.rtl_backend.emit import fifo_depths, generate_rtl, set_fifo_depths
from flow.rtl_backend.fifo import deep_depths, size_fifos
from flow.rtl_backend.graph import RtlGraphError, rtl_graph, staircase
from flow.rtl_backend.sim import SimDeadlock, build_sim, run_sim
from flow.rtl_backend.split_thresholds import MAX_EMBEDDED
from flow.rtl_backend.synth_design import synthesize

PART = "xc7z020clg400-1"


def finn_reference(model: ModelWrapper, images: np.ndarray) -> np.ndarray:
    """FINN's Python execution of the generic graph, one image at a time; (images, outputs) ints."""
    name, out = model.graph.input[0].name, model.graph.output[0].name
    shape = model.get_tensor_shape(name)
    rows = [execute_onnx(model, {name: img.reshape(shape).astype(np.float32)})[out] for img in images]
    return np.stack(rows).reshape(len(images), -1).astype(np.int64)


def specialized(model: ModelWrapper) -> ModelWrapper:
    return shiftbnn_ops.specialize(model).transform(SpecializeLayers(PART)).transform(GiveUniqueNodeNames())


def signed(values: np.ndarray, bits: int) -> np.ndarray:
    """Unsigned stream elements -> two's complement values."""
    return np.where(values >= 2 ** (bits - 1), values - 2**bits, values)


def random_int8(n: int, model: ModelWrapper, seed: int) -> np.ndarray:
    size = int(np.prod(model.get_tensor_shape(model.graph.input[0].name)))
    return np.random.default_rng(seed).integers(-128, 128, size=(n, size))


def build(graph: ModelWrapper, work, inputs=None, fuse_requant=True, deep=False, mhz=100.0):
    """rtl_graph + (FIFO sizing on ``inputs``, or the deep design's depths) + generate_rtl + Verilator."""
    g = rtl_graph(graph, PART, fuse_requant=fuse_requant)
    sizing = size_fifos(g, work / "sizing", PART, mhz, [1, 1, 1, 1], inputs) if inputs is not None else None
    if deep:
        set_fifo_depths(g, deep_depths(g))
    top = generate_rtl(g, work / "rtl", PART, mhz, [1, 1, 1, 1])
    exe = build_sim(work / "rtl", work / "rtlsim", top)
    return g, top, exe, sizing


def rtl_outputs(top, result) -> np.ndarray:
    dt = DataType[top["out_datatype"]]
    return signed(result.outputs, dt.bitwidth()) if dt.signed() else result.outputs


def shortcut_fifos(g: ModelWrapper) -> list[str]:
    """The FIFO(s) between each DuplicateStreams' second output and its add (the shortcut)."""
    names = []
    for dup in g.get_nodes_by_op_type("DuplicateStreams_hls"):
        node = g.find_consumer(dup.output[1])
        while node.op_type.startswith("StreamingFIFO"):
            names.append(node.name)
            node = g.find_consumer(node.output[0])
        assert node.op_type == ADD_OP
    return names


@pytest.mark.fast
def test_staircase_detection_and_fusion():
    graph = specialized(residual_graph())
    thr = [n for n in graph.graph.node if n.op_type == "Thresholding_rtl"]
    stairs = [staircase(graph, n) for n in thr]
    # two per-channel signs (not staircases) and the two re-quantizers
    assert stairs.count(None) == 2 and [s for s in stairs if s] == [(0, -128, 127), (1, -100, 100)]
    g = rtl_graph(graph, PART)
    ops = [n.op_type for n in g.graph.node]
    adds = g.get_nodes_by_op_type(ADD_OP)
    attrs = [{a.name: helper.get_attribute_value(a) for a in n.attribute} for n in adds]
    # block 1: add + clamp fused (int8 out); block 2: full-range add (int9), DWC, stream_requant
    assert [(a["OutBits"], a["Offset"], a["OutMin"], a["OutMax"]) for a in attrs] == [
        (8, 0, -128, 127),
        (9, 0, -132, 130),
    ]
    # one Thresholding fused into the add; one more per MVAU whose multi-level activation
    # SplitMvauThresholds moves out (more than MAX_EMBEDDED thresholds per channel)
    split = [
        n for n in graph.get_nodes_by_op_type("MVAU_hls") if graph.get_initializer(n.input[2]).shape[1] > MAX_EMBEDDED
    ]
    assert len(split) == 1 and ops.count("Thresholding_rtl") == len(thr) - 1 + len(split)
    assert "ShiftbnnPool_rtl" in ops
    # InsertFIFO put a FIFO on both branches of every fork and in front of both inputs of every add
    for dup in g.get_nodes_by_op_type("DuplicateStreams_hls"):
        assert all(g.find_consumer(t).op_type.startswith("StreamingFIFO") for t in dup.output)
    for add in adds:
        assert all(g.find_producer(t).op_type.startswith("StreamingFIFO") for t in add.input)
    assert len(shortcut_fifos(g)) == 2
    unfused = rtl_graph(graph, PART, fuse_requant=False)
    assert [n.op_type for n in unfused.graph.node].count("Thresholding_rtl") == len(thr) + len(split)


@pytest.mark.fast
def test_unsupported_add_names_the_node():
    graph = specialized(residual_graph())
    add = graph.get_nodes_by_op_type("ElementwiseAdd_hls")[0]
    for attr in add.attribute:
        if attr.name == "out_dtype":
            attr.s = b"INT8"
    with pytest.raises(RtlGraphError, match=rf"node '{add.name}': the sum range \[-136, 134\] does not fit INT8"):
        rtl_graph(graph, PART)


@pytest.mark.fast
def test_converter_between_two_element_types_names_the_stream():
    """Block 2's add (PE 4) feeds its re-quantizer (PE 2) through a width converter; a consumer that
    reads the stream as another type (a stale input type) is one error naming both nodes and types,
    not FINN's InsertDWC assertion."""
    graph = specialized(residual_graph())
    add = graph.get_nodes_by_op_type("ElementwiseAdd_hls")[1]
    thr = graph.find_consumer(add.output[0])
    getCustomOp(thr).set_nodeattr("inputDataType", "INT10")
    expected = rf"node '{add.name}' writes INT9 elements but node '{thr.name}' reads them as INT10"
    with pytest.raises(RtlGraphError, match=expected):
        rtl_graph(graph, PART)


@pytest.mark.fast
def test_deep_design_shortcut_fifos_hold_a_frame_uncapped(monkeypatch):
    """Deep-design depths: a shortcut FIFO holds its whole frame (+2) even above DEEP_CAP (else the
    deep run of a large bireal_cnv would deadlock on the join); other inner FIFOs stay capped."""
    g = rtl_graph(specialized(residual_graph()), PART)
    shortcut = fifo.shortcut_fifos(g)
    assert shortcut == set(shortcut_fifos(g))
    monkeypatch.setattr(fifo, "DEEP_CAP", 4)
    depths = deep_depths(g)
    nodes = {n.name: n for n in g.graph.node}
    beats = {name: stream_shape(g, nodes[name], output=False)[0] for name in depths}
    assert sorted(depths[n] for n in shortcut) == sorted(beats[n] + 2 for n in shortcut) == [18, 130]
    assert all(d <= 4 for n, d in depths.items() if n not in shortcut)


@pytest.mark.fast
def test_fifo_shrink_search_is_a_binary_search_over_powers_of_two():
    tried = []

    def ok(depth):  # the design reaches its interval from depth 16 on
        tried.append(depth)
        return depth >= 16

    assert fifo._smallest_power_of_two(ok, 200) == 16 and len(tried) <= 3
    assert fifo._smallest_power_of_two(lambda d: False, 200) == 200  # nothing below the bound: keep it
    assert fifo._smallest_power_of_two(lambda d: True, 2) == 2


@pytest.mark.sim
@pytest.mark.parametrize("fuse, mhz", [(True, 100.0), (False, 200.0)])
def test_residual_blocks_rtl_equal_finn_execution(fuse, mhz, tmp_path):
    """Fork, join, staircase requant (fused and alone), per-channel sign (FINN's Thresholding_rtl),
    INT8 max pool: the RTL output tensor equals FINN's execution on random INT8 images. The fused
    design's FIFOs are sized by simulation (and reach the deep design's interval on the same images);
    the unfused one keeps the deep depths (FIFO sizing is tested once) and is built for 200 MHz, where
    every sliding window gets a skid buffer at its input (finn_rtl.window_input_skid)."""
    graph = residual_graph(seed=1)
    images = random_int8(12, graph, seed=2)
    expected = finn_reference(graph, images)
    sizing_images = images[:6] if fuse else None
    g, top, exe, sizing = build(specialized(graph), tmp_path, sizing_images, fuse_requant=fuse, deep=not fuse, mhz=mhz)
    run = run_sim(exe, tmp_path / "rtl", top, images, tmp_path / "run")
    assert np.array_equal(rtl_outputs(top, run), expected)
    sv = (tmp_path / "rtl" / "shiftbnn_top.sv").read_text()
    windows = len(re.findall(r"^  ConvolutionInputGenerator_rtl_\d+ u_", sv, re.M))
    assert windows >= 1 and sv.count("_in_skid (") == (windows if mhz > 1e3 / 6.0 else 0)
    assert sv.count("stream_dup #(") == 2 and sv.count("stream_add #(") == 2
    assert sv.count("stream_requant #(") == (1 if fuse else 2)
    if fuse:
        # the shortcut FIFOs keep the paced run's occupancy bound (no shrink trials, see fifo.py)
        assert sizing["shortcut_fifos"] and all(
            sizing["depths"][n] == sizing["bound"][n] for n in sizing["shortcut_fifos"]
        )
        same = run_sim(exe, tmp_path / "rtl", top, sizing_images, tmp_path / "same")  # the deep run's images
        assert same.stats["cycles_per_frame"] <= sizing["deep_cycles_per_frame"] * 1.01


@pytest.mark.sim
def test_head_global_pool_sign_threshold_labelselect(tmp_path):
    graph = head_graph(seed=3)
    images = random_int8(16, graph, seed=4)
    expected = finn_reference(graph, images)
    g, top, exe, _ = build(specialized(graph), tmp_path)
    run = run_sim(exe, tmp_path / "rtl", top, images, tmp_path / "run")
    assert np.array_equal(run.outputs, expected)
    sv = (tmp_path / "rtl" / "shiftbnn_top.sv").read_text()
    assert "bnn_pool #(" in sv and "bnn_labelselect #(" in sv
    # The per-channel sign is FINN's thresholding.sv with the dead reversed part-select rewritten
    # (emitters/finn_rtl.py _patch_thresholding): the run above simulated that file, and yosys-slang accepts it.
    assert "(p.ptr[M-1:0] >> (SN+1))" in (tmp_path / "rtl" / "thresholding.sv").read_text()
    synth = synthesize(tmp_path / "rtl", get_board("Pynq-Z2"), tmp_path / "synth")
    assert synth["lut"] > 0 and synth["fits"]
    assert synth["depth"]["critical_path_ns"] > 0 and synth["depth"]["critical_path_lut_levels"] >= 1  # console row


@pytest.mark.slow
def test_shortcut_fifo_deadlock_and_sized_long_stall_run(tmp_path):
    """Shortcut FIFOs at depth 2: the harness reports the stall (no hang). Sized depths: 240 images
    with 30 % random input stalls and 40 % output backpressure, bit-exact against FINN."""
    graph = residual_graph(seed=5)
    images = random_int8(240, graph, seed=6)
    expected = finn_reference(graph, images)
    g, top, exe, sizing = build(specialized(graph), tmp_path / "sized", inputs=images[:8])
    shortcut = shortcut_fifos(g)
    depths = fifo_depths(g)
    run = run_sim(exe, tmp_path / "sized" / "rtl", top, images, tmp_path / "run", 0.7, 0.6, seed=11)
    assert np.array_equal(rtl_outputs(top, run), expected)
    assert run.stats["cycles"] > 100_000

    set_fifo_depths(g, {name: 2 for name in shortcut})
    shallow = generate_rtl(g, tmp_path / "shallow" / "rtl", PART, 100.0, [1, 1, 1, 1])
    exe2 = build_sim(tmp_path / "shallow" / "rtl", tmp_path / "shallow" / "rtlsim", shallow)
    with pytest.raises(SimDeadlock, match=r"deadlock: the design stalled, no stream beat for 20000 cycles"):
        run_sim(exe2, tmp_path / "shallow" / "rtl", shallow, images[:4], tmp_path / "dl", timeout_cycles=20_000)
    assert all(depths[name] > 2 for name in shortcut)


@pytest.mark.sim
def test_runtime_weights_load_through_the_top_then_infer(tmp_path):
    """An MVAU with FINN's runtime_writeable_weights in URAM (no bitstream contents): the top exposes
    s_axis_wgt, the harness streams top.json's runtime weights first (as the driver does), then the
    images run bit-exactly; other words streamed in give other outputs, so the load is what counts."""
    from hw.golden.mem_files import read_mem_words

    graph = head_graph(seed=5)
    images = random_int8(8, graph, seed=6)
    expected = finn_reference(graph, images)
    spec = specialized(graph)
    (mvau,) = [n for n in spec.graph.node if n.op_type.startswith("MVAU")]
    getCustomOp(mvau).set_nodeattr("ram_style", "ultra")
    getCustomOp(mvau).set_nodeattr("runtime_writeable_weights", 1)
    g, top, exe, _ = build(spec, tmp_path)
    (entry,) = top["runtime_weights"]
    assert entry["beats"] == entry["words"] * -(-entry["width"] // 32)
    sv = (tmp_path / "rtl" / "shiftbnn_top.sv").read_text()
    assert "input  logic [31:0]       s_axis_wgt_tdata" in sv and ".RuntimeWeights(1)" in sv.replace(" ", "")
    run = run_sim(exe, tmp_path / "rtl", top, images, tmp_path / "run")
    assert np.array_equal(run.outputs, expected)
    wfile = tmp_path / "rtl" / entry["file"]
    digits = len(wfile.read_text().split()[0])
    mask = (1 << entry["width"]) - 1
    wfile.write_text("".join(f"{~w & mask:0{digits}x}\n" for w in read_mem_words(wfile)))  # every weight negated
    other = run_sim(exe, tmp_path / "rtl", top, images, tmp_path / "other")
    assert not np.array_equal(other.outputs, expected)
