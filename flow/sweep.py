"""The paper's experiment: does a shifted binary-activation threshold beat t = 0, and by how much?

Trains ``--model`` for every shift in ``--shifts`` x every seed in ``--seeds`` (each run is
``flow/train.py``'s ``train`` in its own folder ``OUTPUT/runs/<label>_seed<k>``; finished runs are
reused, so an interrupted sweep resumes). With ``--shift-as-bn-bias`` it adds the paper's control at
the best fixed shift (t = 0 with the BatchNorm bias initialised to -t), with ``--learnable-shift`` a
learnable t (per channel, initialised to 0, or with ``--learnable-start best`` to the best fixed shift).
The best setting, t = 0 included, and its checkpoint are chosen on images held out of the training
split (``--val-split``), never on the test set. The answer goes to stdout, one sentence per setting
against t = 0 ("t=0.8 beats t=0 by +2.40 pp, 95 % CI [...]: significant with 8 seeds" or "no evidence");
progress to stderr. Writes ``OUTPUT/results.json`` (every run, mean +- std per setting, every setting
vs t = 0 with 95 % intervals) and two PNGs.

Example::

    python flow/sweep.py --model xnor_mlp --dataset fashion-mnist --shifts 0 0.4 0.8 1.2 \\
        --seeds 0 1 2 --epochs 5 --threads 1 --shift-as-bn-bias --output runs/fmnist_xnor_mlp

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

from flow.data.options import add_data_options, check_data_options  # noqa: E402
from flow.experiments.shift_sweep import shift_label, sweep  # noqa: E402
from flow.training.options import add_model_options, add_shift_options, add_training_options  # noqa: E402

DEFAULT_SHIFTS = [0.0, 0.4, 0.8, 1.2]  # t = 0 and the range our sweeps found best (0.8 for convs, 1.2 for the MLP)


def build_parser() -> argparse.ArgumentParser:
    p = cli.Parser(description=__doc__.split("\n")[0])
    add_model_options(p)
    p.add_argument(
        "--output", required=True, type=cli.output_path, metavar="DIR", help="sweep folder (results.json, plots, runs/)"
    )
    p.add_argument("--force", action="store_true", help="retrain runs in OUTPUT that were trained with other settings")
    add_data_options(p, "fashion-mnist")
    g = add_shift_options(p, None, " (default: layer for fixed t, channel for the learnable t)")
    g.add_argument(
        "--shifts",
        nargs="+",
        type=cli.parse_shift,
        default=DEFAULT_SHIFTS,
        metavar="T",
        help="the fixed shifts to compare; a comma list is one t per binary layer",
    )
    g.add_argument(
        "--learnable-shift",
        action="store_true",
        help="add a learnable t (see --learnable-start) as a setting of its own",
    )
    g.add_argument(
        "--learnable-start",
        choices=("zero", "best"),
        default="zero",
        help="where the learnable t starts: 0 (ReActNet's RSign) or the best fixed shift of this sweep",
    )
    g.add_argument(
        "--shift-as-bn-bias",
        action="store_true",
        help="add the paper's control at the best shift t: t=0, BatchNorm bias initialised to -t",
    )
    g.add_argument(
        "--learnable", action=cli.DeprecatedAlias, new="--learnable-shift", flag=True, dest="learnable_shift"
    )
    g.add_argument(
        "--control", action=cli.DeprecatedAlias, new="--shift-as-bn-bias", flag=True, dest="shift_as_bn_bias"
    )
    t = add_training_options(p, epochs=5, min_epochs=1, val_split=0.1, progress=False)
    t.add_argument(
        "--seeds",
        nargs="+",
        type=cli.int_in(0, cli.MAX_SEED),
        default=[0, 1, 2],
        metavar="K",
        help="one run per seed and setting; the intervals need >= 2",
    )
    t.add_argument(
        "--jobs", type=cli.int_in(1, cli.MAX_JOBS), default=1, help="runs trained side by side (one process each)"
    )
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
    check_data_options(args)
    args.shifts = unique(args.shifts, shift_label, "--shifts")
    args.seeds = unique(args.seeds, str, "--seeds")
    kwargs = {"weight_scaling": args.weight_scaling, **args.model_kwargs}
    kwargs.update({k: v for k, v in (("width", args.width), ("hidden", args.hidden)) if v is not None})
    for t in args.shifts:
        cli.check_model_kwargs(args.model, {**kwargs, "shift": t}, flag=f"--shifts {shift_label(t)}")
    command = "python flow/sweep.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    with outputs.claim_output(args.output, is_sweep_folder, [args.data_dir], force=args.force, tool="flow/sweep.py"):
        sweep(args, command)  # refused before any training, or locked until the sweep ends
    cli.print_output(args.output)
    return 0


def is_sweep_folder(folder: Path) -> bool:
    """Written by flow/sweep.py: its results, its log or its run folders."""
    return any((folder / name).exists() for name in ("results.json", "sweep.log", "runs"))


def main(argv: list[str] | None = None) -> int:
    return cli.run_cli(lambda: _main(argv), "sweep", (ValueError, OSError))


if __name__ == "__main__":
    sys.exit(main())
