"""What a build compiles: its options, the network (a Brevitas model or a user's QONNX file) and the
images it is verified on."""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from brevitas_models.checkpoint import load_checkpoint
from brevitas_models.quant import set_model_shift
from brevitas_models.registry import build_model, input_shape
from flow.compiler.checks import check_finite_graph, check_finite_model, check_onnx_file
from flow.core.config import BuildConfig
from flow.core.errors import BuildError
from flow.data.builtin import DatasetError, default_dataset
from flow.data.readers import DATASETS, DataSpec, load_data

DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[2] / "results" / "default_model" / "checkpoint.pt"


@dataclass
class Network:
    """What the build compiles: the QONNX file plus, where known, the Brevitas model and dataset."""

    name: str
    torch_model: object | None
    shape: tuple[int, ...]
    shift: object
    dataset: str | None
    trained_model: object | None = None  # the checkpoint's model before a --shift override
    trained_shift: object = None
    data_dir: str | None = None  # the checkpoint's --data-dir, where it was trained


def load_network(cfg: BuildConfig) -> Network:
    if cfg.onnx is not None:
        return Network(cfg.onnx.stem, None, (), None, None)
    checkpoint = cfg.checkpoint or (DEFAULT_CHECKPOINT if cfg.model is None else None)
    if checkpoint is not None:
        model, payload = load_checkpoint(checkpoint, expect_model=cfg.model)
        name, kwargs, dataset = payload["model"], payload["kwargs"], payload["meta"].get("dataset")
        data_dir = payload["meta"].get("data_dir")
        what = f"checkpoint {checkpoint}"
    else:
        name, kwargs, dataset, data_dir = cfg.model, dict(cfg.model_kwargs or {}), None, None
        try:
            model = build_model(name, **kwargs).eval()
        except Exception as exc:  # any failure to construct it is the arguments' (TypeError, ValueError, ...)
            raise BuildError(f"--model-kwargs: {name} {kwargs} cannot be built ({exc})") from None
        what = f"model {name}"
    check_finite_model(model, what)
    shift = kwargs.get("shift", 0.0)
    trained = None
    if cfg.shift is not None:
        if checkpoint is not None:  # keep the trained network to report what the override costs
            trained = copy.deepcopy(model)
        try:
            set_model_shift(model, cfg.shift)
        except ValueError as exc:
            raise BuildError(f"--shift {cfg.shift}: {exc}") from None
        check_finite_model(model, f"{what} with --shift {cfg.shift}")
        shift, trained_shift = cfg.shift, shift
    else:
        trained_shift = None
    return Network(name, model, input_shape(name, kwargs), shift, dataset, trained, trained_shift, data_dir)


def report_shift_override(net: Network, images: np.ndarray, labels: np.ndarray | None, stream=None) -> dict | None:
    """``--shift`` on a trained checkpoint changes the network it learned: warn, with the accuracy of the
    trained and the overridden network on the verification images (when they have labels)."""
    if net.trained_model is None:
        return None
    from flow.compiler.export import torch_forward

    stream = stream or sys.stderr
    record = {"trained_shift": net.trained_shift, "shift": net.shift, "images": len(images)}
    if labels is None:
        change = "no labels to measure the accuracy change on (random verification images)"
    else:
        before = float(np.mean(torch_forward(net.trained_model, images).argmax(1) == labels))
        after = float(np.mean(torch_forward(net.torch_model, images).argmax(1) == labels))
        record.update(accuracy_trained=before, accuracy_shifted=after)
        change = f"accuracy on the {len(images)} verification images {100 * before:.2f} % -> {100 * after:.2f} %"
    print(
        f"warning: --shift {net.shift:g} changes a trained network (trained with shift {net.trained_shift}): {change}",
        file=stream,
    )
    return record


def warn_if_constant(labels: np.ndarray, source: str, stream=None) -> bool:
    """Every verification image getting one label: the network ignores its input. Usual causes: a
    ``--shift`` outside the range of the activations, or inputs on another scale than in training (a
    network trained on [0, 1] fed the raw pixels 0..255 the build uses)."""
    if len(labels) < 10 or len(np.unique(labels)) > 1:
        return False
    print(
        f"warning: all {len(labels)} verification images ({source}) get label {int(labels[0])}: the network's "
        "output does not depend on its input (a shift outside the activations' range? inputs on another scale "
        "than in training? the build feeds raw pixel values 0..255)",
        file=stream or sys.stderr,
    )
    return True


def verification_images(
    net: Network, shape: tuple[int, ...], count: int, dataset: str | None = None, data_dir: Path | None = None
) -> tuple[np.ndarray, np.ndarray | None, str]:
    """The first ``count`` test images (and labels) of a data set, else seeded random UINT8 inputs.

    ``dataset`` (``--dataset``, with ``data_dir``) must load and match the network's input shape
    (DatasetError otherwise). Without it: the data set the checkpoint was trained on (its data folder
    from the checkpoint or ``data_dir``), or Fashion-MNIST for a 1x28x28 input; if that does not load
    or does not fit, random inputs (source "random")."""
    if dataset is not None:
        return (*_test_split(dataset, data_dir, shape, count), dataset)
    default = net.dataset or (default_dataset() if tuple(shape[-3:]) == (1, 28, 28) else None)
    if default is None and data_dir is not None:
        raise DatasetError(f"--data-dir {data_dir}: which data set is it? add --dataset (the network records none)")
    if default is not None:
        try:
            return (*_test_split(default, data_dir or net.data_dir, shape, count), default)
        except DatasetError:
            if data_dir is not None:  # the user's folder: its error, not a silent fall-back to random images
                raise
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(count, *shape[1:])).astype(np.float32), None, "random"


def _test_split(name: str, data_dir, shape: tuple[int, ...], count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` test images of ``name`` as float32 pixels with their labels (evenly spread over an
    image folder, whose files are sorted by class)."""
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; valid datasets: {', '.join(DATASETS)}")
    data = load_data(DataSpec(name, None if data_dir is None else str(data_dir), image_size=shape[-1]), train=False)
    if hasattr(data, "images"):
        images, labels = data.images[:count].numpy(), data.labels[:count].numpy()
    else:
        picks = np.linspace(0, len(data) - 1, min(count, len(data))).round().astype(int)
        items = [data[int(i)] for i in picks]
        images, labels = np.stack([x.numpy() for x, _ in items]), np.array([y for _, y in items])
    if tuple(images.shape[1:]) != tuple(shape[-3:]):
        raise DatasetError(
            f"dataset {name} has images of shape {list(images.shape[1:])}, the network takes {list(shape[-3:])}"
        )
    return images.astype(np.float32), labels.astype(np.int64)


def load_onnx(source: Path, target: Path):
    """Copy a user's QONNX file into the build, with a clear error when it is not ONNX, has an input the
    build cannot feed, or holds NaN/inf."""
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper

    from flow.compiler.export import clean_qonnx
    from flow.compiler.transforms.label_head import RemoveLabelPreservingOutputs

    check_onnx_file(source)
    model = ModelWrapper(str(source))
    check_finite_graph(model, f"ONNX {source}")  # before cleanup renames the user's tensors
    given = model.get_tensor_datatype(model.graph.input[0].name)  # FLOAT32 where not annotated
    if given.name not in ("FLOAT32", "UINT8"):
        raise BuildError(
            f"{source}: input {model.graph.input[0].name!r} is annotated {given.name}; the build feeds pixel "
            "values 0..255 (UINT8): export the network for 8-bit pixel inputs"
        )
    model = clean_qonnx(model)
    model.set_tensor_datatype(model.graph.input[0].name, DataType["UINT8"])
    head = RemoveLabelPreservingOutputs()
    model = model.transform(head)
    if head.removed:
        print(
            f"warning: {source}: {', '.join(head.removed)} removed from the output: the hardware outputs the "
            "label, which softmax does not change; the build compiles and verifies the logits before it",
            file=sys.stderr,
        )
    model.save(str(target))
    return model
