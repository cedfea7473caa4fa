"""Board table and folding-JSON validation (pure Python, no FINN build)."""

import pytest
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper

from flow.analysis.folding_rules import FoldingError
from flow.compiler.folding_config import validate_folding
from flow.core.boards import BOARDS, BoardError, get_board

pytestmark = pytest.mark.fast


def test_board_table_has_the_issue_boards_and_pynq_parts():
    assert {"Pynq-Z2", "Pynq-Z1", "Ultra96", "ZCU104", "KV260"} <= set(BOARDS)
    assert get_board("Pynq-Z2").part == "xc7z020clg400-1" and get_board("Pynq-Z2").clock_mhz == 100.0
    with pytest.raises(BoardError, match="valid boards: Pynq-Z2"):
        get_board("Arty")


def test_default_clocks_and_the_clock_option():
    # Zynq-7000 boards at PYNQ's/finn-examples' 100 MHz, the UltraScale+ boards faster
    assert {b.name: b.clock_mhz for b in BOARDS.values()} == {
        "Pynq-Z2": 100.0, "Pynq-Z1": 100.0, "Ultra96": 200.0, "ZCU104": 200.0, "KV260": 200.0
    }  # fmt: skip
    assert all(b.clock_mhz <= b.max_clock_mhz for b in BOARDS.values())
    fast = get_board("Ultra96", clock_mhz=300)
    assert fast.clock_mhz == 300.0 and fast.part == BOARDS["Ultra96"].part and BOARDS["Ultra96"].clock_mhz == 200.0
    with pytest.raises(BoardError, match=r"between 1 and 250 MHz on the Pynq-Z2"):
        get_board("Pynq-Z2", clock_mhz=300)
    # URAM only on the UltraScale+ parts that have it; the DMA port is 64 bits on the Zynq-7000
    assert [b.uram288 for b in BOARDS.values()] == [0, 0, 0, 96, 64]
    assert BOARDS["Pynq-Z2"].dma_bits == 64 and BOARDS["ZCU104"].dma_bits == 128


def mvau_graph(mw=64, mh=32):
    node = helper.make_node(
        "MVAU_hls",
        ["x", "w"],
        ["y"],
        name="MVAU_hls_0",
        domain="finn.custom_op.fpgadataflow.hls",
        MW=mw,
        MH=mh,
        PE=1,
        SIMD=1,
        inputDataType="BINARY",
        weightDataType="BINARY",
        outputDataType="BINARY",
        binaryXnorMode=1,
        noActivation=0,
        numInputVectors=[1],
    )
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, mw])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, mh])],
    )
    return ModelWrapper(helper.make_model(graph))


def test_valid_folding_passes():
    validate_folding(mvau_graph(), {"Defaults": {}, "MVAU_hls_0": {"PE": 8, "SIMD": 16, "ram_style": "block"}})


@pytest.mark.parametrize(
    "config, message",
    [
        ({"MVAU_hls_7": {"PE": 2}}, "'MVAU_hls_7' matches no layer"),
        ({"MVAU_hls_0": {"PE": 3}}, "PE=3 does not divide MH=32"),
        ({"MVAU_hls_0": {"SIMD": 48}}, "SIMD=48 does not divide MW=64"),
        ({"MVAU_hls_0": {"PE": 0}}, "PE must be a positive integer"),
        ([1, 2], "must be an object"),
    ],
)
def test_bad_folding_is_rejected_with_the_reason(config, message):
    with pytest.raises(FoldingError, match=message):
        validate_folding(mvau_graph(), config)


def test_rtl_backend_reads_the_sliding_windows_parallel_window():
    """finn-rtllib's sliding window (which our RTL reuses) emits a whole window per cycle with
    parallel_window = 1: the RTL backend takes it (0 or 1) and still refuses what it does not read."""
    from flow.backends.rtl import RtlBackend
    from flow.compiler.folding_config import check_backend_reads

    allowed = RtlBackend().folding_attributes(get_board("Pynq-Z2"))
    check_backend_reads("ConvolutionInputGenerator_rtl_0", {"SIMD": 3, "parallel_window": 1}, allowed, "rtl")
    with pytest.raises(FoldingError, match="parallel_window 2 is not available"):
        check_backend_reads("ConvolutionInputGenerator_rtl_0", {"parallel_window": 2}, allowed, "rtl")
    with pytest.raises(FoldingError, match="does not read 'inFIFODepths'"):
        check_backend_reads("MVAU_hls_0", {"inFIFODepths": [2]}, allowed, "rtl")
