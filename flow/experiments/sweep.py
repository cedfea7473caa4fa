"""The shift x seed experiment as functions (``flow/sweep.py`` is the CLI): train every run, summarise,
compare with 95 % intervals (Welch and paired by seed), write results.json and the plots.

Each run is ``flow.training.loop.train`` in its own folder ``OUTPUT/runs/<label>_<variant>_seed<k>``;
finished runs are reused, so an interrupted sweep resumes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from scipy import stats

from flow.experiments import plots
from flow.training.evaluation import HIST_RANGE
from flow.training.loop import TrainConfig, machine, train


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
