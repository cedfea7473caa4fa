"""The shift x seed experiment as functions (``flow/sweep.py`` is the CLI): train every run, summarise,
compare with 95 % intervals (Welch and paired by seed), write results.json and the plots.

Each run is ``flow.training.loop.train`` in its own folder ``OUTPUT/runs/<label>_<variant>_seed<k>``;
finished runs are reused, so an interrupted sweep resumes, but only when the run was trained with the
same result-deciding settings (``config_fingerprint``: epochs, lr, model arguments, ...): a folder
trained otherwise is an error (``force``: retrain it), never silently mixed into the new results.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import signal
import sys
import time
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path

from flow.core.files import write_json
from flow.core.provenance import provenance
from flow.experiments import plots
from flow.experiments.comparison import compare, summarise  # noqa: F401  (part of this module's API)
from flow.experiments.sweep_report import write_sweep_report
from flow.training.evaluation import HIST_RANGE
from flow.training.loop import TrainConfig, machine, train
from flow.training.recipe import config_fingerprint, fingerprint_difference


def _number(value: float) -> str:
    """``0.3`` -> "0.3"; six digits where they name the value exactly (the folder names of earlier
    sweeps), else the shortest text that reads back as this float: two shifts never share a label."""
    short = f"{value:g}"
    return short if float(short) == value else repr(float(value))


def shift_label(shift) -> str:
    if isinstance(shift, list):
        return "t=[" + ",".join(_number(v) for v in shift) + "]"
    return f"t={_number(shift)}"


def is_zero(shift) -> bool:
    return all(v == 0 for v in shift) if isinstance(shift, list) else shift == 0


def run_folder(out: Path, label: str, variant: str, seed: int) -> Path:
    folder = out / "runs" / f"{label.replace('=', '').replace(',', '_').strip('[]')}_{variant}_seed{seed}"
    return Path(str(folder).replace("[", "").replace("]", ""))


def run_config(base: TrainConfig, folder: Path, variant: str, shift, seed: int, force: bool) -> TrainConfig:
    kwargs = dict(base.model_kwargs)
    bn_bias = None
    if variant == "bn_bias":
        kwargs["shift"], bn_bias = 0.0, shift
    elif variant == "learnable":
        kwargs.update(shift=shift, learnable_shift=True, shift_mode="channel")
    else:
        kwargs["shift"] = shift
    return replace(base, model_kwargs=kwargs, seed=seed, bn_bias_init=bn_bias, output=str(folder), resume=not force)


def fingerprint_id(cfg: TrainConfig) -> str:
    return hashlib.sha256(json.dumps(config_fingerprint(cfg), sort_keys=True).encode()).hexdigest()[:12]


def reusable(folder: Path, cfg: TrainConfig, force: bool) -> bool:
    """True when ``folder`` holds a finished run of ``cfg``; raises ValueError when it holds a run trained
    with other settings (unless ``force``: then it is retrained)."""
    done = folder / "metrics.json"
    if not done.is_file():
        return False
    try:
        old = config_fingerprint(json.loads(done.read_text())["config"])
    except (ValueError, KeyError, TypeError):
        old = None
    change = "unreadable metrics.json" if old is None else fingerprint_difference(old, config_fingerprint(cfg))
    if change is None:
        return True
    if force:
        return False
    raise ValueError(f"{folder} was trained with other settings ({change}); another --output, or --force to retrain")


def check_reuse(base: TrainConfig, out: Path, specs: list[tuple], force: bool) -> None:
    """Before any training: every finished run in the way must match its new configuration."""
    for label, variant, shift, seed in specs:
        folder = run_folder(out, label, variant, seed)
        reusable(folder, run_config(base, folder, variant, shift, seed, force), force)


def run_one(base: TrainConfig, out: Path, label: str, variant: str, shift, seed: int, log, force=False) -> dict:
    folder = run_folder(out, label, variant, seed)
    cfg = run_config(base, folder, variant, shift, seed, force)
    if not reusable(folder, cfg, force):
        log(f"--- {variant} {label} seed {seed} -> {folder}")
        train(cfg, command=f"flow/sweep.py run {variant} {label} seed {seed}")
    metrics = json.loads((folder / "metrics.json").read_text())
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
        "fingerprint": fingerprint_id(cfg),
    }


class SweepError(ValueError):
    """A sweep that cannot go on (a training process died); the message is the one line shown."""


def _exit_quietly(signum, frame):
    """Unwind (finally blocks remove temp files) without a worker traceback; a second SIGTERM then ends
    the process at once instead of interrupting the unwinding."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise SystemExit(128 + signum)


def _quiet_unraisable(report) -> None:
    """The SystemExit of ``_exit_quietly`` raised inside a finalizer is reported as "Exception ignored
    in ..." with a traceback: expected on SIGTERM, so not printed; anything else is."""
    if not isinstance(report.exc_value, SystemExit):
        sys.__unraisablehook__(report)


def _worker_signals() -> None:
    """Workers: Ctrl-C is the parent's to handle (it stops the workers); SIGTERM from the parent unwinds
    the run so its temporary files are removed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_quietly)
    sys.unraisablehook = _quiet_unraisable


def _stop_workers(pool: ProcessPoolExecutor, grace_s: float = 30.0) -> None:
    """SIGTERM to every worker (each unwinds its run), SIGKILL to any still alive after ``grace_s``."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + grace_s
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()
    pool.shutdown(wait=False, cancel_futures=True)


def run_all(base: TrainConfig, out: Path, specs: list[tuple], jobs: int, log, force: bool = False) -> list[dict]:
    """``run_one`` for every ``(label, variant, shift, seed)``, ``jobs`` at a time, in ``specs`` order.

    The first failing run stops the others (no waiting for them, no hang when a worker dies: the
    executor reports a dead worker, unlike multiprocessing.Pool, whose task is then lost forever)."""
    check_reuse(base, out, specs, force)
    if jobs <= 1:
        return [run_one(base, out, *spec, log, force) for spec in specs]
    # spawn, not fork: each run starts with a clean CUDA context and its own torch thread pool
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_signals)
    finished = False
    try:
        pending = [pool.submit(run_one, base, out, *spec, print, force) for spec in specs]
        done, _ = wait(pending, return_when=FIRST_EXCEPTION)
        failed = [f.exception() for f in pending if f in done and f.exception() is not None]
        if failed and isinstance(failed[0], SystemExit):  # a worker terminated from outside
            raise SweepError("a training process of the sweep was terminated (SIGTERM from outside the sweep)")
        if failed:
            raise failed[0]
        runs = [future.result() for future in pending]
        finished = True
    except BrokenProcessPool:
        raise SweepError("a training process of the sweep died (killed by the system, e.g. out of memory?)") from None
    finally:
        if finished:
            pool.shutdown(wait=True)
        else:
            _stop_workers(pool)
    for r in runs:
        log(f"--- {r['label']} seed {r['seed']}: {100 * r['test_accuracy']:.2f} % ({r['folder']})")
    return runs


def base_config(args: argparse.Namespace) -> TrainConfig:
    """The sweep's arguments as the TrainConfig every run starts from (shift and seed set per run)."""
    kwargs = {"weight_scaling": args.weight_scaling, **args.model_kwargs}
    if args.width is not None:
        kwargs["width"] = args.width
    if args.hidden is not None:
        kwargs["hidden"] = args.hidden
    return TrainConfig(
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


def run_experiment(args: argparse.Namespace, base: TrainConfig, out: Path, log) -> tuple[list, list, dict, dict]:
    """Every shift x seed, then the control and the learnable t: ``(runs, summary, zero, best)``."""
    force = getattr(args, "force", False)
    specs = [(shift_label(t), "shift", t, seed) for t in args.shifts for seed in args.seeds]
    runs = run_all(base, out, specs, args.jobs, log, force)
    summary = summarise(runs)
    zero = next((g for g in summary if g["variant"] == "shift" and is_zero(g["shift"])), None)
    shifted = [g for g in summary if g["variant"] == "shift" and not is_zero(g["shift"])]
    best = max(shifted, key=lambda g: g["mean"]) if shifted else None
    if best is not None and args.control:
        control = [(best["label"], "bn_bias", best["shift"], s) for s in args.seeds]
        runs += run_all(base, out, control, args.jobs, log, force)
    if args.learnable:
        start = best if args.learnable_start == "best" and best is not None else None
        label, t0 = (start["label"], start["shift"]) if start else ("t=0", 0.0)
        runs += run_all(base, out, [(label, "learnable", t0, s) for s in args.seeds], args.jobs, log, force)
    return runs, summarise(runs), zero, best


def save_plot(draw, *args, path: Path) -> None:
    """Draw into a temporary PNG beside ``path``, then rename: never a half-written figure."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.png")
    try:
        draw(*args, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def interval_kind(comparisons: list[dict]) -> str:
    if any("paired_ci95" in c for c in comparisons):
        return "95 % intervals paired by seed (t on the per-seed differences); Welch's in results.json too"
    if any("welch_ci95" in c for c in comparisons):
        return "95 % Welch intervals (settings do not share seeds)"
    return "no interval (needs >= 2 seeds per setting)"


def report(results: dict, out: Path, runs: list, best: dict | None, plots_written: list[Path], log) -> None:
    """The console summary: every setting, each difference with its interval, and where the files are."""
    for g in results["summary"]:
        log(f"{g['label']:>28}: {100 * g['mean']:.2f} +- {100 * g['std']:.2f} %  (n={len(g['accuracies'])})")
    for c in results["comparisons"]:
        ci = c.get("paired_ci95") or c.get("welch_ci95")
        if ci:
            kind = "paired" if "paired_ci95" in c else "Welch"
            lo, hi = 100 * ci[0], 100 * ci[1]
            log(f"{c['a']} - {c['b']}: {100 * c['difference']:+.2f} pp, 95% CI ({kind}) [{lo:+.2f}, {hi:+.2f}]")
    log(f"results: {out / 'results.json'}")
    log(f"plots and page: {', '.join(str(p) for p in plots_written)}")
    if best is not None:
        top = max((r for r in runs if r["label"] == best["label"]), key=lambda r: r["test_accuracy"])
        checkpoint = Path(top["folder"]) / "checkpoint.pt"
        log(f"best setting {best['label']}: its best seed ({top['seed']}) is {checkpoint}")
    log(f"intervals: {interval_kind(results['comparisons'])}")


def sweep(args: argparse.Namespace, command: str) -> dict:
    out = Path(args.output)
    specs = [(shift_label(t), "shift", t, seed) for t in args.shifts for seed in args.seeds]
    check_reuse(base_config(args), out, specs, getattr(args, "force", False))  # before anything is written
    out.mkdir(parents=True, exist_ok=True)
    log_file = open(out / "sweep.log", "a")  # noqa: SIM115 - kept open for the whole sweep

    def log(msg: str) -> None:
        print(msg, flush=True)
        log_file.write(msg + "\n")
        log_file.flush()

    try:
        base = base_config(args)
        started, origin = time.time(), provenance()
        runs, summary, zero, best = run_experiment(args, base, out, log)
        comparisons = []
        if zero and best:
            comparisons.append(compare(best, zero))
            comparisons += [compare(g, zero) for g in summary if g["variant"] != "shift"]
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
            "model_kwargs": base.model_kwargs,
            "epochs": args.epochs,
            "train_limit": args.train_limit,
            "hist_range": list(HIST_RANGE),
            "best": best["label"] if best else None,
            "summary": summary,
            "comparisons": comparisons,
            "runs": runs,
            "provenance": origin,
        }
        write_json(out / "results.json", results)
        written = [out / "accuracy_vs_shift.png"]
        save_plot(plots.accuracy_vs_shift, results, path=written[0])
        if zero and best:
            pick = {}
            for g in (zero, best):  # the seed-0 (first) run of each setting
                first = next(r for r in runs if r["label"] == g["label"])
                pick[g["label"]] = json.loads((Path(first["folder"]) / "metrics.json").read_text())
            written.append(out / "activations.png")
            save_plot(plots.activation_distribution, results, pick, path=written[1])
        written.append(write_sweep_report(out, results))
        report(results, out, runs, best, written, log)
    finally:
        log_file.close()
    return results
