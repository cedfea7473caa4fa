"""The statistics of a shift sweep: mean +- std per setting, and a difference with its 95 % intervals.

Pure functions over the ``runs`` of a results.json (no torch): flow/experiments/shift_sweep.py writes
them, the tables (bench/tables.py), flow/reproduce.py, the persistence plot and the sweep's verdict
(flow/experiments/verdict.py) read them.
"""

from __future__ import annotations

import statistics

from scipy import stats


def summarise(runs: list[dict]) -> list[dict]:
    """One row per setting (label): its seeds, test accuracies, mean, std and mean validation accuracy
    (None where a run has none: trained before the validation split, or with ``--val-split 0``)."""
    groups: dict[str, list[dict]] = {}
    for r in runs:
        groups.setdefault(r["label"], []).append(r)
    rows = []
    for label, members in groups.items():
        members = sorted(members, key=lambda m: m["seed"])
        acc = [m["test_accuracy"] for m in members]
        val = [m.get("val_accuracy") for m in members]
        rows.append(
            {
                "label": label,
                "variant": members[0]["variant"],
                "shift": members[0]["shift"],
                "seeds": [m["seed"] for m in members],
                "accuracies": acc,
                "mean": statistics.fmean(acc),
                "std": statistics.stdev(acc) if len(acc) > 1 else 0.0,
                "val_mean": statistics.fmean(val) if None not in val else None,
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
