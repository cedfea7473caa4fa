"""The RTL backend: our SystemVerilog for the folded graph (flow/rtl_backend), folded by the search on
its own cycle and resource model (flow/analysis/folding_search.py), simulated in Verilator,
synthesized by yosys, and wrapped in a Zynq block design for Vivado where it is installed (flow/vivado)."""

from __future__ import annotations

import math

from flow.analysis.folding_search import search_max, search_target
from flow.core.config import BuildConfig, BuildState, finn_quietly
from flow.core.errors import BuildError
from flow.rtl_backend import design as rtl_design
from flow.rtl_backend.graph import RtlGraphError, rtl_graph
from flow.rtl_backend.sim import SimError
from flow.rtl_backend.synth import SynthError, synthesize


class RtlBackend:
    name = "rtl"
    summary = "our RTL (+ Vivado block design where installed)"

    def check(self, cfg: BuildConfig) -> None:
        """Runs everywhere: Verilator and yosys are in the venv; Vivado only where a bitstream is required."""
        from flow.vivado.build_bitstream import find_vivado

        if cfg.require_bitstream and find_vivado() is None:
            raise BuildError(
                "--require-bitstream: Vivado not found (set XILINX_VIVADO to its install folder); "
                "stopped before any work, without it the build would end without a bitstream"
            )

    def folding_attributes(self, board) -> dict[str, tuple | None]:
        """PE and SIMD, the weight memory's ram_style (URAM only where the part has it: UltraScale+) and the
        sliding window's parallel_window (finn-rtllib's generator, which the RTL reuses, emits a whole
        window per cycle). FIFO depths (sized by simulation), resType, mem_mode and the rest are not read."""
        styles = ("auto", "block", "distributed", *(("ultra",) if board.family == "xcup" else ()))
        return {"PE": None, "SIMD": None, "ram_style": styles, "parallel_window": (0, 1)}

    def fold(self, state: BuildState, cfg: BuildConfig) -> None:
        """The folding search on our RTL's cycle and resource model for ``cfg.target_fps`` (inf or None:
        the fastest folding that fits the board)."""
        fps = cfg.target_fps
        if fps is None or math.isinf(fps):
            state.search = search_max(state.model, cfg.board, rtl_graph)
        else:
            state.search = search_target(state.model, cfg.board, fps, rtl_graph)

    def generate(self, state: BuildState, cfg: BuildConfig) -> None:
        """rtl/: our RTL for the folded graph, FIFOs sized by simulation unless --skip-rtlsim."""
        with finn_quietly(cfg.report_dir / "finn.log"):
            state.inputs = rtl_design.accelerator_inputs(state.parent, state.images)
            try:
                state.design = rtl_design.generate(
                    state.model, state.parent, cfg.workdir, cfg.board, state.inputs if cfg.rtlsim else None
                )
            except (RtlGraphError, SimError) as exc:
                raise BuildError(f"RTL generation failed: {exc}") from None

    def simulate(self, state: BuildState, cfg: BuildConfig) -> None:
        """Verilator simulation of rtl/ on every verification image: labels must equal the reference."""
        try:
            state.rtlsim, failure = rtl_design.simulate(
                state.design,
                state.inputs,
                state.verification.reference_labels,
                layers=cfg.model_dir / "folded_generic.onnx",
                acceptable=state.verification.acceptable,
            )
        except SimError as exc:
            raise BuildError(str(exc), keep=True) from None
        if failure is not None:  # keep the folder: the reproduce command and layer dumps live there
            raise BuildError(failure, keep=True)

    def synthesize(self, state: BuildState, cfg: BuildConfig) -> None:
        """yosys synth_xilinx of rtl/: LUT/FF/BRAM/DSP against the board."""
        try:
            state.synth = synthesize(state.design.rtl_dir, cfg.board, cfg.report_dir / "synth")
        except SynthError as exc:  # keep the folder: the message points at the yosys log inside it
            raise BuildError(f"synthesis failed: {exc}", keep=True) from None

    def bitstream(self, state: BuildState, cfg: BuildConfig) -> None:
        """vivado/build.tcl (the block design and the Vivado run; always, it takes milliseconds), then
        deploy/shiftbnn.bit + .hwh and Vivado's reports in report/ where Vivado is installed."""
        from flow.vivado.build_bitstream import VivadoError, run_vivado, write_tcl

        try:
            tcl = write_tcl(cfg.workdir, cfg.board)
            result = {"tcl": str(tcl.relative_to(cfg.workdir)), **run_vivado(cfg.workdir, cfg.board)}
        except VivadoError as exc:
            raise BuildError(f"bitstream: {exc}") from None
        if result["status"] == "failed":
            raise BuildError(f"bitstream: {result['reason']} (log: {result['log']})", keep=True)
        if result["status"] == "skipped":
            state.record["status"] = "skipped"
        state.bitstream = result
