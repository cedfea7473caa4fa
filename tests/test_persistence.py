"""flow/experiments/persistence.py: the gain of one sweep setup across training budgets."""

from __future__ import annotations

import json

import pytest

from flow.experiments.persistence import main as persistence_main
from flow.sweep import main as sweep_main


@pytest.mark.slow
def test_gain_vs_epochs_from_two_budgets(tmp_path):
    base = ["--model", "xnor_mlp", "--dataset", "digits", "--hidden", "16,16,16", "--shifts", "0", "0.5"]
    base += ["--seeds", "0", "1", "--threads", "1", "--learnable-shift", "--learnable-start", "best"]
    folders = []
    for epochs in (1, 2):
        folders.append(tmp_path / f"e{epochs}")
        assert sweep_main([*base, "--epochs", str(epochs), "--output", str(folders[-1])]) == 0
    out = tmp_path / "persist"
    assert persistence_main([*map(str, folders), "--output", str(out)]) == 0
    rows = json.loads((out / "persistence.json").read_text())["budgets"]
    assert [r["epochs"] for r in rows] == [1, 2]
    for r, folder in zip(rows, folders, strict=True):
        sweep = json.loads((folder / "results.json").read_text())
        fixed = next(c for c in sweep["comparisons"] if c["a"] == "t=0.5")
        assert r["comparisons"]["t=0.5"]["difference"] == pytest.approx(fixed["difference"])
        learnable = f"{sweep['best_shift']} (learnable)"  # started at the best fixed shift (on validation)
        assert "paired_ci95" in r["comparisons"][learnable]  # against t = 0
        if sweep["best_shift"] != "t=0":  # and against the fixed shift it started from
            assert "paired_ci95" in r["comparisons"][f"{learnable} vs fixed"]
        assert r["learned_shift_mean_abs_move"] > 0
    assert (out / "gain_vs_epochs.png").read_bytes()[:4] == b"\x89PNG"
