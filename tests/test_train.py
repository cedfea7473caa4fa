"""flow/train.py: checkpoints, metrics, determinism, resume, the BN-bias control, data folders, DDP."""

from __future__ import annotations

import gzip
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from brevitas_models.checkpoint import CheckpointError, load_checkpoint
from flow.data import readers as train_data
from flow.train import main

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--dataset", "digits", "--hidden", "16,16,16", "--threads", "1", "--no-progress", "--batch-size", "128"]


def run(tmp_path: Path, name: str, *extra: str) -> dict:
    out = tmp_path / name
    assert main(["--model", "xnor_mlp", *TINY, "--output", str(out), *extra]) == 0
    return json.loads((out / "metrics.json").read_text())


@pytest.mark.slow  # trains
def test_writes_checkpoint_and_metrics(tmp_path):
    metrics = run(tmp_path, "a", "--shift", "0.3", "--epochs", "1")
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert set(metrics["plus_fraction"]) == {"features.2", "features.5", "features.8"}
    assert all(0.0 <= f <= 1.0 for f in metrics["plus_fraction"].values())
    assert metrics["layers"][0]["shift_mean"] == pytest.approx(0.3)
    payload = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)
    assert payload["kwargs"]["shift"] == 0.3 and payload["kwargs"]["in_features"] == 64
    model, _ = load_checkpoint(tmp_path / "a" / "checkpoint.pt", expect_model="xnor_mlp")
    with pytest.raises(CheckpointError, match="not 'xnor_cnv'"):
        load_checkpoint(tmp_path / "a" / "checkpoint.pt", expect_model="xnor_cnv")


@pytest.mark.slow  # trains
def test_same_seed_same_result(tmp_path):
    straight = run(tmp_path, "s", "--epochs", "2", "--seed", "3")
    again = run(tmp_path, "t", "--epochs", "2", "--seed", "3")
    assert straight["test_accuracy"] == again["test_accuracy"]
    # activation statistics are collected after the last epoch only, and reported
    assert len(straight["plus_fraction"]) == 3 and straight["layers"][0]["channel_plus_fraction"]
    finished = run(tmp_path, "s", "--epochs", "2", "--seed", "3", "--resume")  # nothing left: evaluates
    assert finished["test_accuracy"] == straight["test_accuracy"]


@pytest.mark.slow  # trains
def test_bf16_autocast_trains_like_fp32(tmp_path):
    """--bf16 only changes the training forward's precision: it learns as well, weights stay fp32."""
    fp32 = run(tmp_path, "f", "--epochs", "12", "--shift", "0.3")
    bf16 = run(tmp_path, "b", "--epochs", "12", "--shift", "0.3", "--bf16")
    assert bf16["test_accuracy"] > 0.4  # 10 classes: chance is 0.1 (fp32 reaches 0.54 here)
    assert abs(bf16["test_accuracy"] - fp32["test_accuracy"]) < 0.1
    payload = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    assert all(v.dtype != torch.bfloat16 for v in payload["state_dict"].values())


@pytest.mark.slow  # trains
def test_init_from_loads_weights_and_refuses_another_shape(tmp_path, capsys):
    run(tmp_path, "a", "--epochs", "1", "--shift", "0.3")
    source = tmp_path / "a" / "checkpoint.pt"
    run(tmp_path, "b", "--epochs", "1", "--shift", "0.3", "--lr", "0", "--init-from", str(source))
    before = torch.load(source, weights_only=True)["state_dict"]
    after = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)["state_dict"]
    weights = [k for k in before if k.endswith(".weight") and before[k].dim() == 2]  # latent binary weights
    assert weights and all(torch.equal(before[k], after[k]) for k in weights)  # lr 0: unchanged, so loaded
    out = tmp_path / "c"
    argv = ["--model", "xnor_mlp", *TINY, "--hidden", "8,8,8", "--init-from", str(source), "--output", str(out)]
    assert main(argv) == 2
    assert "is a run of xnor_mlp" in capsys.readouterr().err and not out.exists()


@pytest.mark.slow  # trains
def test_interrupted_run_resumes_bit_identically(tmp_path, monkeypatch):
    from flow.training import loop as training_loop

    straight = run(tmp_path, "s", "--epochs", "2", "--seed", "1")
    calls = {"n": 0}
    original = training_loop.evaluate

    def crash_after_first_epoch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # evaluate() runs once per epoch; die in epoch 2 after resume.pt of epoch 1
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(training_loop, "evaluate", crash_after_first_epoch)
    argv = ["--model", "xnor_mlp", *TINY, "--output", str(tmp_path / "i"), "--epochs", "2", "--seed", "1"]
    assert main(argv) == 130  # Ctrl-C: one line, exit 130, resume.pt of the finished epoch kept
    monkeypatch.setattr(training_loop, "evaluate", original)
    assert torch.load(tmp_path / "i" / "resume.pt", weights_only=True)["epoch"] == 1
    resumed = run(tmp_path, "i", "--epochs", "2", "--seed", "1", "--resume")
    assert resumed["test_accuracy"] == straight["test_accuracy"]
    assert [h["train_loss"] for h in resumed["history"]] == [h["train_loss"] for h in straight["history"]]


@pytest.mark.slow  # trains
def test_resume_of_another_model_is_refused(tmp_path, capsys):
    run(tmp_path, "x", "--epochs", "1")
    other = [arg if arg != "16,16,16" else "8,8,8" for arg in TINY]
    code = main(["--model", "xnor_mlp", *other, "--epochs", "1", "--output", str(tmp_path / "x"), "--resume"])
    assert code == 2
    assert "drop --resume" in capsys.readouterr().err


@pytest.mark.slow  # trains
def test_bn_bias_control_and_learnable_shift(tmp_path):
    control = run(tmp_path, "c", "--shift", "0.4", "--shift-as-bn-bias", "--epochs", "1")
    assert control["model_kwargs"]["shift"] == 0.0
    assert control["config"]["bn_bias_init"] == 0.4
    learn = run(tmp_path, "l", "--shift", "0.0", "--learnable-shift", "--shift-mode", "channel", "--epochs", "1")
    state = torch.load(tmp_path / "l" / "checkpoint.pt", weights_only=True)["state_dict"]
    assert state["features.2.shift"].shape == (16,)
    assert learn["layers"][0]["shift_mean"] != 0.0  # t moved


@pytest.mark.fast
def test_bn_bias_fold_is_the_same_function_at_init():
    from brevitas_models.registry import build_model
    from flow.training.loop import fold_shift_into_bn_bias

    torch.manual_seed(0)
    shifted = build_model("xnor_mlp", in_features=64, hidden=[16, 16], shift=0.4).eval()
    folded = build_model("xnor_mlp", in_features=64, hidden=[16, 16], shift=0.0).eval()
    folded.load_state_dict({k: v for k, v in shifted.state_dict().items() if not k.endswith("shift")}, strict=False)
    assert fold_shift_into_bn_bias(folded, 0.4) == 2
    x = torch.randint(0, 256, (32, 1, 8, 8)).float()
    assert torch.equal(shifted(x), folded(x))


@pytest.mark.fast
def test_missing_data_dir_is_a_clear_error(tmp_path, capsys):
    code = main(["--model", "xnor_mlp", "--dataset", "mnist", "--output", str(tmp_path / "m")])
    assert code == 2
    assert "--data-dir" in capsys.readouterr().err


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.mark.fast
def test_mnist_and_cifar10_folders(tmp_path):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 20), ("t10k", 10)):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n))
    mnist = train_data.load_data(train_data.DataSpec("mnist", str(tmp_path)), train=False)
    assert mnist.images.shape == (10, 1, 28, 28) and mnist.images.dtype == torch.uint8
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (4, 3072)).astype(np.uint8), b"labels": list(range(4))}
        (folder / name).write_bytes(pickle.dumps(batch))
    cifar = train_data.load_data(train_data.DataSpec("cifar10", str(tmp_path)), train=True)
    assert cifar.images.shape == (20, 3, 32, 32)


@pytest.mark.fast
def test_image_folder(tmp_path):
    from PIL import Image

    for split in ("train", "val"):
        for cls in ("a", "b"):
            (tmp_path / split / cls).mkdir(parents=True)
            Image.new("RGB", (40, 30), (10, 200, 30)).save(tmp_path / split / cls / "x.png")
    data = train_data.load_data(train_data.DataSpec("imagenet", str(tmp_path), image_size=16), train=False)
    image, label = data[1]
    assert image.shape == (3, 16, 16) and image.dtype == torch.uint8 and label == 1


@pytest.mark.slow
def test_torchrun_two_processes_gloo(tmp_path):
    """DistributedDataParallel on CPU: 2 processes, gloo; rank 0 writes one checkpoint."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(ROOT / "flow" / "train.py"),
        "--model",
        "xnor_mlp",
        *TINY,
        "--epochs",
        "1",
        "--output",
        str(tmp_path / "ddp"),
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("test accuracy") == 1, done.stdout  # rank 0 reports, not every worker
    metrics = json.loads((tmp_path / "ddp" / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["test_accuracy"] > 0.1
    load_checkpoint(tmp_path / "ddp" / "checkpoint.pt", expect_model="xnor_mlp")
