"""PNG figures of a shift sweep (matplotlib, Agg backend): accuracy vs shift, and activation balance."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def accuracy_vs_shift(results: dict, path: Path) -> None:
    """Mean test accuracy +- std over seeds for every setting, t=0 first; dots are single seeds."""
    groups = results["summary"]
    fig, ax = plt.subplots(figsize=(max(5, 0.9 * len(groups) + 2), 3.6))
    colors = {"shift": "C0", "bn_bias": "C1", "learnable": "C2"}
    for i, g in enumerate(groups):
        c = colors.get(g["variant"], "C3")
        ax.errorbar(i, 100 * g["mean"], yerr=100 * g["std"], fmt="o", color=c, capsize=4)
        ax.plot([i] * len(g["accuracies"]), [100 * a for a in g["accuracies"]], ".", color=c, alpha=0.4)
    ax.set_xticks(range(len(groups)), [g["label"] for g in groups], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"{results['model']} on {results['dataset']}: mean ± std over seeds", fontsize=9)
    for variant, c in colors.items():
        if any(g["variant"] == variant for g in groups):
            ax.plot(
                [],
                [],
                "o",
                color=c,
                label={
                    "shift": "shift t",
                    "bn_bias": "t=0, BN bias=-t (control)",
                    "learnable": "learnable t",
                }[variant],
            )
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def activation_distribution(results: dict, runs: dict[str, dict], path: Path) -> None:
    """The paper's central figure: per layer, the +1 fraction of the binary activations for t=0 vs the best t.

    ``runs`` maps a label to one run's metrics (its ``layers`` rows). Top: overall +1 fraction per layer;
    below: per layer, the histogram over channels of the channel's +1 fraction, and the histogram of the
    pre-activation ``x`` with each threshold marked.
    """
    labels = list(runs)
    layers = [r["layer"] for r in runs[labels[0]]["layers"]]
    n = len(layers)
    fig = plt.figure(figsize=(max(8, 2.6 * n), 7.5))
    grid = fig.add_gridspec(3, n)
    ax = fig.add_subplot(grid[0, :])
    width = 0.8 / len(labels)
    for k, label in enumerate(labels):
        fr = [r["plus_fraction"] for r in runs[label]["layers"]]
        ax.bar(np.arange(n) + k * width, fr, width, label=label)
    ax.axhline(0.5, color="k", lw=0.7, ls="--")
    ax.set_xticks(np.arange(n) + width * (len(labels) - 1) / 2, layers, fontsize=8)
    ax.set_ylabel("fraction of +1")
    ax.set_title(f"{results['model']} on {results['dataset']} (test set): binary activation balance", fontsize=9)
    ax.legend(fontsize=8)
    lo, hi = results.get("hist_range", (-4.0, 4.0))
    for j, layer in enumerate(layers):
        axc = fig.add_subplot(grid[1, j])
        axh = fig.add_subplot(grid[2, j])
        for k, label in enumerate(labels):
            row = runs[label]["layers"][j]
            axc.hist(row["channel_plus_fraction"], bins=20, range=(0, 1), alpha=0.5, color=f"C{k}")
            hist = np.asarray(row["input_hist"])
            edges = np.linspace(lo, hi, len(hist) + 1)
            axh.stairs(hist / max(1.0, hist.sum()), edges, color=f"C{k}")
            axh.axvline(row["shift_mean"], color=f"C{k}", ls="--", lw=0.8)
        axc.set_title(layer, fontsize=8)
        axc.set_xlabel("+1 fraction per channel", fontsize=7)
        axh.set_xlabel("pre-activation x (dashed: t)", fontsize=7)
        axc.tick_params(labelsize=6)
        axh.tick_params(labelsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
