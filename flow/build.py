#!/usr/bin/env python3
"""Compile a binary network for a Zynq board: ``python flow/build.py --board Pynq-Z2``.

With only ``--board`` it compiles the embedded default (results/default_model/); ``--checkpoint``
alone compiles the model the checkpoint names (a run folder holding checkpoint.pt works too). The
build runs in a temporary folder next to ``--output`` and is moved into place only when it succeeded,
so a failed or interrupted build never leaves a half-written folder nor destroys an existing one; an
existing ``--output`` is replaced only when a previous build wrote it (``--force`` for any other
folder). Errors: one line on stderr, exit status 2 (flow/core/cli.py).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

from flow.core import (
    cli,  # noqa: E402
    outputs,  # noqa: E402
)
from flow.core.files import (  # noqa: E402
    MARKER,
    OutputError,
    build_files,
    is_build_folder,
    keep_failed_logs,
    make_temp_dir,
    write_json,
)

REPO = Path(__file__).resolve().parent.parent
MAX_VERIFY_IMAGES = 100_000  # 100k float32 CNV inputs are 1.2 GB and hours of FINN execution


def build_parser() -> argparse.ArgumentParser:
    from flow.builder.options import add_folding_options, add_model_options
    from flow.data.options import add_data_options

    p = cli.Parser(description=__doc__.splitlines()[0])
    add_model_options(p)
    add_folding_options(p)
    p.add_argument("--output", type=cli.output_path, help="output folder (default build/<model>-<run>-<board>)")
    p.add_argument("--force", action="store_true", help="replace --output even if no previous build wrote it")
    p.add_argument(
        "--verify-images",
        type=cli.int_in(1, MAX_VERIFY_IMAGES),
        default=1000,
        help="images for bit-exact verification",
    )
    add_data_options(
        p,
        None,
        "verify (and deploy) on this data set's test images and labels (default: the checkpoint's data set, "
        "with its --data-dir and --image-size; random UINT8 inputs for --onnx or an untrained --model). ",
    )
    p.add_argument("--require-bitstream", action="store_true", help="fail unless a bitstream was built")
    p.add_argument("--skip-rtlsim", action="store_true", help="generate rtl/ but do not simulate it (FIFOs not sized)")
    p.add_argument("--synth", action="store_true", help="run yosys synth_xilinx on rtl/ (LUT/FF/BRAM/DSP)")
    from flow.backends import BACKENDS, DEFAULT_BACKEND

    p.add_argument(
        "--backend",
        choices=tuple(BACKENDS),
        default=DEFAULT_BACKEND,
        help="; ".join(f"{name}: {backend.summary}" for name, backend in BACKENDS.items()),
    )
    p.add_argument("--list-models", action="store_true", help="list registered models and exit")
    p.add_argument("--list-boards", action="store_true", help="list supported boards and exit")
    return p


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def resolve_checkpoint(path: Path) -> Path:
    """A run folder stands for the checkpoint.pt inside it."""
    if path.is_dir():
        inside = path / "checkpoint.pt"
        if not inside.is_file():
            raise cli.UsageError(f"--checkpoint {path} is a folder without checkpoint.pt")
        return inside
    return path


def check_source(args: argparse.Namespace) -> None:
    """Which network: --onnx, --model [--checkpoint | --model-kwargs], --checkpoint alone, or the default."""
    from brevitas_models.checkpoint import read_checkpoint
    from brevitas_models.registry import MODELS, list_models

    if args.onnx is not None:
        if args.checkpoint is not None or args.model_kwargs is not None:
            raise cli.UsageError("--checkpoint and --model-kwargs apply to --model builds, not --onnx")
        if args.shift is not None:
            raise cli.UsageError("--shift applies to --model builds (the ONNX graph already fixes t)")
        from flow.compiler.checks import check_onnx_file

        check_onnx_file(args.onnx)
        return
    if args.model is not None and args.model not in MODELS:
        raise cli.UsageError(f"unknown model {args.model!r}; valid models: {', '.join(list_models())}")
    if args.checkpoint is not None:
        if args.model_kwargs is not None:
            raise cli.UsageError("--model-kwargs applies to an untrained --model; a checkpoint fixes the arguments")
        args.checkpoint = resolve_checkpoint(args.checkpoint)
        named = read_checkpoint(args.checkpoint)["model"]
        if args.model is not None and named != args.model:
            raise cli.UsageError(f"checkpoint {args.checkpoint} holds model {named!r}, not {args.model!r}")
        args.model = named
    elif args.model is None and args.model_kwargs is not None:
        raise cli.UsageError("--model-kwargs needs --model")
    elif args.model is not None:
        cli.check_model_kwargs(args.model, args.model_kwargs or {})


def check_folding_file(path: Path, backend, board) -> None:
    """The folding JSON's form (layer names and divisibility are checked against the graph later)."""
    from flow.core.inputs import read_json

    if not path.exists():
        raise cli.UsageError(f"folding JSON not found: {path}")
    config = read_json(path, "folding JSON", kind=None)  # the form is check_folding_config's to judge
    from flow.compiler.checks import check_folding_config
    from flow.compiler.folding_config import check_backend_reads

    check_folding_config(config, str(path))
    for key, attrs in config.items():  # before any work: an attribute the backend ignores is refused
        check_backend_reads(key, attrs, backend.folding_attributes(board), backend.name)


def recorded_dataset(args: argparse.Namespace) -> str | None:
    """The data set the checkpoint (or the default network) was trained on, if it says."""
    from brevitas_models.checkpoint import read_checkpoint
    from flow.compiler.network import DEFAULT_CHECKPOINT

    checkpoint = args.checkpoint or (DEFAULT_CHECKPOINT if args.model is None and args.onnx is None else None)
    return read_checkpoint(checkpoint)["meta"].get("dataset") if checkpoint is not None else None


def make_config(args: argparse.Namespace):
    """The build's one configuration (flow/core/config.py), checked before any work."""
    from flow.backends import get_backend
    from flow.core.boards import get_board
    from flow.core.config import BuildConfig

    board = get_board(args.board, args.clock_mhz)
    check_source(args)
    finite_target = args.target_fps is not None and math.isfinite(args.target_fps)  # not 'max'
    if finite_target and not 1 <= args.target_fps <= board.clock_mhz * 1e6:
        raise cli.UsageError(
            f"--target-fps must lie between 1 and {board.clock_mhz * 1e6:g} "
            f"(one image per cycle at {board.clock_mhz:g} MHz), not {args.target_fps:g}"
        )
    if args.folding is not None:
        check_folding_file(args.folding, get_backend(args.backend), board)
    from flow.data.options import check_data_options

    check_data_options(args)
    if args.data_dir is not None and args.dataset is None and recorded_dataset(args) is None:
        raise cli.UsageError(
            f"--data-dir {args.data_dir}: which data set is it? add --dataset (the network records none)"
        )
    cfg = BuildConfig(
        board=board,
        backend=get_backend(args.backend),
        model=args.model,
        checkpoint=args.checkpoint,
        onnx=args.onnx,
        model_kwargs=args.model_kwargs,
        shift=args.shift,
        folding=args.folding,
        target_fps=args.target_fps,
        allow_oversize=args.allow_oversize,
        runtime_weights=args.runtime_weights,
        verify_images=args.verify_images,
        dataset=args.dataset,
        data_dir=None if args.data_dir is None else Path(args.data_dir),
        image_size=args.image_size,
        require_bitstream=args.require_bitstream,
        rtlsim=not args.skip_rtlsim,
        synth=args.synth,
    )
    cfg.backend.check(cfg)  # the tools it needs (Vivado for --require-bitstream): before any work
    return cfg


def default_output(cfg) -> Path:
    """build/<what>-<board>: the ONNX stem, or the model plus the checkpoint's run (its folder, or the
    file's stem when it is not called checkpoint.pt), plus the shift override: two models never share it."""
    if cfg.onnx is not None:
        name = cfg.onnx.stem
    elif cfg.checkpoint is not None:
        ckpt = Path(cfg.checkpoint)
        run = ckpt.parent.name if ckpt.name == "checkpoint.pt" else ckpt.stem
        name = f"{cfg.model}-{run}"
    elif cfg.model is not None:
        name = f"{cfg.model}-untrained"
    else:
        name = "default"
    if cfg.shift is not None:
        from flow.compiler.network import shift_text

        name += f"-t{shift_text(cfg.shift)}"
    return REPO / "build" / f"{name}-{cfg.board.name}"


def source_of(cfg) -> str:
    """Which network a build compiled (recorded in its marker): a default folder name is shared by
    networks with the same name (an ONNX file called default.onnx, two checkpoints of one run name)."""
    if cfg.onnx is not None:
        return f"ONNX {Path(cfg.onnx).resolve()}"
    if cfg.checkpoint is not None:
        return f"checkpoint {Path(cfg.checkpoint).resolve()}"
    if cfg.model is not None:
        return f"untrained {cfg.model} {json.dumps(cfg.model_kwargs or {}, sort_keys=True)}"
    return "the default network"


def check_default_output(output: Path, cfg) -> None:
    """A default folder (no --output) is replaced only by a build of the network it holds."""
    try:
        held = json.loads((output / MARKER).read_text()).get("source")
    except (OSError, ValueError, AttributeError):
        return  # none, or from before the record: its files are all kept (moved to .prev) anyway
    if held is not None and held != source_of(cfg):
        raise OutputError(
            f"{output} (the default folder for this build) holds a build of another network ({held}); give --output"
        )


def build_inputs(cfg) -> list[Path]:
    """Everything the build reads (the replace rule never lets --output hold one of them): the
    checkpoint, the ONNX file, the folding JSON, the data folder given and the one the checkpoint
    recorded, the installed Fashion-MNIST."""
    from brevitas_models.checkpoint import read_checkpoint
    from flow.compiler.network import DEFAULT_CHECKPOINT
    from flow.data.builtin import fashion_mnist_dir

    checkpoint = cfg.checkpoint or (DEFAULT_CHECKPOINT if cfg.model is None and cfg.onnx is None else None)
    recorded = read_checkpoint(checkpoint)["meta"].get("data_dir") if checkpoint is not None else None
    found = [checkpoint, cfg.onnx, cfg.folding, cfg.data_dir, recorded, fashion_mnist_dir()]
    return [Path(p) for p in found if p]


def claim_build_output(output: Path, cfg, force: bool):
    """The replace rule (flow/core/outputs.py) for a build folder, with its lock."""
    return outputs.claim_output(output, is_build_folder, build_inputs(cfg), force=force, tool="flow/build.py")


def build_atomically(cfg, output: Path, force: bool = False) -> dict:
    """Build in ``.<output>.partial-*`` beside ``output``; swap it in only on success (the replace rule
    is checked again at the swap: the build may have taken hours). Files of the previous build that no
    build wrote are kept: that folder is moved to ``<output>.prev`` instead of being deleted."""
    import dataclasses

    from flow.builder.pipeline import run_build

    output = Path(os.path.abspath(output))
    workdir = make_temp_dir(f".{output.name}.partial-", output.parent)
    try:
        summary = run_build(dataclasses.replace(cfg, workdir=workdir, output=output))
        marker = {
            "tool": "flow/build.py",
            "model": summary.get("model"),
            "source": source_of(cfg),
            "date": time.ctime(),
        }
        write_json(workdir / MARKER, {**marker, "files": outputs.manifest(workdir)})
        outputs.check_output(output, is_build_folder, build_inputs(cfg), force, tool="flow/build.py")
        foreign = outputs.plan_replacement(output, is_build_folder, build_files)
        kept = outputs.swap_into_place(workdir, output, keep_old=bool(foreign))
    except BaseException as exc:
        if not getattr(exc, "keep", False):  # e.g. an RTL mismatch: its reproduce command needs the folder
            _keep_logs(exc, workdir, output)
            shutil.rmtree(workdir, ignore_errors=True)
        raise
    if kept is not None:
        print(f"kept the previous build in {kept}: it held files no build wrote ({_few(foreign)})", file=sys.stderr)
    return summary


def _keep_logs(exc: BaseException, workdir: Path, output: Path) -> None:
    """Copy the failed build's logs beside ``output`` (files.keep_failed_logs) and point the error there."""
    if isinstance(exc, KeyboardInterrupt | SystemExit):
        return
    try:
        folder, message = keep_failed_logs(workdir, output, str(exc))
    except OSError as err:  # never hide the build's own error behind this one
        print(f"warning: the failed build's logs could not be kept ({err})", file=sys.stderr)
        return
    if folder is not None:
        exc.args = (message,)
        print(f"logs of the failed build: {folder}", file=sys.stderr)


def _few(names: list[str], count: int = 3) -> str:
    more = f" and {len(names) - count} more" if len(names) > count else ""
    return ", ".join(names[:count]) + more


def list_and_exit(args: argparse.Namespace) -> bool:
    from brevitas_models.registry import MODELS, list_models
    from flow.core.boards import board_table

    if args.list_boards:
        print(board_table())
    if args.list_models:
        for name in list_models():
            print(f"{name:<18} {MODELS[name].summary}")
    return args.list_boards or args.list_models


def _main(argv: list[str] | None) -> int:
    args = parse_args(argv)
    if list_and_exit(args):
        return 0
    if not args.board:
        raise cli.UsageError("--board is required (see --list-boards)")
    cfg = make_config(args)
    output = args.output or default_output(cfg)
    with claim_build_output(output, cfg, args.force) as claim:  # refuse before any work; locked until done
        if args.output is None:
            check_default_output(claim.path, cfg)
        foreign = outputs.plan_replacement(claim.path, is_build_folder, build_files)
        if foreign:
            print(f"{output} holds files no build wrote ({_few(foreign)}): it is moved to "
                  f"{outputs.prev_path(claim.path)} when this build succeeds", file=sys.stderr)  # fmt: skip
        elif claim.replacing:
            print(f"{output} holds a previous build: it is replaced when this build succeeds", file=sys.stderr)
        build_atomically(cfg, output, args.force)
    if claim.replacing and not foreign:
        print(f"replaced the previous build in {output}", file=sys.stderr)
    cli.print_output(output)
    return 0


def user_errors() -> tuple[type[BaseException], ...]:
    from brevitas_models.checkpoint import CheckpointError
    from flow.analysis.folding_rules import FoldingError
    from flow.compiler.compile_steps import MappingError
    from flow.core.boards import BoardError
    from flow.core.errors import BuildError
    from flow.data.builtin import DatasetError

    return (BoardError, CheckpointError, DatasetError, FoldingError, MappingError, BuildError, OutputError)


def main(argv: list[str] | None = None) -> int:
    return cli.run_cli(lambda: _main(argv), "build", user_errors)


if __name__ == "__main__":
    cli.quiet_library_warnings()
    sys.exit(main())
