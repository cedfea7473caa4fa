"""The folding search (flow/analysis/folding_search.py) and the fit check (fit.py) on the zoo's CNV-W1A1 and
MLP graphs as the folding step receives them (tests/zoo_skeletons.py): its knobs (PE/SIMD, the sliding
window's SIMD and parallel_window, each MVAU's weight memory), the targets it reaches, the default's cap
and the one-line error of a design over the board."""

from __future__ import annotations

import copy
import math
import re

import pytest
from zoo_skeletons import load

import flow.core.finn_env  # noqa: F401  (boots FINN without Vivado)
from flow.analysis.cost import budget, weight_memory
from flow.analysis.folding_rules import folding_of
from flow.analysis.folding_search import input_fps_cap, resource_bound_fps, search_max, search_target
from flow.analysis.folding_steps import raise_parallelism, window_options
from flow.analysis.memories import bram36_count
from flow.backends.rtl import RtlBackend
from flow.builder.compile import compile_config
from flow.core.boards import BOARDS, get_board
from flow.core.config import BuildState
from flow.core.errors import BuildError
from flow.rtl_backend.graph import search_graph

pytestmark = pytest.mark.fast
Z2 = BOARDS["Pynq-Z2"]


@pytest.fixture(scope="module")
def cnv_graph():
    return load("xnor_cnv")  # ours: 32x32x3, width 1, the CNV-W1A1 topology


def test_cnv_at_20000_uses_parallel_windows_and_fits(cnv_graph):
    model = copy.deepcopy(cnv_graph)
    result = search_target(model, Z2, 20_000, search_graph)
    assert result.reached and result.fps >= 20_000 and result.cost["fits"]
    folding = folding_of(model)
    # one channel group per cycle, the first two windows alone would need 8,100 and 7,056 cycles (> 5,000)
    assert folding["ConvolutionInputGenerator_rtl_0"].get("parallel_window") == 1
    assert folding["ConvolutionInputGenerator_rtl_1"].get("parallel_window") == 1
    styles = {f["ram_style"] for n, f in folding.items() if n.startswith("MVAU")}
    assert styles == {"block", "distributed"}  # the BRAM goes to the memories that save the most LUTs
    assert result.cost["bram36"] <= budget(Z2)["bram36"]


def test_cnv_max_is_the_fastest_that_fits(cnv_graph):
    model = copy.deepcopy(cnv_graph)
    best = search_max(model, Z2, search_graph)
    assert best.cost["fits"] and best.fps >= 20_000 and best.target_fps is None
    assert best.fps <= resource_bound_fps(copy.deepcopy(cnv_graph), Z2)
    faster = search_target(copy.deepcopy(cnv_graph), Z2, best.fps * 1.1, search_graph)
    assert not faster.cost["fits"] or faster.fps <= best.fps * 1.1  # nothing fits clearly faster


def test_a_target_over_the_board_is_an_error_with_the_numbers(cnv_graph, tmp_path):
    state = BuildState(model=copy.deepcopy(cnv_graph))
    cfg = compile_config(Z2, tmp_path, target_fps=200_000)
    backend = RtlBackend()
    backend.fold(state, cfg)
    with pytest.raises(BuildError) as err:
        backend.check_fit(state, cfg)
    message = str(err.value)
    assert "\n" not in message and "--target-fps 200000 does not fit the Pynq-Z2" in message
    assert re.search(r"LUT [\d,]+ x 1\.\d\d margin = [\d,.]+ > 47,880 \(90% of the part's 53,200\)", message)
    largest = re.search(r"the largest target that fits is --target-fps ([\d,]+)", message)
    assert largest and 20_000 <= int(largest.group(1).replace(",", "")) < 200_000
    assert message.endswith("(--allow-oversize builds it anyway)")
    # --allow-oversize: the same line as a warning, kept for the summary
    allowed = compile_config(Z2, tmp_path, target_fps=200_000, allow_oversize=True)
    backend.check_fit(state, allowed)
    assert state.oversize and state.oversize in message


def test_a_folding_json_over_the_board_is_an_error_too(cnv_graph, tmp_path):
    model = copy.deepcopy(cnv_graph)
    for node in model.graph.node:
        while raise_parallelism(model, node, "in"):
            pass  # every node fully parallel
    state = BuildState(model=model)
    cfg = compile_config(Z2, tmp_path, folding=tmp_path / "f.json")
    with pytest.raises(BuildError, match=r"the folding of .*f\.json does not fit the Pynq-Z2 .* largest target"):
        RtlBackend().check_fit(state, cfg)


def test_default_is_the_fastest_that_fits_up_to_the_dma_rate(tmp_path):
    state = BuildState(model=load("xnor_mlp"))
    RtlBackend().fold(state, compile_config(Z2, tmp_path))
    cap = input_fps_cap(state.model, Z2)
    assert cap == pytest.approx(100e6 / math.ceil(784 * 8 / 64))  # 784 UINT8 pixels over a 64-bit port
    assert state.search.cost["fits"] and state.search.fps <= cap and state.search.fps_cap == cap
    # the clock scales the cap and the search
    fast = BuildState(model=load("xnor_mlp"))
    RtlBackend().fold(fast, compile_config(get_board("Pynq-Z2", clock_mhz=200), tmp_path))
    assert fast.search.fps_cap == pytest.approx(2 * cap)


def test_window_settings_end_with_the_parallel_window(cnv_graph):
    from qonnx.custom_op.registry import getCustomOp

    first = getCustomOp(cnv_graph.get_node_from_name("ConvolutionInputGenerator_rtl_0"))
    assert window_options(first) == [(1, 0), (3, 0), (3, 1)]  # 3 channels, 3x3 kernel


@pytest.mark.parametrize("out, parallel", [([1, 1], False), ([2, 1], False), ([1, 2], False), ([3, 1], True)])
def test_no_parallel_window_where_finn_cannot_size_its_counters(cnv_graph, out, parallel):
    """FINN's parallel generator takes log2 of (windows - 2) loop counts: a map of one or two windows has
    no parallel option (FINN's generate_hdl raises a math domain error on it)."""
    from qonnx.custom_op.registry import getCustomOp

    model = copy.deepcopy(cnv_graph)
    inst = getCustomOp(model.get_node_from_name("ConvolutionInputGenerator_rtl_0"))
    inst.set_nodeattr("OFMDim", out)
    assert ((3, 1) in window_options(inst)) == parallel


@pytest.mark.parametrize(
    "style, depth, width, xnor, expected",
    [
        ("distributed", 8, 512, True, (0.0, 0.0, 0.0)),  # in the XNOR LUTs (rom_features: the MVAU's logic)
        ("distributed", 32, 512, True, (0.0, 0.0, 0.0)),
        ("distributed", 64, 512, False, (512.0, 0.0, 0.0)),  # a LUT ROM, 64 x 1 per LUT
        ("distributed", 256, 100, True, (400.0, 0.0, 0.0)),
        ("block", 256, 100, True, (0.0, bram36_count(256, 100), 0.0)),
        ("auto", 256, 100, True, (0.0, bram36_count(256, 100), 0.0)),  # deep: block RAM
        ("ultra", 8192, 72, True, (0.0, 0.0, 2.0)),  # 4096 x 72 per URAM288
    ],
)
def test_weight_memory_costs(style, depth, width, xnor, expected):
    assert weight_memory(style, depth, width, xnor) == pytest.approx(expected)


@pytest.mark.parametrize("name, fps", [("xnor_cnv", 20_000), ("bireal_cnv", 5_000), ("xnor_mlp", 100_000)])
def test_the_search_lowering_costs_what_the_backend_emits(name, fps):
    """search_graph leaves the FIFOs out; the resource model adds a shallow one per stream: the same
    cost and cycles as rtl_graph, which puts them in (one FIFO per edge, the graph's ends included)."""
    from flow.analysis.cost import design_cost
    from flow.analysis.cycles import network_cycles
    from flow.rtl_backend.graph import rtl_graph

    model = load(name)
    search_target(model, Z2, fps, search_graph)
    full, lean = rtl_graph(model, Z2.part), search_graph(model, Z2.part)
    assert design_cost(full, Z2) == design_cost(lean, Z2)
    assert network_cycles(full).cycles == network_cycles(lean).cycles


@pytest.mark.parametrize("name, board", [("xnor_cnv", "Pynq-Z2"), ("bireal_cnv", "Pynq-Z2")])
def test_a_target_the_default_reaches_costs_no_more_than_the_default(name, board):
    """``--target-fps T`` for a rate the default folding reaches finds that folding or a cheaper one (the
    greedy start gives a block no more lanes than the target needs: a join's PE, a re-quantizer's
    width, docs/resnet_hw.md). Checked at the default's rate and one bisection step below it."""
    graph, b = load(name), BOARDS[board]
    default = search_max(copy.deepcopy(graph), b, search_graph, fps_cap=input_fps_cap(graph, b))
    for target in (default.fps, default.fps / 1.03):
        result = search_target(copy.deepcopy(graph), b, target, search_graph)
        assert result.reached and result.cost["lut"] <= default.cost["lut"], (target, result.cost, default.cost)
