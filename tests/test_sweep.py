"""flow/sweep.py: the shift x seed experiment end to end on digits, and its statistics."""

from __future__ import annotations

import json

import pytest

from flow.experiments.shift_sweep import compare, shift_label, summarise
from flow.sweep import main


@pytest.mark.slow  # trains
def test_tiny_sweep_writes_results_and_plots(tmp_path):
    out = tmp_path / "sweep"
    argv = [
        "--model",
        "xnor_mlp",
        "--dataset",
        "digits",
        "--hidden",
        "16,16,16",
        "--shifts",
        "0",
        "0.3",
        "0.3,0,0",
        "--seeds",
        "0",
        "1",
        "--epochs",
        "1",
        "--threads",
        "1",
        "--control",
        "--output",
        str(out),
    ]
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    labels = [g["label"] for g in results["summary"]]
    assert labels[:3] == ["t=0", "t=0.3", "t=[0.3,0,0]"]
    assert any(g["variant"] == "bn_bias" for g in results["summary"])  # the control at the best shift
    assert len(results["runs"]) == 3 * 2 + 2
    first = results["comparisons"][0]
    assert first["b"] == "t=0" and "paired_ci95" in first and "welch_ci95" in first
    assert results["machine"] and results["command"].startswith("python flow/sweep.py")
    for png in ("accuracy_vs_shift.png", "activations.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "report.html").read_text()  # flow/experiments/sweep_report.py
    assert all(label in page for label in labels) and 'href="runs/' in page
    # A second call reuses every finished run (resumable sweep) and gives the same numbers.
    assert main(argv) == 0
    assert json.loads((out / "results.json").read_text())["summary"] == results["summary"]


@pytest.mark.slow  # trains
def test_parallel_jobs_give_the_same_numbers(tmp_path):
    """--jobs 2 trains in spawned processes; every run is seeded, so the results match one job's."""
    argv = ["--model", "xnor_mlp", "--dataset", "digits", "--hidden", "16,16,16", "--shifts", "0", "0.5"]
    argv += ["--seeds", "0", "1", "--epochs", "1", "--threads", "1"]
    one = main([*argv, "--output", str(tmp_path / "one")])
    two = main([*argv, "--jobs", "2", "--output", str(tmp_path / "two")])
    assert one == two == 0
    a, b = (json.loads((tmp_path / d / "results.json").read_text()) for d in ("one", "two"))
    assert [r["test_accuracy"] for r in a["runs"]] == [r["test_accuracy"] for r in b["runs"]]
    assert [r["seed"] for r in b["runs"]] == [0, 1, 0, 1] and b["jobs"] == 2
    assert "--- t=0.5 seed 1" in (tmp_path / "two" / "sweep.log").read_text()


@pytest.mark.fast
def test_jobs_below_one_is_refused(tmp_path, capsys):
    assert main(["--model", "xnor_mlp", "--jobs", "0", "--output", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: argument --jobs: want an integer between 1 and 256, got 0 (see --help)"
    ]


@pytest.mark.fast
def test_compare_intervals():
    a = {"label": "a", "seeds": [0, 1, 2], "accuracies": [0.90, 0.91, 0.92]}
    b = {"label": "b", "seeds": [0, 1, 2], "accuracies": [0.80, 0.81, 0.82]}
    c = compare(a, b)
    assert c["difference"] == pytest.approx(0.10)
    assert c["paired_ci95"] == pytest.approx([0.10, 0.10])  # constant difference: zero-width interval
    assert c["paired_excludes_zero"] and c["welch_excludes_zero"]
    noisy = compare({**a, "accuracies": [0.80, 0.90, 0.85]}, b)
    assert not noisy["welch_excludes_zero"]


@pytest.mark.fast
def test_labels_and_summary():
    assert shift_label(0.0) == "t=0" and shift_label([0.5, 0.0]) == "t=[0.5,0]"
    rows = summarise(
        [
            {"label": "t=0", "variant": "shift", "shift": 0.0, "seed": 1, "test_accuracy": 0.5},
            {"label": "t=0", "variant": "shift", "shift": 0.0, "seed": 0, "test_accuracy": 0.7},
        ]
    )
    assert rows[0]["accuracies"] == [0.7, 0.5] and rows[0]["mean"] == pytest.approx(0.6)


@pytest.mark.slow  # trains
def test_learnable_shift_starts_at_the_best_fixed_shift(tmp_path):
    """--learnable-start best: the learnable runs start where the best fixed shift is, and their t moves."""
    out = tmp_path / "sweep"
    argv = ["--model", "xnor_mlp", "--dataset", "digits", "--hidden", "16,16,16", "--shifts", "0", "0.5"]
    argv += ["--seeds", "0", "--epochs", "1", "--threads", "1", "--learnable", "--learnable-start", "best"]
    assert main([*argv, "--output", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    learn = [r for r in results["runs"] if r["variant"] == "learnable"]
    assert [r["label"] for r in learn] == [f"{results['best']} (learnable)"]
    assert learn[0]["shift"] == next(g["shift"] for g in results["summary"] if g["label"] == results["best"])
    means = list(learn[0]["learned_shift_mean"].values())
    assert means and all(m != learn[0]["shift"] for m in means)  # trained away from the start
