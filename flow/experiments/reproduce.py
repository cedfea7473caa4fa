"""Does a committed result come back on today's code? Re-run a results folder's training runs and compare.

A run is reproduced from what its metrics.json recorded: the complete ``TrainConfig`` the run was
trained with (a sweep's run records its own, so ``flow/sweep.py``'s one command need not be replayed
whole), on as many torch threads as it used (the float reductions depend on them), in a fresh process
with a time limit, into a temporary folder that is removed afterwards. Per run the verdict is

- ``bit-identical``: test accuracy, test loss and every epoch's losses and accuracies equal exactly (and
  the saved weights' SHA-256, where the run recorded one);
- ``drifted``: by how much (test accuracy in pp, the largest per-epoch loss difference);
- ``failed``: the run could not be trained (the recorded config names an option today's code lacks, an
  error, the time limit); ``skipped``: it cannot run here (a CUDA run on a machine without CUDA).

For a sweep folder (results.json) every comparison of the folder (e.g. t=0.8 - t=0) is recomputed with
the re-run runs' accuracies in place of the recorded ones: does its interval still exclude 0?
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from dataclasses import fields
from pathlib import Path

from flow.core import proc
from flow.core.files import REPO
from flow.experiments.comparison import compare, summarise
from flow.training.recipe import TrainConfig

HISTORY_KEYS = ("train_loss", "train_accuracy", "test_accuracy", "test_loss")
MIN_TIMEOUT_S, SLOWDOWN = 1800.0, 30.0  # measured: a shared CPU at load 30 trained 15x slower than recorded


def find_runs(folder: Path) -> list[Path]:
    """The run folders (each with metrics.json): the folder itself, or a sweep's ``runs/*``."""
    if (folder / "metrics.json").is_file():
        return [folder]
    return sorted(p.parent for p in (folder / "runs").glob("*/metrics.json"))


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not readable JSON ({type(exc).__name__})") from None


def setting_of(metrics: dict) -> tuple[str, int]:
    """(setting, seed) of a run: its folder name without the seed (``t0.8_shift``) and its seed."""
    out = Path(metrics["config"]["output"]).name
    seed = metrics["config"].get("seed", 0)
    return out.removesuffix(f"_seed{seed}"), seed


def pick_runs(runs: list[Path], k: int | None) -> list[Path]:
    """``k`` runs spread over the settings, seed by seed (the first two: one seed of two settings, a
    pair for the paired comparison); all of them when ``k`` is None."""
    if k is None or k >= len(runs):
        return runs
    by_setting: dict[str, list[tuple[int, Path]]] = {}
    for path in runs:
        setting, seed = setting_of(read_json(path / "metrics.json"))
        by_setting.setdefault(setting, []).append((seed, path))
    queues = [sorted(v) for _, v in sorted(by_setting.items())]
    order = [q[i][1] for i in range(max(map(len, queues))) for q in queues if i < len(q)]
    return order[:k]


def config_of(metrics: dict, output: Path) -> TrainConfig:
    """The recorded TrainConfig, writing to ``output`` from scratch; ValueError if today's code lacks a field."""
    recorded = dict(metrics["config"])
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(recorded) - known)
    if unknown:
        raise ValueError(f"the recorded config has options today's TrainConfig lacks: {', '.join(unknown)}")
    if recorded.get("threads") is None:  # "all cores" then: the number it actually used
        recorded["threads"] = metrics.get("threads")
    return TrainConfig(**{**recorded, "output": str(output), "resume": False, "progress": False})


def difference(old: dict, new: dict) -> dict:
    """How far a re-run is from the recorded run; ``identical`` only when every number is equal."""
    hist_old, hist_new = old.get("history", []), new.get("history", [])
    same_hist = len(hist_old) == len(hist_new) and all(
        a.get(key) == b.get(key) for a, b in zip(hist_old, hist_new, strict=False) for key in HISTORY_KEYS
    )
    digests = old.get("weights_sha256"), new.get("weights_sha256")
    same_weights = None if None in digests else digests[0] == digests[1]
    loss_gaps = [
        abs(a[key] - b[key])
        for a, b in zip(hist_old, hist_new, strict=False)
        for key in ("train_loss", "test_loss")
        if a.get(key) is not None and b.get(key) is not None
    ]
    first = next(
        (a.get("epoch", i + 1) for i, (a, b) in enumerate(zip(hist_old, hist_new, strict=False))
         if any(a.get(k) != b.get(k) for k in HISTORY_KEYS)),
        None,
    )  # fmt: skip
    identical = (
        old["test_accuracy"] == new["test_accuracy"]
        and old.get("test_loss") == new.get("test_loss")
        and same_hist
        and same_weights is not False
    )
    return {
        "identical": identical,
        "test_accuracy_pp": round(100 * (new["test_accuracy"] - old["test_accuracy"]), 4),
        "max_epoch_loss_difference": max(loss_gaps, default=0.0),
        "epochs_compared": min(len(hist_old), len(hist_new)),
        "first_differing_epoch": first,
        "same_weights": same_weights,
    }


def needs_cuda(cfg: TrainConfig) -> bool:
    return cfg.device.startswith("cuda")


def cuda_here() -> bool:
    import torch

    return torch.cuda.is_available()


def time_limit(metrics: dict) -> float:
    trained = sum(h.get("seconds", 0.0) for h in metrics.get("history", []))
    return proc.scaled_timeout(max(MIN_TIMEOUT_S, SLOWDOWN * trained))


def rerun(run: Path, work: Path) -> dict:
    """Re-train one recorded run in a fresh process (``retrain`` below, through ``python -m``)."""
    metrics = read_json(run / "metrics.json")
    entry = {"run": str(run), "recorded_test_accuracy": metrics["test_accuracy"]}
    entry["recorded_provenance"] = metrics.get("provenance")
    try:
        cfg = config_of(metrics, work)
    except (ValueError, TypeError) as exc:
        return {**entry, "status": "failed", "reason": str(exc)}
    if needs_cuda(cfg) and not cuda_here():
        return {**entry, "status": "skipped", "reason": f"trained on {cfg.device}; no CUDA device here"}
    cmd = [sys.executable, "-m", "flow.experiments.reproduce", str((run / "metrics.json").resolve()), str(work)]
    started = time.time()
    try:
        done = proc.run(cmd, f"re-training {run}", time_limit(metrics), cwd=REPO, capture_output=True, text=True)
    except proc.ProcessTimeout as exc:
        return {**entry, "status": "failed", "reason": str(exc), "seconds": round(time.time() - started, 1)}
    seconds = round(time.time() - started, 1)
    if done.returncode != 0 or not (work / "metrics.json").is_file():
        tail = (done.stderr or done.stdout or "").strip().splitlines()[-1:] or ["no output"]
        return {**entry, "status": "failed", "reason": f"exit {done.returncode}: {tail[0]}", "seconds": seconds}
    new = read_json(work / "metrics.json")
    diff = difference(metrics, new)
    status = "bit-identical" if diff["identical"] else "drifted"
    return {**entry, "status": status, "test_accuracy": new["test_accuracy"], **diff, "seconds": seconds,
            "history": new.get("history"), "weights_sha256": new.get("weights_sha256"),
            "cpu_note": cpu_note(metrics, new), "provenance": new.get("provenance")}  # fmt: skip


def cpu_note(old: dict, new: dict) -> str | None:
    """Why bit-identity cannot be expected: the runs' CPUs use other vector kernels (or it is unrecorded)."""
    before = ((old.get("provenance") or {}).get("cpu") or {}).get("isa")
    now = ((new.get("provenance") or {}).get("cpu") or {}).get("isa")
    if before is None:
        return f"the recorded run did not record its CPU; this one ran on {', '.join(now or ['?'])}"
    return None if before == now else f"recorded on {', '.join(before)}, re-run on {', '.join(now or ['?'])}"


def recheck_comparisons(results: dict, reruns: list[dict]) -> list[dict]:
    """The folder's comparisons with each re-run run's new accuracy in place of the recorded one."""
    new_acc = {Path(r["run"]).name: r["test_accuracy"] for r in reruns if "test_accuracy" in r}
    runs = [{**r, "test_accuracy": new_acc.get(Path(r["folder"]).name, r["test_accuracy"])} for r in results["runs"]]
    summary = {g["label"]: g for g in summarise(runs)}
    rows = []
    for c in results.get("comparisons", []):
        if c["a"] not in summary or c["b"] not in summary:
            continue
        now = compare(summary[c["a"]], summary[c["b"]])
        key = "paired_ci95" if "paired_ci95" in c else "welch_ci95"
        rows.append(
            {
                "comparison": f"{c['a']} - {c['b']}",
                "interval": key,
                "recorded_difference": c["difference"],
                "recorded_ci95": c.get(key),
                "recorded_excludes_zero": c.get(key.replace("ci95", "excludes_zero")),
                "difference": now["difference"],
                "ci95": now.get(key),
                "excludes_zero": now.get(key.replace("ci95", "excludes_zero")),
            }
        )
    return rows


def reproduce(folder: Path, k: int | None, log=print) -> dict:
    """Re-run ``k`` of ``folder``'s runs (all when None); the report as a dict (not yet written)."""
    runs = find_runs(folder)
    if not runs:
        raise ValueError(f"{folder} holds no metrics.json (neither a run folder nor a sweep with runs/)")
    chosen = pick_runs(runs, k)
    started = time.time()
    reruns = []
    with tempfile.TemporaryDirectory(prefix="shiftbnn-reproduce-") as tmp:
        for i, run in enumerate(chosen):
            log(f"[{i + 1}/{len(chosen)}] {run}")
            entry = rerun(run, Path(tmp) / f"run{i}")
            shutil.rmtree(Path(tmp) / f"run{i}", ignore_errors=True)
            log(f"    {verdict_line(entry)}")
            reruns.append(entry)
    report = {"folder": str(folder), "runs_in_folder": len(runs), "runs_rerun": len(chosen), "reruns": reruns}
    if (folder / "results.json").is_file():
        results = read_json(folder / "results.json")
        report["recorded_command"] = results.get("command")
        if any("test_accuracy" in r for r in reruns):  # nothing re-trained: nothing to recompute
            report["comparisons"] = recheck_comparisons(results, reruns)
    report["wall_seconds"] = round(time.time() - started, 1)
    return report


def verdict_line(entry: dict) -> str:
    if entry["status"] in ("failed", "skipped"):
        return f"{entry['status']}: {entry['reason']}"
    acc = f"{100 * entry['recorded_test_accuracy']:.2f} % -> {100 * entry['test_accuracy']:.2f} %"
    if entry["status"] == "bit-identical":
        return f"bit-identical ({acc}, {entry['epochs_compared']} epochs, {entry['seconds']:.0f} s)"
    note = f"; {entry['cpu_note']}" if entry.get("cpu_note") else ""
    since = f" from epoch {entry['first_differing_epoch']}" if entry.get("first_differing_epoch") else ""
    return (
        f"drifted{since}: {acc} ({entry['test_accuracy_pp']:+.2f} pp; "
        f"largest epoch-loss difference {entry['max_epoch_loss_difference']:.2e}; {entry['seconds']:.0f} s{note})"
    )


def ci_text(ci: list | None) -> str:
    return "(none)" if not ci else f"[{100 * ci[0]:+.2f}, {100 * ci[1]:+.2f}]"


def markdown(report: dict) -> str:
    """reproduce.md: the verdict per run and per comparison."""
    lines = [
        f"# Reproduction of `{report['folder']}`",
        "",
        f"`{report['command']}`  ",
        f"{report['date']}, commit {report['commit']}, {report['machine']}; "
        f"{report['runs_rerun']} of {report['runs_in_folder']} runs re-run, {report['wall_seconds'] / 60:.1f} min",
        "",
        "| run | verdict |",
        "|---|---|",
    ]
    lines += [f"| `{Path(r['run']).name}` | {verdict_line(r)} |" for r in report["reruns"]]
    if report.get("comparisons"):
        rerun_all = report["runs_rerun"] == report["runs_in_folder"]
        lines += [
            "",
            "Comparisons with the re-run runs' accuracies in place of the recorded ones"
            + ("" if rerun_all else " (the other runs as recorded)")
            + ":",
            "",
            "| comparison | recorded | now | interval excludes 0 (recorded -> now) |",
            "|---|---|---|---|",
        ]
        for c in report["comparisons"]:
            kind = "paired" if c["interval"] == "paired_ci95" else "Welch"
            lines.append(
                f"| {c['comparison']} | {100 * c['recorded_difference']:+.2f} pp {ci_text(c['recorded_ci95'])} "
                f"| {100 * c['difference']:+.2f} pp {ci_text(c['ci95'])} | {kind}: "
                f"{yes_no(c['recorded_excludes_zero'])} -> {yes_no(c['excludes_zero'])} |"
            )
    return "\n".join(lines) + "\n"


def yes_no(value) -> str:
    return {True: "yes", False: "no"}.get(value, "n/a")


def counts(report: dict) -> dict:
    found: dict[str, int] = {}
    for r in report["reruns"]:
        found[r["status"]] = found.get(r["status"], 0) + 1
    return found


def retrain(metrics_path: str, output: str) -> int:
    """The child process: train the run recorded in ``metrics_path`` into ``output``."""
    from flow.core import cli

    cli.quiet_library_warnings()
    from flow.training.loop import train

    metrics = read_json(Path(metrics_path))
    train(config_of(metrics, Path(output)), command=metrics.get("command", ""))
    return 0


if __name__ == "__main__":
    sys.exit(retrain(*sys.argv[1:3]))
