"""hw/rtl: shiftbnn_dma_top (+ axis_tlast_gen) ends every output transfer exactly where the
DMA's input transfer ended, around a stand-in shiftbnn_top (fake_shiftbnn_top.sv beside this test: 3 input
beats -> 2 output beats per image, a 4-image result queue). Batches of 1..5 images, a batch queue of
2 (so the TLAST hold is exercised), idle insertion and backpressure: none / fixed / seeded random."""

import itertools
import logging
import random
from pathlib import Path

import cocotb
import pytest

from hw.sources import DMA_WRAPPER_SOURCES, RTL_DIR

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


def pauses(mode, seed):
    if mode == "none":
        return None
    if mode == "fixed":
        return itertools.cycle([1, 1, 1, 0])
    rng = random.Random(seed)
    return (rng.random() < 0.5 for _ in itertools.count())


def expected_frame(beats, first_index):
    out = []
    for i in range(len(beats) // 3):
        img = beats[3 * i : 3 * i + 3]
        out += [sum((b & 0xFF) + (b >> 8) for b in img) % 256, (first_index + i) % 256]
    return out


@cocotb.test()
async def tlast_per_transfer(dut):
    from cocotb.clock import Clock
    from cocotb.triggers import ClockCycles, RisingEdge, with_timeout
    from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource

    cocotb.start_soon(Clock(dut.ap_clk, 10, unit="ns").start())
    kw = {"reset_active_level": False, "byte_lanes": 1}
    source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.ap_clk, dut.ap_rst_n, **kw)
    sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.ap_clk, dut.ap_rst_n, **kw)
    for bfm in (source, sink):
        bfm.log.setLevel(logging.WARNING)
    dut.ap_rst_n.value = 0
    await ClockCycles(dut.ap_clk, 3)
    dut.ap_rst_n.value = 1
    await RisingEdge(dut.ap_clk)

    rng = random.Random(1)
    index = 0
    for seed, mode in enumerate(("none", "fixed", "random")):
        source.set_pause_generator(pauses(mode, 2 * seed + 1))
        sink.set_pause_generator(pauses(mode, 2 * seed + 2))
        frames = []
        for batch in BATCHES:  # queue all transfers at once: several are in flight together
            beats = [rng.randrange(1 << 16) for _ in range(3 * batch)]
            frames.append(beats)
            await source.send(AxiStreamFrame(beats))
        for beats in frames:
            got = await with_timeout(sink.recv(), 20000, "ns")
            want = expected_frame(beats, index)
            assert list(got.tdata) == want, f"{mode}: frame of {len(beats) // 3} images: {got.tdata} != {want}"
            index += len(beats) // 3
        await ClockCycles(dut.ap_clk, 10)
        assert sink.empty(), f"{mode}: extra output beats"
