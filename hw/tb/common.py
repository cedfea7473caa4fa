"""Shared cocotb/pytest helpers for the hw unit tests.

- `TB`: clock, synchronous active-low reset, cocotbext-axi source/sink on s_axis/m_axis, stall modes.
- `run_sim`: build a Verilator model once per parameter set (cocotb_tools.runner) and run the cocotb
  tests of the calling module in it.
"""

import itertools
import json
import logging
import os
import random
from pathlib import Path

from hw.sources import COMMON_SOURCES, RTL_DIR

STALL_MODES = ("none", "fixed", "random")


def param_id(params: dict) -> str:
    """Short, filesystem-safe id of a parameter set (for build dirs and pytest ids)."""
    return "-".join(f"{k}{v}" for k, v in params.items() if not isinstance(v, str))


def run_sim(
    module: str,
    test_file: str,
    params: dict,
    cfg: dict | None = None,
    sources=(),
    extra_sources=(),
    toplevel: str | None = None,
):
    """Build `module` with `params` into hw/tb/<module>/sim_build/<id> and run the cocotb tests of
    `test_file` (its module name) there. `cfg` is handed to the cocotb side as JSON (SHIFTBNN_CFG).

    The build reads COMMON_SOURCES, `sources` (names in hw/rtl), `<module>.sv` unless `toplevel`
    names another top, then `extra_sources` (paths, e.g. a test harness). `toplevel` defaults to
    `module`."""
    from cocotb_tools.runner import get_runner

    here = Path(test_file).resolve().parent
    build_dir = here / "sim_build" / param_id(params)
    build_dir.mkdir(parents=True, exist_ok=True)
    hdl_params = {k: (f'"{v}"' if isinstance(v, str) else int(v)) for k, v in params.items()}
    toplevel = toplevel or module
    own = () if toplevel != module else (f"{module}.sv",)
    rtl = dict.fromkeys((*COMMON_SOURCES, *sources, *own))  # ordered, each file once
    runner = get_runner("verilator")
    runner.build(
        sources=[RTL_DIR / s for s in rtl] + [Path(s) for s in extra_sources],
        hdl_toplevel=toplevel,
        parameters=hdl_params,
        build_dir=build_dir,
        build_args=["-Wall", "-O3", "--x-assign", "unique", "--x-initial", "unique", "-CFLAGS", "-O0"],
        timescale=("1ns", "1ps"),
        log_file=build_dir / "build.log",
    )
    env = {"SHIFTBNN_CFG": json.dumps(cfg or {})}
    try:
        runner.test(
            hdl_toplevel=toplevel,
            test_module=Path(test_file).stem,
            build_dir=build_dir,
            test_dir=build_dir,
            extra_env=env,
            seed=1234,
            plusargs=["+verilator+rand+reset+2", "+verilator+seed+7"],  # random power-up state
            log_file=build_dir / "sim.log",
        )
    except SystemExit:  # the runner exits on a failed cocotb test: show why, not just "SystemExit"
        import pytest

        log = (build_dir / "sim.log").read_text(errors="replace").splitlines()
        hits = [i for i, line in enumerate(log) if "Error" in line or "FAIL" in line]
        tail = log[hits[0] : hits[0] + 25] if hits else log[-25:]
        pytest.fail(f"cocotb test failed ({build_dir / 'sim.log'}):\n" + "\n".join(tail), pytrace=False)


def sim_cfg() -> dict:
    """The JSON config run_sim handed to this simulation."""
    return json.loads(os.environ.get("SHIFTBNN_CFG", "{}"))


def pause_generator(mode: str, seed: int):
    """Idle/backpressure pattern (True = pause): none, fixed cycle([1,1,1,0]) or seeded random."""
    if mode == "none":
        return None
    if mode == "fixed":
        return itertools.cycle([1, 1, 1, 0])
    if mode == "random":
        rng = random.Random(seed)
        return (rng.random() < 0.4 for _ in itertools.count())
    raise ValueError(mode)


class TB:
    """Clock, reset, AXI-stream source on s_axis_* and sink on m_axis_*."""

    def __init__(self, dut, period_ns: int = 10):
        import cocotb
        from cocotb.clock import Clock
        from cocotbext.axi import AxiStreamBus, AxiStreamSink, AxiStreamSource

        self.dut = dut
        cocotb.start_soon(Clock(dut.clk_i, period_ns, unit="ns").start())
        self.source = AxiStreamSource(
            AxiStreamBus.from_prefix(dut, "s_axis"),
            dut.clk_i,
            dut.rst_ni,
            reset_active_level=False,
            byte_lanes=1,
        )
        self.sink = AxiStreamSink(
            AxiStreamBus.from_prefix(dut, "m_axis"),
            dut.clk_i,
            dut.rst_ni,
            reset_active_level=False,
            byte_lanes=1,
        )
        for bfm in (self.source, self.sink):
            bfm.log.setLevel(logging.WARNING)
        self.protocol_errors: list[str] = []
        cocotb.start_soon(self._output_protocol_monitor())

    async def _output_protocol_monitor(self):
        """AXI-stream rule on m_axis: once tvalid is high it stays high, with tdata unchanged, until
        tready; and tvalid/tready are never X/Z out of reset."""
        from cocotb.triggers import RisingEdge

        dut, held = self.dut, None
        while True:
            await RisingEdge(dut.clk_i)
            if not dut.rst_ni.value.is_resolvable or not int(dut.rst_ni.value):
                held = None
                continue
            valid, ready = dut.m_axis_tvalid.value, dut.m_axis_tready.value
            if not (valid.is_resolvable and dut.s_axis_tready.value.is_resolvable):
                self.protocol_errors.append("X/Z on m_axis_tvalid or s_axis_tready")
                continue
            if held is not None and (not int(valid) or int(dut.m_axis_tdata.value) != held):
                self.protocol_errors.append("m_axis_tvalid dropped or tdata changed before tready")
            held = int(dut.m_axis_tdata.value) if int(valid) and not int(ready) else None

    async def cycles(self, n: int):
        from cocotb.triggers import ClockCycles

        await ClockCycles(self.dut.clk_i, n)

    async def reset(self, cycles: int = 3):
        """Synchronous active-low reset; drops whatever the BFMs still hold."""
        from cocotb.triggers import RisingEdge

        await RisingEdge(self.dut.clk_i)
        self.dut.rst_ni.value = 0
        await self.cycles(cycles)
        self.source.clear()
        self.sink.clear()
        self.sink.read_queue.clear()
        self.dut.rst_ni.value = 1
        await RisingEdge(self.dut.clk_i)

    def set_stalls(self, mode: str, seed: int = 0):
        """Apply the same stall mode to both sides (independent random streams)."""
        self.source.set_pause_generator(pause_generator(mode, 2 * seed + 1))
        self.sink.set_pause_generator(pause_generator(mode, 2 * seed + 2))

    async def transfer(self, beats_in: list[int], n_out: int, max_cycles: int) -> list[int]:
        """Send beats_in, return exactly n_out output beats; fail on timeout or extra beats."""
        from cocotb.triggers import ClockCycles, with_timeout
        from cocotbext.axi import AxiStreamFrame

        await self.source.send(AxiStreamFrame(list(beats_in)))
        got: list[int] = []

        async def collect():
            while len(got) < n_out:
                got.extend(await self.sink.read())

        await with_timeout(collect(), max_cycles * 10, "ns")
        await self.source.wait()
        await ClockCycles(self.dut.clk_i, 8)
        got.extend(self.sink.read_nowait())
        assert len(got) == n_out, f"expected {n_out} output beats, got {len(got)} (duplicates?)"
        assert not self.protocol_errors, self.protocol_errors[:5]
        return got
