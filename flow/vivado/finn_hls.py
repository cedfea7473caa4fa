"""``--backend finn-hls``: FINN's own hardware for the same folded network, for users who prefer it.

Delegates to FINN's ``build_dataflow_cfg`` from the build's ``model/folded.onnx`` (our compile steps
already did the FINN front end and the folding, so both backends implement the same layers with the
same PE/SIMD): FINN's HLS layers, stitched IP, its Zynq shell and bitstream, its PYNQ driver and
deployment package, all in ``OUTPUT/finn_hls/``. FINN needs Vivado and Vitis HLS for that; without
them it stops before any step with FINN's own message.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import flow.core.finn_env  # noqa: F401  (must precede finn.builder imports)

# isort: split
import finn.builder.build_dataflow_config as finn_config
from finn.util.basic import get_vivado_root

from flow.core.boards import Board

FIRST_STEP = "step_minimize_bit_width"  # FINN's default steps from here on (after its folding)
OUTPUTS = (
    finn_config.DataflowOutputType.ESTIMATE_REPORTS,
    finn_config.DataflowOutputType.STITCHED_IP,
    finn_config.DataflowOutputType.BITFILE,
    finn_config.DataflowOutputType.PYNQ_DRIVER,
    finn_config.DataflowOutputType.DEPLOYMENT_PACKAGE,
)


class FinnHlsError(RuntimeError):
    """FINN's backend cannot run (no Vivado) or failed; the message is one line."""


def finn_hls_config(output_dir: Path, board: Board) -> finn_config.DataflowBuildConfig:
    """FINN's build config: the board's part, clock and Zynq shell, FINN's steps after folding."""
    steps = finn_config.default_build_dataflow_steps
    return finn_config.DataflowBuildConfig(
        output_dir=str(Path(output_dir) / "finn_hls"),
        synth_clk_period_ns=1000.0 / board.clock_mhz,
        board=board.finn_board,
        fpga_part=board.part,
        shell_flow_type=finn_config.ShellFlowType.VIVADO_ZYNQ,
        generate_outputs=list(OUTPUTS),
        steps=list(steps[steps.index(FIRST_STEP) :]),
    )


def require_vivado() -> None:
    """Raise FinnHlsError with FINN's own message when FINN cannot find Vivado (call it before a build)."""
    try:
        root = get_vivado_root()
    except Exception as exc:  # FINN raises a bare Exception with its message
        finn_says = " ".join(str(exc).split())
        raise FinnHlsError(f"--backend finn-hls needs Vivado and Vitis HLS; FINN: {finn_says}") from None
    if not root or not Path(root).is_dir():
        raise FinnHlsError(f"--backend finn-hls needs Vivado and Vitis HLS; XILINX_VIVADO={root!r} is not a folder")


def run_finn_hls(output_dir: Path, board: Board) -> dict:
    """Run FINN's backend on OUTPUT/model/folded.onnx; returns the summary record
    ``{"status": "built", "reason", "output": "finn_hls", "bitfile", "driver"}`` or raises FinnHlsError."""
    output_dir = Path(output_dir)
    require_vivado()
    folded = output_dir / "model" / "folded.onnx"
    if not folded.is_file():
        raise FinnHlsError(f"{folded} not found: run the compile steps first")
    from finn.builder.build_dataflow import build_dataflow_cfg

    cfg = finn_hls_config(output_dir, board)
    # build_dataflow redirects sys.stdout/stderr into its log and replaces the root log handlers
    # (logging.basicConfig(force=True)); give the caller its own back afterwards.
    saved = sys.stdout, sys.stderr, logging.root.handlers[:], logging.root.level
    try:
        code = build_dataflow_cfg(str(folded), cfg)
    finally:
        sys.stdout, sys.stderr = saved[0], saved[1]
        logging.root.handlers[:] = saved[2]
        logging.root.setLevel(saved[3])
    out = Path(cfg.output_dir)
    bitfiles = sorted(out.glob("bitfile/*.bit"))
    if code != 0 or not bitfiles:
        raise FinnHlsError(f"FINN's build_dataflow failed (exit {code}); see {out / 'build_dataflow.log'}")
    return {
        "status": "built",
        "reason": "FINN HLS backend (build_dataflow)",
        "output": str(out.relative_to(output_dir)),
        "bitfile": str(bitfiles[0].relative_to(output_dir)),
        "driver": str((out / "deploy" / "driver").relative_to(output_dir)),
    }
