#!/usr/bin/env python3
"""Compile a binary network for a Zynq board: ``python flow/build.py --board Pynq-Z2``.

With only ``--board`` it compiles the embedded default (results/default_model/). The build runs in a
temporary folder next to ``--output`` and is moved into place only when it succeeded, so a failed
build never leaves a half-written folder nor destroys an existing one. Errors: one line on stderr,
exit status 2.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

from brevitas_models.checkpoint import CheckpointError
from brevitas_models.registry import MODELS, list_models
from flow.compiler.boards import BoardError, board_table, get_board
from flow.compiler.folding import FoldingError
from flow.training.data import DATASETS as TRAIN_DATASETS
from flow.training.datasets import DatasetError

REPO = Path(__file__).resolve().parent.parent


def _target_fps(text: str) -> float:
    """``--target-fps``: a number of images/s, or ``max`` (math.inf: the fastest that fits the board)."""
    if text.strip().lower() == "max":
        return math.inf
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"want a number of images/s or 'max', got {text!r}") from None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--board", help="target board (see --list-boards)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--model", help="registered model name (see --list-models)")
    src.add_argument("--onnx", type=Path, help="a QONNX binary network exported by Brevitas")
    p.add_argument("--checkpoint", type=Path, help="checkpoint of --model (from flow/train.py)")
    p.add_argument("--model-args", help="JSON constructor arguments for --model without --checkpoint")
    p.add_argument("--shift", type=float, help="override every binary activation's threshold shift t")
    fold = p.add_mutually_exclusive_group()
    fold.add_argument("--folding", type=Path, help="FINN folding JSON (PE/SIMD per layer name)")
    fold.add_argument(
        "--target-fps",
        type=_target_fps,
        help="fold for N images/s in RTL simulation (default 100000); 'max': the fastest folding that fits the board",
    )
    p.add_argument("--output", type=Path, help="output folder (default build/<model>-<board>)")
    p.add_argument("--verify-images", type=int, default=1000, help="images for bit-exact verification")
    p.add_argument(
        "--dataset",
        choices=TRAIN_DATASETS,
        help="verify on this data set's test images and labels (default: the checkpoint's data set)",
    )
    p.add_argument("--data-dir", type=Path, help="folder with the mnist / cifar10 / imagenet files (as flow/train.py)")
    p.add_argument("--require-bitstream", action="store_true", help="fail unless a bitstream was built")
    p.add_argument("--skip-rtlsim", action="store_true", help="generate rtl/ but do not simulate it (FIFOs not sized)")
    p.add_argument("--synth", action="store_true", help="run yosys synth_xilinx on rtl/ (LUT/FF/BRAM/DSP)")
    p.add_argument(
        "--backend",
        choices=("rtl", "finn-hls"),
        default="rtl",
        help="rtl: our RTL (+ Vivado block design where installed); finn-hls: FINN's build_dataflow (needs Vivado)",
    )
    p.add_argument("--list-models", action="store_true", help="list registered models and exit")
    p.add_argument("--list-boards", action="store_true", help="list supported boards and exit")
    return p.parse_args(argv)


def make_options(args: argparse.Namespace):
    import json

    from flow.compiler.network import BuildOptions

    if args.checkpoint is not None and args.model is None:
        raise ValueError("--checkpoint needs --model")
    if args.onnx is not None and args.shift is not None:
        raise ValueError("--shift applies to --model builds (the ONNX graph already fixes t)")
    if args.verify_images < 1:
        raise ValueError("--verify-images must be at least 1")
    if args.target_fps is not None and args.target_fps <= 0:
        raise ValueError("--target-fps must be positive")
    if args.folding is not None and not args.folding.is_file():
        raise ValueError(f"folding JSON not found: {args.folding}")
    model_args = None
    if args.model_args:
        try:
            model_args = json.loads(args.model_args)
        except json.JSONDecodeError as exc:
            raise ValueError(f"--model-args is not valid JSON: {exc}") from None
    if args.model is not None and args.model not in MODELS:
        raise ValueError(f"unknown model {args.model!r}; valid models: {', '.join(list_models())}")
    return BuildOptions(
        board=get_board(args.board),
        model=args.model,
        checkpoint=args.checkpoint,
        onnx=args.onnx,
        model_args=model_args,
        shift=args.shift,
        folding=args.folding,
        target_fps=args.target_fps,
        verify_images=args.verify_images,
        dataset=args.dataset,
        data_dir=args.data_dir,
        require_bitstream=args.require_bitstream,
        rtlsim=not args.skip_rtlsim,
        synth=args.synth,
        backend=args.backend,
    )


def default_output(opts) -> Path:
    name = opts.onnx.stem if opts.onnx else (opts.model or "default")
    return REPO / "build" / f"{name}-{opts.board.name}"


def build_atomically(opts, output: Path) -> dict:
    """Build in ``<output>.partial-*`` beside ``output``; swap it in only on success."""
    from flow.compiler.pipeline import run_build

    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f".{output.name}.partial-", dir=output.parent))
    try:
        summary = run_build(opts, workdir, output)
    except BaseException as exc:
        if not getattr(exc, "keep", False):  # e.g. an RTL mismatch: its reproduce command needs the folder
            shutil.rmtree(workdir, ignore_errors=True)
        raise
    backup = output.with_name(f".{output.name}.old-{os.getpid()}")
    if output.exists():
        os.replace(output, backup)
    os.replace(workdir, output)
    shutil.rmtree(backup, ignore_errors=True)
    return summary


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list_boards:
        print(board_table())
        return 0
    if args.list_models:
        for name in list_models():
            print(f"{name:<18} {MODELS[name].summary}")
        return 0
    from flow.compiler.errors import BuildError
    from flow.compiler.steps import MappingError

    try:
        if not args.board:
            raise ValueError("--board is required (see --list-boards)")
        opts = make_options(args)
        output = args.output or default_output(opts)
        build_atomically(opts, output)
    except (
        ValueError,
        BoardError,
        CheckpointError,
        DatasetError,
        FoldingError,
        MappingError,
        BuildError,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"output: {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
