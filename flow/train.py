"""Train a registered shiftbnn model: ``DIR/checkpoint.pt`` (loads with weights_only=True) + ``DIR/metrics.json``.

Examples::

    python flow/train.py --model xnor_mlp --dataset fashion-mnist --shift 0.3 --epochs 10 --output runs/mlp
    python flow/train.py --model xnor_mlp --dataset image-folder --data-dir shapes --image-size 28 --output runs/s
    python flow/train.py --model xnor_cnv --dataset digits --shift 0.2,0.2,0,0,0,0 --epochs 1 --output runs/s
    torchrun --nproc_per_node=2 flow/train.py --model xnor_mlp --dataset digits --output runs/ddp

``--shift`` takes one value for every binary activation or a comma list with one value per layer.
``--shift-as-bn-bias`` is the paper's control: ``t = 0`` with the BatchNorm biases initialised to ``-t``.
The data options (``--dataset``, ``--data-dir``, ``--image-size``) are flow/build.py's and flow/sweep.py's
too; the class count comes from the data set's labels (flow/data/readers.py) and is saved in the
checkpoint. The result (test accuracy, checkpoint, ``output: DIR``) goes to stdout, progress to stderr.
The recipe (Adam, cosine decay, latent-weight clipping) is documented in flow/training/loop.py and
docs/training.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
from pathlib import Path

from flow.core import cli, outputs  # noqa: E402

if __name__ == "__main__":  # before brevitas is imported: its import warns about an optional package
    cli.quiet_library_warnings()

import torch.distributed as dist  # noqa: E402

from flow.data.options import add_data_options, check_data_options  # noqa: E402
from flow.training.loop import RESUME_FILE, RUN_FILES, TrainConfig, train  # noqa: E402
from flow.training.options import add_model_options, add_shift_options, add_training_options  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    p = cli.Parser(description=__doc__.split("\n")[0])
    add_model_options(p)
    p.add_argument(
        "--output",
        required=True,
        type=cli.output_path,
        metavar="DIR",
        help="run folder (checkpoint.pt, metrics.json, resume.pt)",
    )
    p.add_argument("--force", action="store_true", help="train from scratch into a folder that holds a run")
    add_data_options(p, "fashion-mnist")
    g = add_shift_options(p, "layer")
    g.add_argument("--shift", type=cli.parse_shift, default=0.0, help="t, or one t per binary layer (comma list)")
    g.add_argument("--learnable-shift", action="store_true", help="train t (initialised from --shift)")
    g.add_argument(
        "--shift-as-bn-bias",
        action="store_true",
        help="the paper's control: t=0 in the activation, BatchNorm bias initialised to -t",
    )
    t = add_training_options(p, epochs=10, min_epochs=0, val_split=0.0, progress=True)
    t.add_argument(
        "--seed", type=cli.int_in(0, cli.MAX_SEED), default=0, help="seed of the weights, batch order and augmentation"
    )
    t.add_argument("--resume", action="store_true", help="continue from OUTPUT/resume.pt if present")
    t.add_argument(
        "--average-last",
        type=cli.int_in(0),
        default=0,
        metavar="N",
        help="save the average of the last N epochs' weights (SWA; 0: the last epoch's)",
    )
    t.add_argument(
        "--init-from", metavar="CHECKPOINT", help="start from this checkpoint.pt (same model; new optimizer, schedule)"
    )
    return p


def model_kwargs_of(args: argparse.Namespace) -> dict:
    kwargs = {
        "shift": 0.0 if args.shift_as_bn_bias else args.shift,
        "shift_mode": args.shift_mode,
        "learnable_shift": args.learnable_shift,
        "weight_scaling": args.weight_scaling,
    }
    if args.width is not None:
        kwargs["width"] = args.width
    if args.hidden is not None:
        kwargs["hidden"] = args.hidden
    kwargs.update(args.model_kwargs)
    return kwargs


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    return TrainConfig(
        model=args.model,
        dataset=args.dataset,
        model_kwargs=model_kwargs_of(args),
        data_dir=args.data_dir,
        image_size=args.image_size,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        augment_pad=args.augment_pad,
        seed=args.seed,
        threads=args.threads,
        train_limit=args.train_limit,
        bn_bias_init=args.shift if args.shift_as_bn_bias else None,
        output=str(args.output),
        resume=args.resume,
        progress=args.progress,
        val_split=args.val_split,
        workers=args.workers,
        device=args.device,
        bf16=args.bf16,
        init_from=args.init_from,
        average_last=args.average_last,
    )


def check_run_folder(output: Path, resume: bool, force: bool) -> None:
    """A folder that holds a run is continued (--resume) or overwritten (--force), never silently replaced."""
    if output.exists() and not output.is_dir():
        raise cli.UsageError(f"--output {output} is an existing file, not a folder")
    found = [name for name in RUN_FILES if (output / name).is_file()]
    if found and not (resume or force):
        raise cli.UsageError(
            f"--output {output} holds a run ({', '.join(found)}): --resume to continue it, --force to train "
            "from scratch over it, or another folder"
        )
    if found and resume and not force and RESUME_FILE not in found:  # --resume would start over silently
        raise cli.UsageError(
            f"--output {output} holds a finished run without {RESUME_FILE}: nothing to resume; --force to train "
            "it again from scratch, or another folder"
        )


def check_args(args: argparse.Namespace) -> None:
    """Everything that can be checked before the data loads."""
    check_data_options(args)
    if args.epochs == 0 and args.init_from is None:  # it would save an untrained network as the result
        raise cli.UsageError("--epochs must be >= 1 (0 only with --init-from: evaluate that checkpoint)")
    if args.average_last > args.epochs:
        raise cli.UsageError(f"--average-last {args.average_last} must be between 1 and --epochs {args.epochs}")
    if args.init_from is not None and not Path(args.init_from).is_file():
        raise cli.UsageError(f"--init-from {args.init_from}: checkpoint not found")
    cli.check_model_kwargs(args.model, model_kwargs_of(args), flag="the model arguments (--shift, --width, ...)")
    check_run_folder(Path(args.output), args.resume, args.force)


def is_run_folder(folder: Path) -> bool:
    """Written by flow/train.py (or a sweep's run): one of the files a run writes is there."""
    return any((folder / name).is_file() for name in RUN_FILES)


def claim_run_folder(args: argparse.Namespace):
    """The replace rule (flow/core/outputs.py) with its lock; under torchrun only rank 0 holds the lock
    (the other ranks write nothing)."""
    inputs = [args.data_dir, args.init_from]
    if int(os.environ.get("RANK", "0")) != 0:
        outputs.check_output(Path(args.output), is_run_folder, inputs, args.force, tool="flow/train.py")
        return contextlib.nullcontext()
    return outputs.claim_output(Path(args.output), is_run_folder, inputs, force=args.force, tool="flow/train.py")


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    check_args(args)
    command = "python flow/train.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    with claim_run_folder(args):  # refused, or locked until the run ends: a second run into it refuses
        check_run_folder(Path(args.output), args.resume, args.force)  # again, under the lock
        metrics = train(config_from_args(args), command=command)
    rank_zero = not dist.is_initialized() or dist.get_rank() == 0  # one result, not one per torchrun worker
    if metrics is not None and rank_zero:
        val = f", validation accuracy {metrics['val_accuracy']:.4f}" if "val_accuracy" in metrics else ""
        print(f"test accuracy {metrics['test_accuracy']:.4f}{val} ({metrics['num_classes']} classes)")
        print(f"checkpoint: {Path(args.output) / 'checkpoint.pt'}")
        cli.print_output(args.output)
    return 0


def main(argv: list[str] | None = None) -> int:
    # DatasetError / CheckpointError / OutputError / TrainingDiverged are ValueErrors; OSError: an
    # unreadable or unwritable file
    return cli.run_cli(lambda: _main(argv), "train", (ValueError, OSError))


def end_torchrun_worker(code: int) -> None:
    """Exit a torchrun worker without running torch.distributed's destructors.

    torch 2.13 + gloo: the process group's destructor joins its worker threads while holding the
    GIL, and a worker thread that is still freeing the last collective's tensors waits for the GIL:
    a deadlock (py-spy: ``~ProcessGroupGloo -> thread::join`` vs ``~AsyncBarrierWork ->
    gil_scoped_acquire``; it hung CI and 1 of 2 runs on a loaded 2-core machine, with or without
    ``destroy_process_group`` first, because DDP's Reducer holds the group; 0 of 20 since this exit).
    Leaving the group to interpreter exit instead aborts ("terminate called without an active
    exception"). Every file is written and closed by now, so skipping the teardown loses nothing.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_code = main()
    if dist.is_initialized():  # a torchrun worker (train() keeps its process group alive)
        end_torchrun_worker(exit_code)
    sys.exit(exit_code)
