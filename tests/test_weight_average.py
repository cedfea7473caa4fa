"""flow/train.py --average-last: the saved model is the mean of the last N epochs' weights and buffers."""

from __future__ import annotations

import json

import pytest
import torch

from flow.train import main
from flow.training import loop as training_loop

TINY = ["--dataset", "digits", "--hidden", "16,16,16", "--threads", "1", "--no-progress", "--batch-size", "128"]


def train(out, *extra: str) -> dict:
    assert main(["--model", "xnor_mlp", *TINY, "--shift", "0.3", "--seed", "2", "--output", str(out), *extra]) == 0
    return json.loads((out / "metrics.json").read_text())


def saved_state(out) -> dict:
    return torch.load(out / "checkpoint.pt", weights_only=True)["state_dict"]


@pytest.mark.slow  # trains
def test_checkpoint_is_the_mean_of_the_last_epochs(tmp_path, monkeypatch):
    snapshots, original = [], training_loop.evaluate

    def record(model, *args, **kwargs):  # evaluate() sees the model at every epoch end, then the average
        snapshots.append({k: v.detach().clone() for k, v in model.state_dict().items()})
        return original(model, *args, **kwargs)

    monkeypatch.setattr(training_loop, "evaluate", record)
    metrics = train(tmp_path / "a", "--epochs", "3", "--average-last", "2")
    epoch_ends, final = snapshots[:3], snapshots[3]
    saved = saved_state(tmp_path / "a")
    assert metrics["averaged_epochs"] == 2 and len(metrics["history"]) == 3
    floats = [k for k, v in saved.items() if v.is_floating_point()]
    assert any(k.endswith("running_mean") for k in floats)  # BatchNorm statistics are averaged too
    for key in floats:
        expected = (epoch_ends[1][key] + epoch_ends[2][key]) / 2  # epochs 2 and 3, not epoch 1
        torch.testing.assert_close(saved[key], expected)
        torch.testing.assert_close(final[key], expected)
    weight = next(k for k in floats if k.endswith("weight") and saved[k].dim() == 2)
    assert not torch.equal(saved[weight], epoch_ends[2][weight])  # the average is not the last epoch
    # the reported accuracy is the average's (the last epoch's stays in history)
    monkeypatch.setattr(training_loop, "evaluate", original)
    plain = train(tmp_path / "b", "--epochs", "0", "--init-from", str(tmp_path / "a" / "checkpoint.pt"))
    assert metrics["test_accuracy"] == plain["test_accuracy"]


@pytest.mark.slow  # trains
def test_resumed_average_equals_an_uninterrupted_one(tmp_path, monkeypatch):
    straight = train(tmp_path / "s", "--epochs", "3", "--average-last", "2")
    calls, original = {"n": 0}, training_loop.evaluate

    def crash_in_epoch_3(*args, **kwargs):  # resume.pt of epoch 2 holds a one-epoch average
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(training_loop, "evaluate", crash_in_epoch_3)
    argv = ["--model", "xnor_mlp", *TINY, "--shift", "0.3", "--seed", "2", "--output", str(tmp_path / "i")]
    assert main([*argv, "--epochs", "3", "--average-last", "2"]) == 130  # Ctrl-C
    monkeypatch.setattr(training_loop, "evaluate", original)
    resumed = train(tmp_path / "i", "--epochs", "3", "--average-last", "2", "--resume")
    assert resumed["test_accuracy"] == straight["test_accuracy"]
    a, b = saved_state(tmp_path / "s"), saved_state(tmp_path / "i")
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.fast
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--average-last", "3"], "must be between 1 and --epochs 2"),
        (["--average-last", "1", "--weight-scaling", "per_channel"], "constant-scale binary weights"),
    ],
)
def test_bad_average_is_a_clear_error(tmp_path, capsys, extra, message):
    assert main(["--model", "xnor_mlp", *TINY, "--epochs", "2", "--output", str(tmp_path / "x"), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
