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
from flow.experiments.comparison import compare, summarise
from flow.experiments.sweep_report import write_sweep_report
from flow.experiments.verdict import best_run, choose_best, interval_kind, sentence
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
    elif variant == "learnable":  # per channel unless the sweep's --shift-mode says otherwise
        kwargs.update(shift=shift, learnable_shift=True, shift_mode=kwargs.get("shift_mode", "channel"))
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
    hint = "another --output, or --force to retrain"
    if change.startswith("val_split 0.0 ->"):  # a sweep from before the validation split
        hint = "--val-split 0 reuses them (trained on every training image, chosen on test), " + hint
    raise ValueError(f"{folder} was trained with other settings ({change}); {hint}")


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
        "val_accuracy": metrics.get("val_accuracy"),  # None: trained without a validation split
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


def log_to_stderr(message: str) -> None:
    """Progress of a pool worker (stderr: the sweep's results go to stdout)."""
    print(message, file=sys.stderr, flush=True)


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
        pending = [pool.submit(run_one, base, out, *spec, log_to_stderr, force) for spec in specs]
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
    return TrainConfig(
        model=args.model,
        dataset=args.dataset,
        data_dir=args.data_dir,
        image_size=args.image_size,
        model_kwargs=sweep_kwargs(args),
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        augment_pad=args.augment_pad,
        weight_decay=args.weight_decay,
        train_limit=args.train_limit,
        threads=args.threads,
        workers=args.workers,
        val_split=args.val_split,
        progress=args.progress,
        device=args.device,
        bf16=args.bf16,
    )


def sweep_kwargs(args: argparse.Namespace) -> dict:
    """The model arguments every run shares (shift set per run). Only what the user gave is added, so a
    run folder of an older sweep keeps its fingerprint."""
    kwargs = {"weight_scaling": args.weight_scaling, **args.model_kwargs}
    for key in ("width", "hidden", "shift_mode"):
        if getattr(args, key, None) is not None:
            kwargs[key] = getattr(args, key)
    return kwargs


def run_experiment(
    args: argparse.Namespace, base: TrainConfig, out: Path, log
) -> tuple[list, dict | None, dict | None]:
    """Every shift x seed, then the control and the learnable t at the best fixed shift (chosen on
    validation accuracy, t = 0 included): ``(runs, t = 0's summary row, the best fixed shift's)``."""
    force = getattr(args, "force", False)
    specs = [(shift_label(t), "shift", t, seed) for t in args.shifts for seed in args.seeds]
    runs = run_all(base, out, specs, args.jobs, log, force)
    summary = summarise(runs)
    zero = next((g for g in summary if g["variant"] == "shift" and is_zero(g["shift"])), None)
    best_shift, _ = choose_best([g for g in summary if g["variant"] == "shift"])
    if args.shift_as_bn_bias:
        if best_shift is None or is_zero(best_shift["shift"]):
            log("note: the best fixed shift is t=0: the control (t=0, BatchNorm bias -t) would be t=0 itself; skipped")
        else:
            control = [(best_shift["label"], "bn_bias", best_shift["shift"], s) for s in args.seeds]
            runs += run_all(base, out, control, args.jobs, log, force)
    if args.learnable_shift:
        start = best_shift if args.learnable_start == "best" and best_shift is not None else None
        label, t0 = (start["label"], start["shift"]) if start else ("t=0", 0.0)
        runs += run_all(base, out, [(label, "learnable", t0, s) for s in args.seeds], args.jobs, log, force)
    return runs, zero, best_shift


def save_plot(draw, *args, path: Path) -> None:
    """Draw into a temporary PNG beside ``path``, then rename: never a half-written figure."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.png")
    try:
        draw(*args, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def verdict(summary: list[dict], runs: list[dict], zero: dict | None) -> dict:
    """Every setting against t = 0 (one sentence each), and the best setting, chosen on validation
    accuracy among all settings, t = 0 included, with the run (seed) whose checkpoint to use."""
    zero = next((g for g in summary if zero is not None and g["label"] == zero["label"]), None)
    comparisons = [compare(g, zero) for g in summary if zero is not None and g is not zero]
    for c in comparisons:
        c["sentence"] = sentence(c)
    best, chosen_on = choose_best(summary)
    top = best_run(runs, best["label"], chosen_on) if best else None
    return {
        "best": best["label"] if best else None,
        "best_chosen_on": chosen_on,
        "best_checkpoint": str(Path(top["folder"]) / "checkpoint.pt") if top else None,
        "best_seed": top["seed"] if top else None,
        "comparisons": comparisons,
    }


def report(results: dict, say) -> None:
    """The answer on stdout: every setting, one sentence per comparison with t = 0, the best setting."""
    on_val = results["best_chosen_on"] == "validation"
    for g in results["summary"]:
        val = f", validation {100 * g['val_mean']:.2f} %" if g.get("val_mean") is not None else ""
        say(f"{g['label']:>28}: test {100 * g['mean']:.2f} +- {100 * g['std']:.2f} %{val}  (n={len(g['accuracies'])})")
    for c in results["comparisons"]:
        say(c["sentence"])
    if results["best"] is not None:
        how = "validation accuracy" if on_val else "TEST accuracy (no --val-split: biased upwards)"
        say(f"best setting (on {how}, t=0 included): {results['best']}; its best seed ({results['best_seed']}): "
            f"{results['best_checkpoint']}")  # fmt: skip
    say(f"intervals: {interval_kind(results['comparisons'])}")


def plot_pair(summary: list[dict], zero: dict | None, best: str | None) -> list[dict]:
    """The two settings activations.png compares: t = 0 and the best other setting (by validation)."""
    if zero is None:
        return []
    zero = next(g for g in summary if g["label"] == zero["label"])
    others = [g for g in summary if g is not zero]
    other = next((g for g in others if g["label"] == best), None) or choose_best(others)[0]
    return [zero, other] if other is not None else []


def write_figures(out: Path, results: dict, zero: dict | None) -> list[Path]:
    """accuracy_vs_shift.png, and activations.png for t = 0 against the best setting (each from its
    first seed's run) when there is such a pair."""
    written = [out / "accuracy_vs_shift.png"]
    save_plot(plots.accuracy_vs_shift, results, path=written[0])
    pair = plot_pair(results["summary"], zero, results["best"])
    if pair:
        pick = {}
        for g in pair:
            first = next(r for r in results["runs"] if r["label"] == g["label"])
            pick[g["label"]] = json.loads((Path(first["folder"]) / "metrics.json").read_text())
        written.append(out / "activations.png")
        save_plot(plots.activation_distribution, results, pick, path=written[1])
    return written


def sweep(args: argparse.Namespace, command: str) -> dict:
    """Train every run, then results.json, the plots and the answer. Results go to stdout, progress to
    stderr, both to OUTPUT/sweep.log."""
    out = Path(args.output)
    specs = [(shift_label(t), "shift", t, seed) for t in args.shifts for seed in args.seeds]
    check_reuse(base_config(args), out, specs, getattr(args, "force", False))  # before anything is written
    out.mkdir(parents=True, exist_ok=True)
    log_file = open(out / "sweep.log", "a")  # noqa: SIM115 - kept open for the whole sweep

    def write(msg: str, stream) -> None:
        print(msg, file=stream, flush=True)
        log_file.write(msg + "\n")
        log_file.flush()

    def log(msg: str) -> None:
        write(msg, sys.stderr)

    def say(msg: str) -> None:
        write(msg, sys.stdout)

    try:
        base = base_config(args)
        started, origin = time.time(), provenance()
        runs, zero, best_shift = run_experiment(args, base, out, log)
        summary = summarise(runs)
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
            "val_split": args.val_split,
            "hist_range": list(HIST_RANGE),
            "best_shift": best_shift["label"] if best_shift else None,  # where the control / learnable t sit
            **verdict(summary, runs, zero),
            "summary": summary,
            "runs": runs,
            "provenance": origin,
        }
        write_json(out / "results.json", results)
        written = [*write_figures(out, results, zero), write_sweep_report(out, results)]
        report(results, say)
        say(f"results: {out / 'results.json'}; plots and page: {', '.join(str(p) for p in written)}")
    finally:
        log_file.close()
    return results
