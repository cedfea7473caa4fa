"""The figures: sweep plots (flow/experiments/plots.py), from synthetic inputs (a build's breakdown.png:
tests/test_report_html.py)."""

import numpy as np
import pytest
from PIL import Image

from flow.experiments import plots

pytestmark = pytest.mark.fast


def group(label, variant, shift, accs):
    return {"label": label, "variant": variant, "shift": shift, "accuracies": accs,
            "mean": float(np.mean(accs)), "std": float(np.std(accs))}  # fmt: skip


def layers(n, rng):
    return [{"layer": f"features.{i}", "plus_fraction": float(rng.random()), "shift_mean": 0.5,
             "channel_plus_fraction": rng.random(16).tolist(), "input_hist": rng.integers(0, 50, 40).tolist()}
            for i in range(n)]  # fmt: skip


def test_accuracy_vs_shift_numeric_axis_and_list_panel(tmp_path):
    summary = [group("t=0", "shift", 0.0, [0.86, 0.87]), group("t=1.2", "shift", 1.2, [0.87, 0.88]),
               group("t=0.3", "shift", 0.3, [0.865, 0.87]), group("t=1.2 (bn_bias)", "bn_bias", 1.2, [0.87, 0.87]),
               group("t=[0.8,0,0]", "shift", [0.8, 0, 0], [0.868, 0.87])]  # fmt: skip
    results = {"model": "xnor_mlp", "dataset": "digits", "summary": summary}
    plots.accuracy_vs_shift(results, tmp_path / "a.png")
    plots.accuracy_vs_shift({**results, "summary": summary[:3]}, tmp_path / "b.png")  # no list panel
    with_lists, without = Image.open(tmp_path / "a.png"), Image.open(tmp_path / "b.png")
    assert with_lists.width > without.width  # the per-layer t panel


@pytest.mark.parametrize("n", [3, 7])
def test_activations_wrap_deep_networks(tmp_path, n):
    rng = np.random.default_rng(n)
    runs = {"t=0": {"layers": layers(n, rng)}, "t=0.8": {"layers": layers(n, rng)}}
    plots.activation_distribution({"model": "m", "dataset": "d"}, runs, tmp_path / "act.png")
    width, height = Image.open(tmp_path / "act.png").size
    rows = -(-n // 5)  # at most 5 layers per row
    assert width < 1800 and height > 350 * rows


@pytest.mark.parametrize("n", [1, 2, 3, 6])
def test_activations_title_and_legend_do_not_overlap(n):
    """Small networks make a narrow figure: the legend wraps and the title sits above it, never on it."""
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(n)
    runs = {label: {"layers": layers(n, rng)} for label in ("t=0", "t=1.2 (learnable)")}
    results = {"model": "xnor_mlp", "dataset": "a-long-data-set-name-for-the-title"}
    fig = plots.activation_figure(results, runs)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    (title,) = fig.texts
    legend = fig.axes[0].get_legend()
    t, g, top = (a.get_window_extent(renderer) for a in (title, legend, fig.axes[0]))
    assert t.y0 >= g.y1 and g.y0 >= top.y1 - 1  # title above legend above the top panel
    assert t.x0 == pytest.approx(g.x0, abs=1)
    plt.close(fig)
