"""The paper's experiment: does a shifted binary-activation threshold beat t = 0, and by how much?

Trains ``--model`` for every shift in ``--shifts`` x every seed in ``--seeds`` (each run is
``flow/train.py``'s ``train`` in its own folder ``OUTPUT/runs/<label>_seed<k>``; finished runs are
reused, so an interrupted sweep resumes). Then, with ``--control``, the paper's control at the best
shift: ``t = 0`` with the BatchNorm bias initialised to ``-t``; with ``--learnable``, a learnable ``t``
(per channel, initialised to 0, or with ``--learnable-start best`` to the best fixed shift). Writes ``OUTPUT/results.json`` (every run, mean +- std per setting,
the best shift vs t=0 with 95 % confidence intervals of the difference) and two PNGs.

Example (the committed Fashion-MNIST benchmark)::

    python flow/sweep.py --model xnor_mlp --dataset fashion-mnist --shifts 0 0.1 0.2 0.3 0.5 \\
        --seeds 0 1 2 --epochs 5 --threads 1 --control --output results/fmnist_xnor_mlp

A shift may be a comma list with one value per binary layer (e.g. ``0.5,0,0``). ``--jobs N`` trains N
runs side by side, one spawned process each: a small BNN leaves a GPU (or a many-core CPU) mostly
idle, so this is how a sweep uses one; the numbers are the same as with one job (tested).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shlex
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scipy import stats  # noqa: E402

from brevitas_models.registry import list_models  # noqa: E402
from flow.experiments import plots  # noqa: E402
from flow.train import parse_ints, parse_shift  # noqa: E402
from flow.training import data as train_data  # noqa: E402
from flow.training.evaluation import HIST_RANGE  # noqa: E402
from flow.training.loop import TrainConfig, machine, train  # noqa: E402


def shift_label(shift) -> str:
    if isinstance(shift, list):
        return "t=[" + ",".join(f"{v:g}" for v in shift) + "]"
    return f"t={shift:g}"


def is_zero(shift) -> bool:
    return all(v == 0 for v in shift) if isinstance(shift, list) else shift == 0


def run_one(base: TrainConfig, out: Path, label: str, variant: str, shift, seed: int, log) -> dict:
    folder = out / "runs" / f"{label.replace('=', '').replace(',', '_').strip('[]')}_{variant}_seed{seed}"
    folder = Path(str(folder).replace("[", "").replace("]", ""))
    done = folder / "metrics.json"
    if not done.is_file():
        kwargs = dict(base.model_kwargs)
        bn_bias = None
        if variant == "bn_bias":
            kwargs["shift"], bn_bias = 0.0, shift
        elif variant == "learnable":
            kwargs.update(shift=shift, learnable_shift=True, shift_mode="channel")
        else:
            kwargs["shift"] = shift
        cfg = replace(base, model_kwargs=kwargs, seed=seed, bn_bias_init=bn_bias, output=str(folder), resume=True)
        log(f"--- {variant} {label} seed {seed} -> {folder}")
        train(cfg, command=f"flow/sweep.py run {variant} {label} seed {seed}")
    metrics = json.loads(done.read_text())
    return {
        "label": label if variant == "shift" else f"{label} ({variant})",
        "variant": variant,
        "shift": shift,
        "seed": seed,
        "test_accuracy": metrics["test_accuracy"],
        "plus_fraction": metrics["plus_fraction"],
        "images_per_s": metrics["train_images_per_s"],
        "train_seconds": sum(h["seconds"] for h in metrics["history"]),
        "learned_shift_mean": {r["layer"]: r["shift_mean"] for r in metrics["layers"]},
        "folder": str(folder),
    }


def run_all(base: TrainConfig, out: Path, specs: list[tuple], jobs: int, log) -> list[dict]:
    """``run_one`` for every ``(label, variant, shift, seed)``, ``jobs`` at a time, in ``specs`` order."""
    if jobs <= 1:
        return [run_one(base, out, *spec, log) for spec in specs]
    # spawn, not fork: each run starts with a clean CUDA context and its own torch thread pool.
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(run_one, base, out, *spec, print) for spec in specs]
        runs = [f.result() for f in futures]
    for r in runs:
        log(f"--- {r['label']} seed {r['seed']}: {100 * r['test_accuracy']:.2f} % ({r['folder']})")
    return runs


def summarise(runs: list[dict]) -> list[dict]:
    groups: dict[str, list[dict]] = {}
    for r in runs:
        groups.setdefault(r["label"], []).append(r)
    rows = []
    for label, members in groups.items():
        acc = [m["test_accuracy"] for m in sorted(members, key=lambda m: m["seed"])]
        rows.append(
            {
                "label": label,
                "variant": members[0]["variant"],
                "shift": members[0]["shift"],
                "seeds": sorted(m["seed"] for m in members),
                "accuracies": acc,
                "mean": statistics.fmean(acc),
                "std": statistics.stdev(acc) if len(acc) > 1 else 0.0,
            }
        )
    return rows


def compare(a: dict, b: dict) -> dict:
    """``a - b`` in mean accuracy with 95 % intervals: Welch (independent) and paired by seed."""
    xa, xb = a["accuracies"], b["accuracies"]
    diff = statistics.fmean(xa) - statistics.fmean(xb)
    out = {"a": a["label"], "b": b["label"], "difference": diff, "n": [len(xa), len(xb)]}
    if len(xa) < 2 or len(xb) < 2:
        out["note"] = "need >= 2 seeds per setting for an interval"
        return out
    va, vb = statistics.variance(xa) / len(xa), statistics.variance(xb) / len(xb)
    se = (va + vb) ** 0.5
    dof = (va + vb) ** 2 / (va**2 / (len(xa) - 1) + vb**2 / (len(xb) - 1)) if se > 0 else len(xa) + len(xb) - 2
    half = stats.t.ppf(0.975, dof) * se
    out["welch_ci95"] = [diff - half, diff + half]
    out["welch_excludes_zero"] = bool(diff - half > 0 or diff + half < 0)
    if a["seeds"] == b["seeds"]:
        d = [p - q for p, q in zip(xa, xb, strict=True)]
        half_p = stats.t.ppf(0.975, len(d) - 1) * statistics.stdev(d) / len(d) ** 0.5
        out["paired_ci95"] = [diff - half_p, diff + half_p]
        out["paired_excludes_zero"] = bool(diff - half_p > 0 or diff + half_p < 0)
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, choices=list_models())
    p.add_argument("--dataset", default="fashion-mnist", choices=train_data.DATASETS)
    p.add_argument("--data-dir")
    p.add_argument("--shifts", nargs="+", type=parse_shift, default=[0.0, 0.1, 0.2, 0.3, 0.5])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--control", action="store_true", help="add t=0 with BatchNorm bias = -t_best at init")
    p.add_argument("--learnable", action="store_true", help="add a learnable per-channel t (see --learnable-start)")
    p.add_argument(
        "--learnable-start",
        choices=("zero", "best"),
        default="zero",
        help="where the learnable t starts: 0 (ReActNet's RSign) or the best fixed shift of this sweep",
    )
    p.add_argument("--output", required=True)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--augment-pad", type=int, help="default: 2 for convs, 0 for MLPs")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--train-limit", type=int)
    p.add_argument("--threads", type=int)
    p.add_argument("--weight-scaling", choices=("per_tensor", "per_channel"), default="per_tensor")
    p.add_argument("--width", type=float)
    p.add_argument("--hidden", type=parse_ints)
    p.add_argument("--model-kwargs", type=json.loads, default={})
    p.add_argument("--progress", action="store_true", help="per-batch progress bars")
    p.add_argument("--jobs", type=int, default=1, help="runs trained side by side (one process each)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (as flow/train.py)")
    p.add_argument("--bf16", action="store_true", help="bfloat16 autocast for training (as flow/train.py)")
    return p


def sweep(args: argparse.Namespace, command: str) -> dict:
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    log_file = open(out / "sweep.log", "a")  # noqa: SIM115 - kept open for the whole sweep

    def log(msg: str) -> None:
        print(msg, flush=True)
        log_file.write(msg + "\n")
        log_file.flush()

    kwargs = {"weight_scaling": args.weight_scaling, **args.model_kwargs}
    if args.width is not None:
        kwargs["width"] = args.width
    if args.hidden is not None:
        kwargs["hidden"] = args.hidden
    base = TrainConfig(
        model=args.model,
        dataset=args.dataset,
        data_dir=args.data_dir,
        model_kwargs=kwargs,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        augment_pad=args.augment_pad,
        weight_decay=args.weight_decay,
        train_limit=args.train_limit,
        threads=args.threads,
        progress=args.progress,
        device=args.device,
        bf16=args.bf16,
    )
    started = time.time()
    specs = [(shift_label(t), "shift", t, seed) for t in args.shifts for seed in args.seeds]
    runs = run_all(base, out, specs, args.jobs, log)
    summary = summarise(runs)
    zero = next((g for g in summary if g["variant"] == "shift" and is_zero(g["shift"])), None)
    shifted = [g for g in summary if g["variant"] == "shift" and not is_zero(g["shift"])]
    best = max(shifted, key=lambda g: g["mean"]) if shifted else None
    if best is not None and args.control:
        runs += run_all(base, out, [(best["label"], "bn_bias", best["shift"], s) for s in args.seeds], args.jobs, log)
    if args.learnable:
        start = best if args.learnable_start == "best" and best is not None else None
        label, t0 = (start["label"], start["shift"]) if start else ("t=0", 0.0)
        runs += run_all(base, out, [(label, "learnable", t0, s) for s in args.seeds], args.jobs, log)
    summary = summarise(runs)
    comparisons = []
    if zero and best:
        comparisons.append(compare(best, zero))
        for g in summary:
            if g["variant"] != "shift":
                comparisons.append(compare(g, zero))
    results = {
        "command": command,
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": machine(),
        "threads": args.threads,
        "jobs": args.jobs,
        "wall_seconds": round(time.time() - started, 1),
        "train_seconds_all_runs": round(sum(r["train_seconds"] for r in runs), 1),
        "model": args.model,
        "dataset": args.dataset,
        "model_kwargs": kwargs,
        "epochs": args.epochs,
        "train_limit": args.train_limit,
        "hist_range": list(HIST_RANGE),
        "best": best["label"] if best else None,
        "summary": summary,
        "comparisons": comparisons,
        "runs": runs,
    }
    (out / "results.json").write_text(json.dumps(results, indent=1))
    plots.accuracy_vs_shift(results, out / "accuracy_vs_shift.png")
    if zero and best:
        pick = {}
        for g in (zero, best):  # the seed-0 (first) run of each setting
            first = next(r for r in runs if r["label"] == g["label"])
            pick[g["label"]] = json.loads((Path(first["folder"]) / "metrics.json").read_text())
        plots.activation_distribution(results, pick, out / "activations.png")
    for g in summary:
        log(f"{g['label']:>28}: {100 * g['mean']:.2f} +- {100 * g['std']:.2f} %  (n={len(g['accuracies'])})")
    for c in comparisons:
        ci = c.get("paired_ci95") or c.get("welch_ci95")
        if ci:
            log(
                f"{c['a']} - {c['b']}: {100 * c['difference']:+.2f} pp, 95% CI [{100 * ci[0]:+.2f}, {100 * ci[1]:+.2f}]"
            )
    log_file.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, not {args.jobs}")
    command = "python flow/sweep.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    try:
        sweep(args, command)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
