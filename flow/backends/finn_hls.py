"""FINN's own HLS backend: FINN's SetFolding (with a wider weight stream where FINN's default misses the
target, finn_hls_folding.py) and FINN's build_dataflow for the bitstream (needs Vivado and Vitis HLS,
flow/vivado/finn_hls.py). Our RTL of the same folded graph is still generated and simulated: it is the
bit-exact model of the folded graph that runs without the vendor tools."""

from __future__ import annotations

import math
import sys

from flow.analysis.fit import require_fit
from flow.analysis.folding_rules import equalize_join_folding
from flow.analysis.folding_search import input_fps_cap
from flow.backends.finn_hls_folding import finn_cost, fold_fastest_fitting, fold_for_target
from flow.backends.rtl import RtlBackend
from flow.compiler.compile_steps import finn_config
from flow.core.config import BuildConfig, BuildState
from flow.core.errors import BuildError


class FinnHlsBackend(RtlBackend):
    name = "finn-hls"
    summary = "FINN's build_dataflow with its HLS layers (needs Vivado)"

    def check(self, cfg: BuildConfig) -> None:
        from flow.vivado.finn_hls import FinnHlsError, require_vivado

        if cfg.runtime_weights:
            raise BuildError("--runtime-weights: this backend's deploy package loads no weights; use --backend rtl")
        try:
            require_vivado()  # fail before any step, with FINN's message
        except FinnHlsError as exc:
            raise BuildError(str(exc)) from None

    def folding_attributes(self, board) -> None:
        """FINN's build reads every attribute of its nodes."""
        return None

    def fold(self, state: BuildState, cfg: BuildConfig) -> None:
        """FINN's SetFolding (residual adds: both operands at the add's PE, ``equalize_join_folding``);
        without a finite target, the fastest target whose FINN estimate fits the board (capped, for the
        default, by the DMA port's input rate as the RTL backend)."""
        fps = cfg.target_fps
        if fps is not None and math.isfinite(fps):
            folded = fold_for_target(state.model, finn_config(cfg))
        else:
            cap = input_fps_cap(state.model, cfg.board) if fps is None else cfg.board.clock_mhz * 1e6
            folded = fold_fastest_fitting(state.model, finn_config(cfg), cfg.board, cap)
        state.model = equalize_join_folding(folded)

    def check_fit(self, state: BuildState, cfg: BuildConfig) -> None:
        """FINN's own estimate of the folded graph against the board (flow/analysis/fit.py)."""
        warning = require_fit(finn_cost(state.model, cfg.board), cfg.board, None, cfg.allow_oversize, "FINN's design")
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
            state.oversize = warning

    def parameter_graph(self, model, part: str):
        """FINN's HLS layers keep every threshold table."""
        return model

    def bitstream(self, state: BuildState, cfg: BuildConfig) -> None:
        from flow.vivado.finn_hls import FinnHlsError, run_finn_hls

        try:
            state.bitstream = run_finn_hls(cfg.workdir, cfg.board)
        except FinnHlsError as exc:
            raise BuildError(str(exc), keep=True) from None
