"""The paper's experiment: does a shifted binary-activation threshold beat t = 0, and by how much?

Trains ``--model`` for every shift in ``--shifts`` x every seed in ``--seeds`` (each run is
``flow/train.py``'s ``train`` in its own folder ``OUTPUT/runs/<label>_seed<k>``; finished runs are
reused, so an interrupted sweep resumes). Then, with ``--control``, the paper's control at the best
shift: ``t = 0`` with the BatchNorm bias initialised to ``-t``; with ``--learnable``, a learnable ``t``
(per channel, initialised to 0, or with ``--learnable-start best`` to the best fixed shift). Writes
``OUTPUT/results.json`` (every run, mean +- std per setting, the best shift vs t=0 with 95 % confidence
intervals of the difference) and two PNGs.

Example (the committed Fashion-MNIST benchmark)::

    python flow/sweep.py --model xnor_mlp --dataset fashion-mnist --shifts 0 0.1 0.2 0.3 0.5 \\
        --seeds 0 1 2 --epochs 5 --threads 1 --control --output results/fmnist_xnor_mlp

A shift may be a comma list with one value per binary layer (e.g. ``0.5,0,0``). ``--jobs N`` trains N
runs side by side, one spawned process each: a small BNN leaves a GPU (or a many-core CPU) mostly
idle, so this is how a sweep uses one; the numbers are the same as with one job (tested).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from flow.core import cli, outputs  # noqa: E402

if __name__ == "__main__":  # before brevitas is imported: its import warns about an optional package
    cli.quiet_library_warnings()

from brevitas_models.registry import list_models  # noqa: E402
from flow.data import readers as train_data  # noqa: E402
from flow.experiments.shift_sweep import shift_label, sweep  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    p = cli.Parser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, choices=list_models())
    p.add_argument("--dataset", default="fashion-mnist", choices=train_data.DATASETS)
    p.add_argument("--data-dir")
    p.add_argument("--shifts", nargs="+", type=cli.parse_shift, default=[0.0, 0.1, 0.2, 0.3, 0.5])
    p.add_argument("--seeds", nargs="+", type=cli.int_in(0, cli.MAX_SEED), default=[0, 1, 2])
    p.add_argument("--control", action="store_true", help="add t=0 with BatchNorm bias = -t_best at init")
    p.add_argument("--learnable", action="store_true", help="add a learnable per-channel t (see --learnable-start)")
    p.add_argument(
        "--learnable-start",
        choices=("zero", "best"),
        default="zero",
        help="where the learnable t starts: 0 (ReActNet's RSign) or the best fixed shift of this sweep",
    )
    p.add_argument("--output", required=True, type=cli.output_path)
    p.add_argument("--force", action="store_true", help="retrain runs in OUTPUT that were trained with other settings")
    p.add_argument("--epochs", type=cli.int_in(1), default=5)
    p.add_argument("--batch-size", type=cli.int_in(1), default=256)
    p.add_argument("--lr", type=cli.nonnegative_float, default=2e-3)
    p.add_argument("--augment-pad", type=cli.int_in(0, 64), help="default: 2 for convs, 0 for MLPs")
    p.add_argument("--weight-decay", type=cli.nonnegative_float, default=0.0)
    p.add_argument("--train-limit", type=cli.int_in(1))
    p.add_argument("--threads", type=cli.int_in(1, cli.MAX_THREADS))
    p.add_argument("--weight-scaling", choices=("per_tensor", "per_channel"), default="per_tensor")
    p.add_argument("--width", type=cli.positive_float)
    p.add_argument("--hidden", type=cli.parse_ints)
    p.add_argument("--model-kwargs", type=cli.json_object, default={})
    p.add_argument("--progress", action="store_true", help="per-batch progress bars")
    p.add_argument(
        "--jobs", type=cli.int_in(1, cli.MAX_JOBS), default=1, help="runs trained side by side (one process each)"
    )
    p.add_argument(
        "--device", type=cli.device_name, default="auto", help="auto, cpu, cuda or cuda:N (as flow/train.py)"
    )
    p.add_argument("--bf16", action="store_true", help="bfloat16 autocast for training (as flow/train.py)")
    return p


def unique(values: list, key, flag: str) -> list:
    """``values`` without repeats (by ``key``), with a note: a repeated setting would count one run twice."""
    seen, out = set(), []
    for v in values:
        if key(v) in seen:
            print(f"note: {flag} lists {key(v)} more than once; it runs once", file=sys.stderr)
            continue
        seen.add(key(v))
        out.append(v)
    return out


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    args.shifts = unique(args.shifts, shift_label, "--shifts")
    args.seeds = unique(args.seeds, str, "--seeds")
    kwargs = {"weight_scaling": args.weight_scaling, **args.model_kwargs}
    kwargs.update({k: v for k, v in (("width", args.width), ("hidden", args.hidden)) if v is not None})
    for t in args.shifts:
        cli.check_model_kwargs(args.model, {**kwargs, "shift": t}, flag=f"--shifts {shift_label(t)}")
    command = "python flow/sweep.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    with outputs.claim_output(args.output, is_sweep_folder, [args.data_dir], force=args.force, tool="flow/sweep.py"):
        sweep(args, command)  # refused before any training, or locked until the sweep ends
    return 0


def is_sweep_folder(folder: Path) -> bool:
    """Written by flow/sweep.py: its results, its log or its run folders."""
    return any((folder / name).exists() for name in ("results.json", "sweep.log", "runs"))


def main(argv: list[str] | None = None) -> int:
    return cli.run_cli(lambda: _main(argv), "sweep", (ValueError, OSError))


if __name__ == "__main__":
    sys.exit(main())
