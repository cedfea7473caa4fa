"""The sweep's verdict: for each setting against t = 0 (its 95 % interval of the difference from
flow/experiments/comparison.py: paired by seed where the settings share seeds, else Welch's) the plain
sentence that says what the interval means, and the best setting chosen on validation accuracy.

Why validation: the best of k settings picked on the test set is biased upwards (the winner's noise is
part of its lead); picked on images held out of the training split, its test accuracy and its
difference to t = 0 stay honest estimates. Without a validation split (``--val-split 0``) the choice
falls back to the test set and every line that reports it says so.
"""

from __future__ import annotations


def sentence(c: dict) -> str:
    """One comparison in words: "t=0.8 beats t=0 by +2.40 pp, 95 % CI [+0.70, +4.00] (paired by seed):
    significant with 8 seeds", or "... no evidence of a difference with 3 seeds"."""
    a, b, d = c["a"], c["b"], 100 * c["difference"]
    ci = c.get("paired_ci95") or c.get("welch_ci95")
    if ci is None:
        return f"{a} vs {b}: {d:+.2f} pp with {min(c['n'])} seed(s) per setting: no interval (needs >= 2 seeds)"
    kind = "paired by seed" if "paired_ci95" in c else "Welch"
    seeds = f"{c['n'][0]} seeds" if "paired_ci95" in c else f"{c['n'][0]} + {c['n'][1]} seeds"
    interval = f"95 % CI [{100 * ci[0]:+.2f}, {100 * ci[1]:+.2f}] ({kind})"
    if ci[0] > 0:
        return f"{a} beats {b} by {d:+.2f} pp, {interval}: significant with {seeds}"
    if ci[1] < 0:
        return f"{a} is worse than {b} by {d:+.2f} pp, {interval}: significant with {seeds}"
    return f"{a} vs {b}: {d:+.2f} pp, {interval}: no evidence of a difference with {seeds}"


def choose_best(rows: list[dict]) -> tuple[dict | None, str]:
    """The setting with the highest mean validation accuracy, every setting t = 0 included, and what
    it was chosen on ("validation", or "test" where some run has no validation split)."""
    if not rows:
        return None, "validation"
    if all(g["val_mean"] is not None for g in rows):
        return max(rows, key=lambda g: g["val_mean"]), "validation"
    return max(rows, key=lambda g: g["mean"]), "test"


def best_run(runs: list[dict], label: str, chosen_on: str) -> dict:
    """The run (seed) of a setting to deploy: the highest validation accuracy (test where there is none)."""
    key = "val_accuracy" if chosen_on == "validation" else "test_accuracy"
    return max((r for r in runs if r["label"] == label), key=lambda r: r[key])


def interval_kind(comparisons: list[dict]) -> str:
    if any("paired_ci95" in c for c in comparisons):
        return "95 % intervals paired by seed (t on the per-seed differences); Welch's in results.json too"
    if any("welch_ci95" in c for c in comparisons):
        return "95 % Welch intervals (settings do not share seeds)"
    return "no interval (needs >= 2 seeds per setting)"
