"""A user's own data end to end: a 12-class MNIST-format folder and a 3-class grayscale image folder
(generated here), each trained, swept and built bit-exact on its own test images, with a head of as
many outputs as the data has classes. The same data options (--dataset, --data-dir, --image-size) in
flow/train.py, flow/sweep.py and flow/build.py; the build verifies and deploys on the same images."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from data_folders import write_image_folder, write_mnist_folder
from qonnx.core.modelwrapper import ModelWrapper

from flow import build, sweep, train
from flow.data import readers

pytestmark = pytest.mark.slow
COMMON = ["--model", "xnor_mlp", "--hidden", "32,32", "--threads", "1", "--no-progress"]
VERIFY = 36


def train_sweep_build(tmp_path: Path, capsys, data: list[str], classes: int) -> dict:
    """flow/train.py, a tiny flow/sweep.py and flow/build.py on the run's checkpoint; returns what they wrote."""
    run = tmp_path / "run"
    assert train.main([*COMMON, *data, "--epochs", "4", "--val-split", "0.1", "--output", str(run)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"output: {run}"
    metrics = json.loads((run / "metrics.json").read_text())
    payload = torch.load(run / "checkpoint.pt", weights_only=True)
    assert metrics["num_classes"] == classes == payload["kwargs"]["num_classes"] == payload["meta"]["num_classes"]
    assert payload["state_dict"]["classifier.weight"].shape[0] == classes  # the head has one output per class
    assert metrics["test_accuracy"] > 2 / classes and metrics["val_images"] > 0  # learned something

    swept = tmp_path / "sweep"
    argv = [*COMMON, *data, "--shifts", "0", "0.8", "--seeds", "0", "1", "--epochs", "1", "--output", str(swept)]
    assert sweep.main(argv) == 0
    results = json.loads((swept / "results.json").read_text())
    assert results["best_chosen_on"] == "validation" and len(results["comparisons"]) == 1
    assert "t=0" in results["comparisons"][0]["sentence"]
    best = torch.load(results["best_checkpoint"], weights_only=True)
    assert best["kwargs"]["num_classes"] == classes

    out = tmp_path / "build"
    code = build.main(["--board", "Pynq-Z2", "--checkpoint", str(run), "--verify-images", str(VERIFY),
                       "--output", str(out)])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.strip().splitlines()[-1] == f"output: {out}"
    summary = json.loads((out / "report" / "summary.json").read_text())
    v = summary["verification"]
    assert v["stages"] == {"qonnx": v["images"], "streamlined": v["images"], "finn": v["images"], "rtl": v["images"]}
    assert summary["rtlsim"]["matches"] == v["images"]  # bit-exact down to the simulated RTL
    qonnx = ModelWrapper(str(out / "model" / "qonnx.onnx"))
    assert qonnx.get_tensor_shape(qonnx.graph.output[0].name)[-1] == classes
    assert (out / "vivado" / "build.tcl").is_file() and "vivado -mode batch -source vivado/build.tcl" in (
        out / "deploy" / "README.md"
    ).read_text()
    return {"summary": summary, "deploy": out / "deploy", "metrics": metrics}


def test_twelve_class_mnist_format_folder(tmp_path, capsys):
    folder = write_mnist_folder(tmp_path / "digits12", 12, train=480, test=96, size=12)
    done = train_sweep_build(tmp_path, capsys, ["--dataset", "mnist", "--data-dir", str(folder)], 12)
    v = done["summary"]["verification"]
    assert v["images"] == VERIFY and v["source"] == "mnist" and "the checkpoint's data set" in v["source_note"]
    _, test, _ = readers.load_train_test(readers.DataSpec("mnist", str(folder)))
    labels = np.load(done["deploy"] / "test_labels.npy")
    assert np.array_equal(labels, test.labels[:VERIFY].numpy()) and labels.max() == 11  # its own test images
    assert np.array_equal(np.load(done["deploy"] / "test_images.npy"), test.images[:VERIFY].numpy())


def test_three_class_grayscale_image_folder(tmp_path, capsys):
    folder = write_image_folder(tmp_path / "shapes", ["circle", "cross", "square"], train=40, test=12, size=(16, 16))
    data = ["--dataset", "image-folder", "--data-dir", str(folder), "--image-size", "12"]
    done = train_sweep_build(tmp_path, capsys, data, 3)
    assert done["metrics"]["classes"] == ["circle", "cross", "square"] and done["metrics"]["input_shape"] == [1, 12, 12]
    v = done["summary"]["verification"]
    assert v["images"] == VERIFY and v["source"] == "image-folder"  # all 36 test images, resized to 12 x 12
    _, test, _ = readers.load_train_test(readers.DataSpec("image-folder", str(folder), 12))
    assert np.array_equal(np.load(done["deploy"] / "test_images.npy"), test.images.numpy())
    assert np.array_equal(np.load(done["deploy"] / "test_labels.npy"), test.labels.numpy())
    deploy = json.loads((done["deploy"] / "deploy.json").read_text())
    assert deploy["classes"] == ["circle", "cross", "square"] and deploy["input_shape"] == [1, 1, 12, 12]
    assert "0 = circle, 1 = cross, 2 = square" in (done["deploy"] / "README.md").read_text()
