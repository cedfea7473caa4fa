"""The options of ``flow/build.py`` that choose the network and its folding (the data options are
flow/data/options.py's, shared with flow/train.py)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from flow.core import cli


def target_fps(text: str) -> float:
    """``--target-fps``: a positive number of images/s, or ``max`` (math.inf: the fastest that fits)."""
    if text.strip().lower() == "max":
        return math.inf
    return cli.positive_float(text)


def add_model_options(p: argparse.ArgumentParser) -> None:
    """The board, and the network: a registered model (with a checkpoint) or a QONNX file."""
    p.add_argument("--board", help="target board, e.g. Pynq-Z2 (required, except with --list-boards/--list-models)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--model", help="registered model name (see --list-models)")
    src.add_argument("--onnx", type=Path, help="a QONNX binary network exported by Brevitas")
    p.add_argument("--checkpoint", type=Path, help="checkpoint.pt from flow/train.py, or its run folder")
    kw = p.add_mutually_exclusive_group()
    kw.add_argument("--model-kwargs", type=cli.json_object, help="JSON constructor arguments of an untrained --model")
    kw.add_argument("--model-args", type=cli.json_object, dest="model_kwargs", action=cli.DeprecatedAlias,
                    new="--model-kwargs")  # fmt: skip
    p.add_argument(
        "--shift",
        type=cli.parse_shift,
        help="override the binary activations' threshold shift: t, or one t per binary layer (comma list), as "
        "flow/train.py's --shift",
    )


def add_folding_options(p: argparse.ArgumentParser) -> None:
    """How the network is folded: a folding JSON or a throughput target, the clock, the fit check."""
    fold = p.add_mutually_exclusive_group()
    fold.add_argument("--folding", type=Path, help="FINN folding JSON (PE/SIMD per layer name)")
    fold.add_argument(
        "--target-fps",
        type=target_fps,
        help="fold for N images/s in RTL simulation; 'max': the fastest folding that fits the board "
        "(default: the fastest that fits, at most the rate at which the DMA port delivers the input)",
    )
    p.add_argument(
        "--clock-mhz",
        type=cli.positive_float,
        help="fabric clock in MHz (default: the board's, see --list-boards): the folding target, Vivado and reports",
    )
    p.add_argument(
        "--runtime-weights",
        action="store_true",
        help="every MVAU loads its weights at run time (s_axis_wgt, filled by the driver from the deploy "
        "package at start-up) instead of from the bitstream; without it, only where block RAM runs out "
        "on a part with URAM",
    )
    p.add_argument(
        "--allow-oversize",
        action="store_true",
        help="build a design the resource model puts over the board's LUT/BRAM/URAM/DSP (a warning, not an error)",
    )
