"""flow/train.py --dataset imagenet with the hardware ResNets under torchrun (2 processes, gloo) on a tiny
ImageFolder generated here (two colour classes of noisy PNGs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from brevitas_models.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parent.parent


def make_image_folder(root: Path, per_class: int = 8, size: int = 40) -> None:
    """root/{train,val}/{red,blue}/*.png: a dominant colour channel plus noise, so the classes differ."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for k, cls in enumerate(("red", "blue")):
            (root / split / cls).mkdir(parents=True)
            for i in range(per_class):
                img = rng.integers(0, 120, size=(size, size, 3), dtype=np.uint8)
                img[..., 2 * k] += 120
                Image.fromarray(img).save(root / split / cls / f"{i}.png")


@pytest.mark.slow
@pytest.mark.parametrize("model", ["bireal_resnet18_hw", "xnor_resnet18_hw"])
def test_torchrun_imagenet_folder_hardware_resnet(tmp_path, model):
    make_image_folder(tmp_path / "data")
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(ROOT / "flow" / "train.py"), "--model", model, "--dataset", "imagenet",
           "--data-dir", str(tmp_path / "data"), "--image-size", "32", "--width", "0.0625",
           "--model-kwargs", '{"depths": [1, 1, 1, 1]}', "--shift", "0.5", "--epochs", "2", "--batch-size", "8",
           "--workers", "0", "--threads", "1", "--no-progress", "--output", str(out)]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and 0.0 <= metrics["test_accuracy"] <= 1.0
    net, payload = load_checkpoint(out / "checkpoint.pt", expect_model=model)
    # the head has one output per class folder (not ImageNet's 1000)
    assert payload["kwargs"]["in_size"] == 32 and payload["kwargs"]["num_classes"] == 2
    assert payload["meta"]["classes"] == ["blue", "red"] and metrics["num_classes"] == 2
