"""flow/sweep.py: the shift x seed experiment end to end on digits, and its statistics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flow.experiments.comparison import compare, summarise
from flow.experiments.shift_sweep import shift_label
from flow.experiments.verdict import sentence
from flow.sweep import main


@pytest.mark.slow  # trains
def test_tiny_sweep_writes_results_and_plots(tmp_path, capsys):
    out = tmp_path / "sweep"
    argv = ["--model", "xnor_mlp", "--dataset", "digits", "--hidden", "16,16,16", "--shifts", "0", "0.3", "0.3,0,0"]
    argv += ["--seeds", "0", "1", "--epochs", "1", "--threads", "1", "--control", "--output", str(out)]
    assert main(argv) == 0
    stdout, stderr = capsys.readouterr()
    results = json.loads((out / "results.json").read_text())
    labels = [g["label"] for g in results["summary"]]
    assert labels[:3] == ["t=0", "t=0.3", "t=[0.3,0,0]"]
    # the control sits at the best fixed shift, chosen on the validation images (t = 0 included)
    fixed = [g for g in results["summary"] if g["variant"] == "shift"]
    best_fixed = max(fixed, key=lambda g: g["val_mean"])
    assert results["best_shift"] == best_fixed["label"] and results["val_split"] == 0.1
    controls = [g["label"] for g in results["summary"] if g["variant"] == "bn_bias"]
    if best_fixed["label"] == "t=0":  # the control of t = 0 would be t = 0 itself
        assert controls == [] and "control" in stderr and len(results["runs"]) == 3 * 2
    else:
        assert controls == [f"{best_fixed['label']} (bn_bias)"] and len(results["runs"]) == 3 * 2 + 2
    # "best" among every setting, t = 0 included, on validation accuracy; its checkpoint by validation too
    assert results["best"] == max(results["summary"], key=lambda g: g["val_mean"])["label"]
    assert results["best_chosen_on"] == "validation"
    runs = [r for r in results["runs"] if r["label"] == results["best"]]
    top = max(runs, key=lambda r: r["val_accuracy"])
    assert results["best_checkpoint"] == str(Path(top["folder"]) / "checkpoint.pt")
    first = results["comparisons"][0]
    assert first["a"] == "t=0.3" and first["b"] == "t=0" and "paired_ci95" in first and "welch_ci95" in first
    assert first["sentence"] == sentence(first) and first["sentence"] in stdout
    assert len(results["comparisons"]) == len(results["summary"]) - 1  # every setting against t = 0
    assert results["machine"] and results["command"].startswith("python flow/sweep.py")
    for png in ("accuracy_vs_shift.png", "activations.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # results on stdout (the last line names the folder), progress and notes on stderr
    assert stdout.strip().splitlines()[-1] == f"output: {out}" and "best setting" in stdout
    assert "--- shift t=0 seed 0" in stderr and "--- shift" not in stdout
    assert "--control is an old spelling of --shift-as-bn-bias" in stderr
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
    argv += ["--seeds", "0", "--epochs", "1", "--threads", "1", "--learnable-shift", "--learnable-start", "best"]
    assert main([*argv, "--output", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    learn = [r for r in results["runs"] if r["variant"] == "learnable"]
    assert [r["label"] for r in learn] == [f"{results['best_shift']} (learnable)"]
    assert learn[0]["shift"] == next(g["shift"] for g in results["summary"] if g["label"] == results["best_shift"])
    means = list(learn[0]["learned_shift_mean"].values())
    assert means and all(m != learn[0]["shift"] for m in means)  # trained away from the start


@pytest.mark.fast
def test_sentences_say_what_the_interval_means():
    """One sentence per comparison: significant either way only when the interval excludes 0."""
    base = {"label": "t=0", "seeds": [0, 1, 2], "accuracies": [0.80, 0.81, 0.82]}
    better = compare({"label": "t=0.8", "seeds": [0, 1, 2], "accuracies": [0.83, 0.835, 0.845]}, base)
    assert sentence(better).startswith("t=0.8 beats t=0 by +2.67 pp, 95 % CI [+")
    assert sentence(better).endswith("(paired by seed): significant with 3 seeds")
    worse = compare({"label": "t=2", "seeds": [0, 1, 2], "accuracies": [0.70, 0.71, 0.715]}, base)
    assert sentence(worse).startswith("t=2 is worse than t=0 by -10.17 pp") and "significant" in sentence(worse)
    noisy = compare({"label": "t=0.3", "seeds": [3, 4, 5], "accuracies": [0.78, 0.84, 0.81]}, base)
    assert sentence(noisy).endswith("(Welch): no evidence of a difference with 3 + 3 seeds")
    one = compare({"label": "t=0.3", "seeds": [0], "accuracies": [0.9]}, {**base, "seeds": [0], "accuracies": [0.8]})
    assert "no interval" in sentence(one)


@pytest.mark.fast
def test_best_is_chosen_on_validation_among_all_settings():
    """t = 0 can win; the test accuracy does not choose (it would bias the winner upwards)."""
    from flow.experiments.verdict import best_run, choose_best

    runs = [
        {"label": "t=0", "variant": "shift", "shift": 0.0, "seed": 0, "test_accuracy": 0.80, "val_accuracy": 0.90},
        {"label": "t=0", "variant": "shift", "shift": 0.0, "seed": 1, "test_accuracy": 0.81, "val_accuracy": 0.88},
        {"label": "t=0.8", "variant": "shift", "shift": 0.8, "seed": 0, "test_accuracy": 0.95, "val_accuracy": 0.85},
        {"label": "t=0.8", "variant": "shift", "shift": 0.8, "seed": 1, "test_accuracy": 0.96, "val_accuracy": 0.86},
    ]
    best, on = choose_best(summarise(runs))
    assert best["label"] == "t=0" and on == "validation"
    assert best_run(runs, "t=0", on)["seed"] == 0  # the checkpoint: the best seed on validation
    old = [{**r, "val_accuracy": None} for r in runs]  # runs trained without a validation split
    best, on = choose_best(summarise(old))
    assert best["label"] == "t=0.8" and on == "test"


@pytest.mark.fast
def test_a_sweep_from_before_the_validation_split_is_reused_with_val_split_0(tmp_path, capsys):
    """Runs trained on every training image (their config has no val_split) are not silently mixed with
    validation-split runs: one line that says how to reuse them."""
    run = tmp_path / "s" / "runs" / "t0_shift_seed0"
    run.mkdir(parents=True)
    kwargs = {"weight_scaling": "per_tensor", "shift": 0.0}
    config = {"model": "xnor_mlp", "dataset": "digits", "model_kwargs": kwargs, "epochs": 1, "seed": 0}
    (run / "metrics.json").write_text(json.dumps({"config": config, "test_accuracy": 0.5}))
    argv = ["--model", "xnor_mlp", "--dataset", "digits", "--shifts", "0", "--seeds", "0", "--epochs", "1"]
    assert main([*argv, "--output", str(tmp_path / "s")]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "(val_split 0.0 -> 0.1); --val-split 0 reuses them" in last
    assert not (tmp_path / "s" / "results.json").exists() and not (tmp_path / "s" / "sweep.log").exists()
