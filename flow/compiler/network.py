"""What a build compiles: its options, the network (a Brevitas model or a user's QONNX file) and the
images it is verified on."""

from __future__ import annotations

import copy
import math
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
from flow.data.builtin import DatasetError
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
    image_size: int | None = None  # the size the checkpoint's data set was read at (image folders)
    classes: list[str] | None = None  # the checkpoint's class names (label i = classes[i]), where it has them


def load_network(cfg: BuildConfig) -> Network:
    if cfg.onnx is not None:
        return Network(cfg.onnx.stem, None, (), None, None)
    checkpoint = cfg.checkpoint or (DEFAULT_CHECKPOINT if cfg.model is None else None)
    meta = {}
    if checkpoint is not None:
        model, payload = load_checkpoint(checkpoint, expect_model=cfg.model)
        name, kwargs, meta = payload["model"], payload["kwargs"], payload["meta"]
        what = f"checkpoint {checkpoint}"
    else:
        name, kwargs = cfg.model, dict(cfg.model_kwargs or {})
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
            raise BuildError(f"--shift {shift_text(cfg.shift)}: {exc}") from None
        check_finite_model(model, f"{what} with --shift {cfg.shift}")
        shift, trained_shift = cfg.shift, shift
    else:
        trained_shift = None
    return Network(name, model, network_shape(name, kwargs, meta), shift, meta.get("dataset"), trained, trained_shift,
                   meta.get("data_dir"), meta.get("image_size"), meta.get("classes"))  # fmt: skip


def network_shape(name: str, kwargs: dict, meta: dict) -> tuple[int, ...]:
    """One input image's shape: the images the checkpoint was trained on where they fit the model (an
    MLP trained on 3 x 28 x 28 images takes them as such, flattening inside), else the registry's."""
    shape = input_shape(name, kwargs)
    trained = tuple(meta.get("input_shape") or ())
    if len(trained) == 3 and all(isinstance(d, int) and d > 0 for d in trained):
        if (len(shape) == 1 and math.prod(trained) == shape[0]) or trained == shape:
            return trained
    return shape


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
        f"warning: --shift {shift_text(net.shift)} changes a trained network (trained with shift "
        f"{net.trained_shift}): {change}",
        file=stream,
    )
    return record


def shift_text(shift) -> str:
    """``0.8`` or ``0.5,0,0``: a --shift value as the user typed it."""
    return ",".join(f"{t:g}" for t in shift) if isinstance(shift, list) else f"{shift:g}"


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
    net: Network,
    shape: tuple[int, ...],
    count: int,
    dataset: str | None = None,
    data_dir: Path | None = None,
    image_size: int | None = None,
) -> tuple[np.ndarray, np.ndarray | None, str]:
    """``(images, labels or None, source)``: the first ``count`` test images of a data set, or seeded
    random UINT8 inputs (source "random").

    ``dataset`` (``--dataset``, with ``data_dir`` and ``image_size``) must load and fit the network's
    input (DatasetError otherwise). Without it: the data set the checkpoint was trained on (its folder
    and image size from the checkpoint unless given), and random inputs for a network whose data set is
    unknown (a user's ONNX, an untrained model). A checkpoint's data set that no longer loads is a
    warning, then random inputs."""
    if dataset is not None:
        return (*_test_split(dataset, data_dir, image_size, shape, count), dataset)
    if net.dataset is None and data_dir is not None:
        raise DatasetError(f"--data-dir {data_dir}: which data set is it? add --dataset (the network records none)")
    if net.dataset is not None:
        try:
            size = image_size or net.image_size
            return (*_test_split(net.dataset, data_dir or net.data_dir, size, shape, count), net.dataset)
        except DatasetError as exc:
            if data_dir is not None:  # the user's folder: its error, not a fall-back to random images
                raise
            print(
                f"warning: the checkpoint's data set {net.dataset} does not load here ({exc}): verifying on random "
                "inputs (--dataset and --data-dir verify on its images)",
                file=sys.stderr,
            )
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(count, *shape[1:])).astype(np.float32), None, "random"


def network_image_size(shape: tuple[int, ...]) -> int | None:
    """The square RGB image size a network takes: ``N x 3 x S x S``, or an MLP's ``N x 3*S*S`` (None:
    neither, and the data set's own default applies)."""
    if len(shape) == 4:
        return shape[-1]
    side = math.isqrt(shape[-1] // 3) if len(shape) == 2 and shape[-1] % 3 == 0 else 0
    return side if side and 3 * side * side == shape[-1] else None


def _test_split(name: str, data_dir, image_size, shape: tuple[int, ...], count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` test images of ``name`` as float32 pixels with their labels (evenly spread over a lazy
    image folder, whose files are sorted by class), in the network's input shape: an MLP that takes a
    flat vector gets each image flattened (C, H, W order, as the model flattens it)."""
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; valid datasets: {', '.join(DATASETS)}")
    if name == "imagenet" and image_size is None:
        image_size = network_image_size(shape)
    data = load_data(DataSpec(name, None if data_dir is None else str(data_dir), image_size=image_size), train=False)
    if hasattr(data, "images"):
        images, labels = data.images[:count].numpy(), data.labels[:count].numpy()
    else:
        picks = np.linspace(0, len(data) - 1, min(count, len(data))).round().astype(int)
        items = [data[int(i)] for i in picks]
        images, labels = np.stack([x.numpy() for x, _ in items]), np.array([y for _, y in items])
    want = tuple(shape[1:])
    if tuple(images.shape[1:]) != want and len(want) == 1 and math.prod(images.shape[1:]) == want[0]:
        images = images.reshape(len(images), -1)
    if tuple(images.shape[1:]) != want:
        raise DatasetError(
            f"dataset {name} has images of shape {list(images.shape[1:])}, the network takes {list(want)}"
        )
    return images.astype(np.float32), labels.astype(np.int64)


def load_onnx(source: Path, target: Path):
    """Copy a user's QONNX file into the build, with a clear error when it is not ONNX, has an input the
    build cannot feed, or holds NaN/inf."""
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

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
    model = cleanup_model(model)
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
