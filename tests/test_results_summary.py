"""flow/experiments/results_summary.py: the docs tables from flow/throughput.py's JSON and single flow/train.py runs."""

from __future__ import annotations

import json

import pytest

from flow.experiments.results_summary import build, throughput_table
from flow.throughput import main
from flow.train import main as train_main


@pytest.mark.fast
def test_throughput_json_and_table_with_bf16(tmp_path):
    out = tmp_path / "tp.json"
    assert main(["--only", "xnor_mlp 3x256", "--steps", "1", "--bf16", "--output", str(out)]) == 0
    result = json.loads(out.read_text())
    (row,) = result["rows"]
    assert row["model"] == "xnor_mlp" and row["images_per_s"] > 0 and row["images_per_s_bf16"] > 0
    table = throughput_table(result)
    assert "images/s bf16 autocast" in table
    assert f"| xnor_mlp 3x256 | 256 | {row['images_per_s']:.1f} | {row['images_per_s_bf16']:.1f} |" in table
    del row["images_per_s_bf16"]  # an fp32-only measurement keeps the 4-column table
    assert "bf16 autocast" not in throughput_table(result)


@pytest.mark.fast
def test_single_run_table_row(tmp_path):
    out = tmp_path / "results" / "mlp_t03"
    argv = ["--model", "xnor_mlp", "--dataset", "digits", "--hidden", "16,16,16", "--threads", "1"]
    assert train_main([*argv, "--no-progress", "--shift", "0.3", "--epochs", "2", "--bf16", "--output", str(out)]) == 0
    acc = json.loads((out / "metrics.json").read_text())["test_accuracy"]
    text = build(tmp_path / "results")
    row = next(line for line in text.splitlines() if line.startswith("| `mlp_t03`"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1:8] == ["xnor_mlp", "-", "0.3", "2", "256", "yes", "last epoch"] and cells[8] == f"{100 * acc:.2f}"
    assert cells[9] == cells[8]  # without averaging the result is the last epoch


@pytest.mark.fast
def test_single_run_table_row_of_an_averaged_warm_restart(tmp_path):
    first, out = tmp_path / "first", tmp_path / "results" / "mlp_swa"
    argv = ["--model", "xnor_mlp", "--dataset", "digits", "--hidden", "16,16,16", "--threads", "1", "--no-progress"]
    assert train_main([*argv, "--epochs", "1", "--output", str(first)]) == 0
    extra = ["--epochs", "3", "--average-last", "2", "--init-from", str(first / "checkpoint.pt"), "--output", str(out)]
    assert train_main([*argv, *extra]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    row = next(line for line in build(tmp_path / "results").splitlines() if line.startswith("| `mlp_swa`"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[4] == "+3 from `first`" and cells[7] == "mean of last 2"
    assert cells[8] == f"{100 * metrics['test_accuracy']:.2f}"
    assert cells[9] == f"{100 * metrics['history'][-1]['test_accuracy']:.2f}"
