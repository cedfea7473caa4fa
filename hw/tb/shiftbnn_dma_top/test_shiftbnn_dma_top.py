"""hw/rtl: shiftbnn_dma_top (+ axis_tlast_gen) ends every output transfer exactly where the
DMA's input transfer ended, around a stand-in shiftbnn_top (fake_shiftbnn_top.sv beside this test: 3 input
beats -> 2 output beats per image, a 4-image result queue). Batches of 1..5 images, a batch queue of
2 (so the TLAST hold is exercised), every idle insertion x backpressure pair of none / fixed / seeded
random, the AXI-stream rule (tdata and tlast held until tready) on the output."""

import random
from pathlib import Path

import cocotb
import pytest
from cocotbext.axi import AxiStreamFrame

from hw.sources import DMA_WRAPPER_SOURCES, RTL_DIR
from hw.tb.common import TB

HERE = Path(__file__).resolve().parent
PARAMS = {"IN_WIDTH": 16, "OUT_WIDTH": 8, "IN_BEATS": 3, "OUT_BEATS": 2, "DEPTH": 2}
BATCHES = [1, 5, 2, 1, 1, 1, 1, 3, 4, 1]


@pytest.mark.sim
def test_dma_wrapper_tlast(tmp_path):
    from cocotb_tools.runner import get_runner

    runner = get_runner("verilator")
    runner.build(
        sources=[HERE / "fake_shiftbnn_top.sv", *(RTL_DIR / f for f in DMA_WRAPPER_SOURCES)],
        hdl_toplevel="shiftbnn_dma_top",
        parameters=PARAMS,
        build_dir=tmp_path,
        build_args=["-Wall", "--x-assign", "unique", "--x-initial", "unique"],
        timescale=("1ns", "1ps"),
        log_file=tmp_path / "build.log",
    )
    runner.test(
        hdl_toplevel="shiftbnn_dma_top",
        test_module=Path(__file__).stem,
        build_dir=tmp_path,
        test_dir=tmp_path,
        extra_env={"PYTHONPATH": str(HERE)},
        seed=7,
        log_file=tmp_path / "sim.log",
    )


def expected_frame(beats, first_index):
    out = []
    for i in range(len(beats) // 3):
        img = beats[3 * i : 3 * i + 3]
        out += [sum((b & 0xFF) + (b >> 8) for b in img) % 256, (first_index + i) % 256]
    return out


@cocotb.test()
async def tlast_per_transfer(dut):
    from cocotb.triggers import with_timeout

    tb = TB(dut, clk="ap_clk", rst="ap_rst_n")
    await tb.reset()
    rng = random.Random(1)
    index = 0
    for pair in tb.stall_pairs():
        frames = []
        for batch in BATCHES:  # queue all transfers at once: several are in flight together
            beats = [rng.randrange(1 << 16) for _ in range(3 * batch)]
            frames.append(beats)
            await tb.source.send(AxiStreamFrame(beats))
        for beats in frames:
            got = await with_timeout(tb.sink.recv(), 20000, "ns")
            want = expected_frame(beats, index)
            assert list(got.tdata) == want, f"{pair}: frame of {len(beats) // 3} images: {got.tdata} != {want}"
            index += len(beats) // 3
        await tb.cycles(10)
        assert tb.sink.empty(), f"{pair}: extra output beats"
        assert not tb.protocol_errors, tb.protocol_errors[:5]
