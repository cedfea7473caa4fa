"""PNG figures of a shift sweep (matplotlib, Agg backend): accuracy vs shift, and activation balance."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

COLORS = {"shift": "C0", "bn_bias": "C1", "learnable": "C2"}
VARIANT_LABELS = {"shift": "shift t", "bn_bias": "t=0, BN bias=-t (control)", "learnable": "learnable t"}
OFFSETS = {"shift": 0.0, "bn_bias": -1.0, "learnable": 1.0}  # side by side at the same t (x 2 % of the range)


def _seeds_and_mean(ax, x: float, g: dict) -> None:
    c = COLORS.get(g["variant"], "C3")
    ax.errorbar(x, 100 * g["mean"], yerr=100 * g["std"], fmt="o", color=c, capsize=4)
    ax.plot([x] * len(g["accuracies"]), [100 * a for a in g["accuracies"]], ".", color=c, alpha=0.4)


def accuracy_vs_shift(results: dict, path: Path) -> None:
    """Mean test accuracy +- std over seeds (dots: single seeds) against the shift t on a numeric axis;
    the control and learnable variants sit just beside their t. Per-layer shift lists (``t=[0.8,0,0]``)
    have no place on that axis: they get their own panel, one marker each."""
    groups = results["summary"]
    scalar = [g for g in groups if not isinstance(g["shift"], list)]
    lists = [g for g in groups if isinstance(g["shift"], list)]
    ts = [float(g["shift"]) for g in scalar] or [0.0]
    span = max(max(ts) - min(ts), 1.0)
    ratios = [3, max(1, len(lists)) * 0.6] if lists else [1]
    fig, axes = plt.subplots(1, len(ratios), figsize=(7.5 + 0.6 * len(lists), 3.8), sharey=True,
                             gridspec_kw={"width_ratios": ratios}, squeeze=False)  # fmt: skip
    ax = axes[0, 0]
    line = sorted((float(g["shift"]), 100 * g["mean"]) for g in scalar if g["variant"] == "shift")
    if line:
        ax.plot(*zip(*line, strict=True), "-", color=COLORS["shift"], alpha=0.5, lw=1)
    for g in scalar:
        _seeds_and_mean(ax, float(g["shift"]) + 0.02 * span * OFFSETS.get(g["variant"], 0.0), g)
    ax.set_xlabel("threshold shift t")
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3)
    if lists:
        axl = axes[0, 1]
        for i, g in enumerate(lists):
            _seeds_and_mean(axl, i, g)
        axl.set_xticks(range(len(lists)), [g["label"] for g in lists], rotation=30, ha="right", fontsize=8)
        axl.set_xlim(-0.7, len(lists) - 0.3)
        axl.set_xlabel("per-layer t")
        axl.grid(alpha=0.3)
    for variant, c in COLORS.items():
        if any(g["variant"] == variant for g in groups):
            ax.plot([], [], "o", color=c, label=VARIANT_LABELS[variant])
    ax.legend(fontsize=7, loc="best")
    fig.suptitle(f"{results['model']} on {results['dataset']}: mean ± std over seeds", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def activation_distribution(results: dict, runs: dict[str, dict], path: Path, max_columns: int = 5) -> None:
    """``activation_figure`` saved as a PNG."""
    fig = activation_figure(results, runs, max_columns)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def activation_figure(results: dict, runs: dict[str, dict], max_columns: int = 5):
    """The paper's central figure: per layer, the +1 fraction of the binary activations for t=0 vs the best t.

    ``runs`` maps a label to one run's metrics (its ``layers`` rows). Top: overall +1 fraction per layer;
    below, per layer (at most ``max_columns`` layers per row, more rows for deeper networks): the
    histogram over channels of the channel's +1 fraction, and the histogram of the pre-activation ``x``
    with each run's threshold t dashed. One legend for the whole figure just above the top panel, and
    the title above the legend (placed after the legend is laid out, so that neither covers the other
    however narrow a small network makes the figure).
    """
    labels = list(runs)
    layers = [r["layer"] for r in runs[labels[0]]["layers"]]
    n = len(layers)
    blocks = -(-n // max_columns)  # rows of layers, as even as possible (7 layers: 4 + 3)
    cols = -(-n // blocks)
    fig = plt.figure(figsize=(2.7 * cols + 0.8, 2.6 + 4.4 * blocks))
    grid = fig.add_gridspec(1 + 2 * blocks, cols, height_ratios=[1.2] + [1, 1] * blocks, hspace=0.6, wspace=0.35)
    ax = fig.add_subplot(grid[0, :])
    width = 0.8 / len(labels)
    for k, label in enumerate(labels):
        fr = [r["plus_fraction"] for r in runs[label]["layers"]]
        ax.bar(np.arange(n) + k * width, fr, width, label=label, color=f"C{k}")
    ax.axhline(0.5, color="k", lw=0.7, ls="--")
    ax.set_xticks(np.arange(n) + width * (len(labels) - 1) / 2, layers, fontsize=8, rotation=30 if n > 8 else 0)
    ax.set_ylabel("fraction of +1")
    ax.set_ylim(0, 1)
    lo, hi = results.get("hist_range", (-4.0, 4.0))
    for j, layer in enumerate(layers):
        block, col = divmod(j, cols)
        axc = fig.add_subplot(grid[1 + 2 * block, col])
        axh = fig.add_subplot(grid[2 + 2 * block, col])
        for k, label in enumerate(labels):
            row = runs[label]["layers"][j]
            axc.hist(row["channel_plus_fraction"], bins=20, range=(0, 1), alpha=0.5, color=f"C{k}")
            hist = np.asarray(row["input_hist"])
            edges = np.linspace(lo, hi, len(hist) + 1)
            axh.stairs(hist / max(1.0, hist.sum()), edges, color=f"C{k}")
            axh.axvline(row["shift_mean"], color=f"C{k}", ls="--", lw=0.8)
        axc.set_title(layer, fontsize=8)
        axc.set_xlabel("+1 fraction of a channel", fontsize=7)
        axh.set_xlabel("pre-activation x", fontsize=7)
        if col == 0:
            axc.set_ylabel("channels", fontsize=7)
            axh.set_ylabel("share of values", fontsize=7)
        axc.tick_params(labelsize=6)
        axh.tick_params(labelsize=6)
    handles, names = ax.get_legend_handles_labels()
    handles.append(plt.Line2D([], [], color="gray", ls="--", lw=0.8))
    names.append("threshold t (dashed)")
    per_row = max(1, min(len(names), int(fig.get_figwidth() / 2.0)))  # about 2 inches per entry
    legend = ax.legend(handles, names, loc="lower left", bbox_to_anchor=(0, 1.02), ncol=per_row, fontsize=8,
                       frameon=False, borderaxespad=0)  # fmt: skip
    fig.canvas.draw()  # the legend's size is known only once it is laid out
    box = legend.get_window_extent().transformed(fig.transFigure.inverted())
    title = f"{results['model']} on {results['dataset']} (test set): binary activation balance"
    fig.text(box.x0, box.y1 + 0.1 / fig.get_figheight(), title, fontsize=9, ha="left", va="bottom")
    return fig
