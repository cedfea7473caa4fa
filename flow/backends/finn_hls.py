"""FINN's own HLS backend: FINN's SetFolding (with a wider weight stream where FINN's default misses the
target, finn_hls_folding.py) and FINN's build_dataflow for the bitstream (needs Vivado and Vitis HLS,
flow/vivado/finn_hls.py). Our RTL of the same folded graph is still generated and simulated: it is the
bit-exact model of the folded graph that runs without the vendor tools."""

from __future__ import annotations

from flow.analysis.folding_rules import equalize_join_folding
from flow.backends.finn_hls_folding import fold_for_target
from flow.backends.rtl import RtlBackend
from flow.compiler.compile_steps import finn_config
from flow.core.config import BuildConfig, BuildState
from flow.core.errors import BuildError


class FinnHlsBackend(RtlBackend):
    name = "finn-hls"
    summary = "FINN's build_dataflow with its HLS layers (needs Vivado)"

    def check(self, cfg: BuildConfig) -> None:
        from flow.vivado.finn_hls import FinnHlsError, require_vivado

        try:
            require_vivado()  # fail before any step, with FINN's message
        except FinnHlsError as exc:
            raise BuildError(str(exc)) from None

    def folding_attributes(self, board) -> None:
        """FINN's build reads every attribute of its nodes."""
        return None

    def fold(self, state: BuildState, cfg: BuildConfig) -> None:
        """FINN's SetFolding (residual adds: both operands at the add's PE, ``equalize_join_folding``)."""
        state.model = equalize_join_folding(fold_for_target(state.model, finn_config(cfg)))

    def bitstream(self, state: BuildState, cfg: BuildConfig) -> None:
        from flow.vivado.finn_hls import FinnHlsError, run_finn_hls

        try:
            state.bitstream = run_finn_hls(cfg.workdir, cfg.board)
        except FinnHlsError as exc:
            raise BuildError(str(exc), keep=True) from None
