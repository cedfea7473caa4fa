"""flow/reproduce.py: a committed run re-trained on today's code comes back bit-identical; drift is measured."""

import json
import shutil
from pathlib import Path

import pytest

from flow import reproduce as cli
from flow.experiments import reproduce as rep

pytestmark = pytest.mark.fast
ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "results" / "repro_digits_mlp"  # made by bench/run_benchmarks.sh _repro_tiny


def history(*losses):
    return [{"epoch": i + 1, "train_loss": x, "train_accuracy": 0.5, "test_accuracy": 0.6, "test_loss": x}
            for i, x in enumerate(losses)]  # fmt: skip


def test_difference_is_exact_and_measures_drift():
    old = {"test_accuracy": 0.8, "test_loss": 0.5, "history": history(1.0, 0.7), "weights_sha256": "a"}
    assert rep.difference(old, json.loads(json.dumps(old)))["identical"]
    new = {**old, "test_accuracy": 0.7915, "history": history(1.0, 0.7 + 1e-7)}
    d = rep.difference(old, new)
    assert not d["identical"] and d["test_accuracy_pp"] == pytest.approx(-0.85)
    assert d["max_epoch_loss_difference"] == pytest.approx(1e-7)
    assert not rep.difference(old, {**old, "weights_sha256": "b"})["identical"]  # same numbers, other weights
    assert rep.difference({**old, "weights_sha256": None}, {**old, "weights_sha256": "b"})["identical"]


def test_runs_are_picked_seed_by_seed_across_settings(tmp_path):
    for setting in ("t0_shift", "t0.8_shift"):
        for seed in (2, 0, 1):
            run = tmp_path / "runs" / f"{setting}_seed{seed}"
            run.mkdir(parents=True)
            (run / "metrics.json").write_text(json.dumps({"config": {"output": str(run), "seed": seed}}))
    picked = [p.name for p in rep.pick_runs(rep.find_runs(tmp_path), 3)]
    assert picked == ["t0.8_shift_seed0", "t0_shift_seed0", "t0.8_shift_seed1"]
    assert len(rep.pick_runs(rep.find_runs(tmp_path), None)) == 6


def test_a_config_with_an_option_the_code_lacks_fails_with_its_name(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    metrics = {"test_accuracy": 0.5, "config": {"model": "xnor_mlp", "warp_drive": True}, "history": []}
    (run / "metrics.json").write_text(json.dumps(metrics))
    entry = rep.rerun(run, tmp_path / "work")
    assert entry["status"] == "failed" and "warp_drive" in entry["reason"]


def test_comparison_recomputed_with_the_rerun_accuracy():
    results = json.loads((TINY / "results.json").read_text())
    first = results["runs"][0]
    same = rep.recheck_comparisons(results, [{"run": first["folder"], "test_accuracy": first["test_accuracy"]}])
    assert [c["difference"] for c in same] == [c["difference"] for c in results["comparisons"]]
    moved = rep.recheck_comparisons(results, [{"run": first["folder"], "test_accuracy": first["test_accuracy"] + 0.3}])
    assert moved[0]["difference"] != same[0]["difference"]


def test_the_committed_tiny_sweep_reproduces_bit_identically(tmp_path, capsys):
    folder = tmp_path / TINY.name
    shutil.copytree(TINY, folder)
    assert cli.main([str(folder), "--runs", "1"]) == 0
    report = json.loads((folder / "reproduce.json").read_text())
    assert report["verdicts"] == {"bit-identical": 1} and report["runs_rerun"] == 1
    (entry,) = report["reruns"]
    assert entry["same_weights"] is True and entry["epochs_compared"] == 2
    assert all(c["excludes_zero"] == c["recorded_excludes_zero"] for c in report["comparisons"])
    assert "bit-identical" in (folder / "reproduce.md").read_text()


def test_not_a_folder_is_a_usage_error(tmp_path, capsys):
    assert cli.main([str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err.startswith("error: ")
