"""The CUDA path of training (tier `gpu`: skipped where torch sees no GPU, as in CI).

Run on a GPU machine with `pytest -m gpu tests/test_gpu.py`; bench/gpu_training_check.sh is the
full-size check (Fashion-MNIST, xnor_cnv) and results/gpu_h100/ holds its numbers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from brevitas_models.checkpoint import load_checkpoint
from flow.throughput import main as throughput_main
from flow.train import main as train_main

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--model", "xnor_mlp", "--dataset", "digits", "--hidden", "64,64,64", "--no-progress", "--batch-size", "128"]
pytestmark = [pytest.mark.slow, pytest.mark.gpu]  # they train


def test_cuda_checkpoint_evaluates_the_same_on_cpu(tmp_path):
    """Train on the GPU, then re-evaluate the checkpoint on the CPU: same accuracy and +1 fractions."""
    gpu, cpu = tmp_path / "gpu", tmp_path / "cpu"
    assert train_main([*TINY, "--shift", "0.4", "--epochs", "2", "--device", "cuda", "--output", str(gpu)]) == 0
    trained = json.loads((gpu / "metrics.json").read_text())
    assert "GPU" in trained["machine"] and trained["test_accuracy"] > 0.5
    init = ["--init-from", str(gpu / "checkpoint.pt")]
    assert train_main([*TINY, "--shift", "0.4", "--epochs", "0", *init, "--device", "cpu", "--output", str(cpu)]) == 0
    again = json.loads((cpu / "metrics.json").read_text())
    # Same +-1 arithmetic; only float summation order differs, which may flip one image's sign tie.
    assert abs(again["test_accuracy"] - trained["test_accuracy"]) <= 1 / 300
    for layer, fraction in trained["plus_fraction"].items():
        assert again["plus_fraction"][layer] == pytest.approx(fraction, abs=1e-3)


def test_torchrun_nccl(tmp_path):
    """DistributedDataParallel over NCCL with one process per visible GPU; rank 0 writes the files."""
    gpus = torch.cuda.device_count()
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={gpus}"]
    cmd += [str(ROOT / "flow" / "train.py"), *TINY, "--epochs", "1", "--device", "cuda", "--output", str(tmp_path)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["world_size"] == gpus and metrics["test_accuracy"] > 0.1
    load_checkpoint(tmp_path / "checkpoint.pt", expect_model="xnor_mlp")


def test_throughput_on_cuda(tmp_path):
    out = tmp_path / "throughput.json"
    assert throughput_main(["--device", "cuda", "--only", "xnor_mlp 3x256", "--steps", "3", "--output", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["device"] == torch.cuda.get_device_name()
    assert result["rows"][0]["images_per_s"] > 0
