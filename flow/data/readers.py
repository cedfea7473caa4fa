"""Training data: every data set as uint8 pixels (the models scale by 1/255 themselves), its class
count read from its labels (or folders), never from its name.

- ``fashion-mnist``, ``digits``: from ``flow.data.builtin`` (offline).
- ``mnist``: MNIST-format IDX files (``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``,
  ``t10k-...``) in ``--data-dir`` (also torchvision's ``MNIST/raw`` layout); any image size, any
  number of classes (Fashion-MNIST, KMNIST, EMNIST files are this format too).
- ``cifar10`` / ``cifar100``: CIFAR python batches in ``--data-dir`` (``data_batch_*`` + ``test_batch``,
  or CIFAR-100's ``train`` + ``test``), any number of classes.
- ``image-folder``: ``--data-dir`` with ``train/<class>/<image>`` and ``test/<class>/<image>`` (or
  ``val/``), decoded into memory as the files are (grayscale or RGB), at their own size or
  ``--image-size`` (flow/data/images.py).
- ``imagenet``: the same layout (``train/`` and ``val/``), decoded lazily, RGB, ImageNet's resize and
  crop to ``--image-size`` (default 224).

Labels must be the integers 0..K-1 with every class present in the training split; K is the class
count (``DataInfo``), and the test labels must lie in 0..K-1. torchvision cannot be installed beside
torch 2.13 CPU in this venv, so nothing is downloaded here: put the standard files into a folder and
pass ``--data-dir``.
"""

from __future__ import annotations

import codecs
import io
import pickle
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from flow.data.builtin import Split, load_split
from flow.data.checks import (
    DatasetError,
    check_images_and_labels,
    check_label_range,
    class_count,
    open_data_file,
    read_idx,
)
from flow.data.images import ImageFolder, class_names, read_image_folder, split_folder

DATASETS = ("fashion-mnist", "digits", "mnist", "cifar10", "cifar100", "image-folder", "imagenet")
BUILTIN = ("fashion-mnist", "digits")
# Horizontal flips are label-preserving for clothes and natural images, not for digits; a user's image
# folder may hold either, so it is not flipped.
FLIP_OK = {"fashion-mnist": True, "cifar10": True, "cifar100": True, "imagenet": True, "mnist": False,
           "digits": False, "image-folder": False}  # fmt: skip
IMAGENET_SIZE = 224
MAX_CIFAR_BATCH_BYTES = 1 << 30  # an official batch is 31 MB (CIFAR-10) or 155 MB (CIFAR-100's train)


def _find(root: Path, name: str) -> Path:
    for cand in (root / name, root / f"{name}.gz", root / "MNIST" / "raw" / name, root / "raw" / name):
        if cand.exists() or cand.is_symlink():
            return cand  # read_idx refuses what is not a regular file, with the reason
    raise DatasetError(f"{name}[.gz] not found in {root} (MNIST-format IDX files expected)")


def _mnist(root: Path, train: bool) -> Split:
    prefix = "train" if train else "t10k"
    image_file, label_file = _find(root, f"{prefix}-images-idx3-ubyte"), _find(root, f"{prefix}-labels-idx1-ubyte")
    images, labels = read_idx(image_file), read_idx(label_file)
    check_images_and_labels(images, labels, image_file, label_file)
    if images.ndim != 3:
        raise DatasetError(f"{image_file} holds an array of shape {list(images.shape)}, not images (N, H, W)")
    labels = torch.from_numpy(labels.astype(np.int64))
    return Split(torch.from_numpy(images[:, None].copy()), labels, label_source=str(label_file))


def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    """Python 3's protocol-2 pickles store bytes as ``_codecs.encode(text, "latin1")``: only that codec."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"_codecs.encode with {encoding!r} is not part of the CIFAR-10 format")
    return codecs.encode(text, "latin1")


class CifarUnpickler(pickle.Unpickler):
    """The CIFAR-10 python batches are pickles (a dict of bytes keys, lists and one numpy uint8 array),
    and unpickling runs whatever callable a file names. This unpickler resolves only the names that
    format needs: numpy's array reconstructor (``numpy.core`` in numpy 1 pickles, ``numpy._core`` in
    numpy 2 ones), ``ndarray``, ``dtype``, numpy scalars and protocol 2's bytes encoder; any other global
    (``os.system``, ``builtins.eval``, ...) is refused before it is called."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): np.ndarray.__reduce__(np.zeros(0))[0],
        ("numpy._core.multiarray", "_reconstruct"): np.ndarray.__reduce__(np.zeros(0))[0],
        ("numpy.core.multiarray", "scalar"): np.uint8(0).__reduce__()[0],
        ("numpy._core.multiarray", "scalar"): np.uint8(0).__reduce__()[0],
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _latin1_bytes,
    }

    def find_class(self, module: str, name: str):
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"global {module}.{name} is not part of the CIFAR-10 format") from None


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR python batch -> (uint8 images (N, 3, 32, 32), int64 labels (N,)), read safely
    (``labels``, or CIFAR-100's ``fine_labels``)."""
    with open_data_file(path) as fh:
        raw = fh.read(MAX_CIFAR_BATCH_BYTES + 1)
    if len(raw) > MAX_CIFAR_BATCH_BYTES:
        raise DatasetError(f"{path} is larger than any CIFAR batch ({MAX_CIFAR_BATCH_BYTES >> 20} MB)")
    try:
        batch = CifarUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise DatasetError(f"{path} is not a CIFAR-10 batch ({exc})") from None
    if not isinstance(batch, dict):
        raise DatasetError(f"{path} is not a CIFAR-10 batch (not a dict)")
    data = batch.get(b"data", batch.get("data"))
    labels = next((batch[k] for k in (b"labels", "labels", b"fine_labels", "fine_labels") if k in batch), None)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DatasetError(f"{path}: 'data' must be a uint8 array of shape (N, 3072)")
    if len(data) == 0:
        raise DatasetError(f"{path} holds no images")
    labels = np.asarray(labels)
    if labels.shape != (len(data),) or labels.dtype.kind not in "iu" or labels.min(initial=0) < 0:
        raise DatasetError(f"{path}: 'labels' must be {len(data)} non-negative integers")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def _cifar_batches(root: Path, train: bool) -> list[Path]:
    """CIFAR-10's ``data_batch_<k>`` / ``test_batch`` or CIFAR-100's ``train`` / ``test``, in their own
    folder (``cifar-10-batches-py``, ``cifar-100-python``) or in ``root`` itself."""
    for folder in (root / "cifar-10-batches-py", root / "cifar-100-python", root):
        if not folder.is_dir():
            continue
        batches = sorted(folder.glob("data_batch_*"), key=lambda p: [int(n) for n in re.findall(r"\d+", p.name)])
        if batches or (folder / "test_batch").exists():
            return batches if train else [folder / "test_batch"]
        if (folder / "train").exists() or (folder / "test").exists():
            return [folder / ("train" if train else "test")]
    raise DatasetError(f"no CIFAR python batches in {root} (data_batch_1..5 + test_batch, or CIFAR-100's train + test)")


def _cifar(root: Path, train: bool) -> Split:
    images, labels = [], []
    for path in _cifar_batches(root, train):
        batch_images, batch_labels = read_cifar_batch(path)
        images.append(batch_images)
        labels.append(batch_labels)
    if not images:
        raise DatasetError(f"no data_batch_* files in {root} (CIFAR python batches expected)")
    return Split(torch.from_numpy(np.concatenate(images)), torch.from_numpy(np.concatenate(labels)))


@dataclass
class DataSpec:
    name: str
    data_dir: str | None = None
    image_size: int | None = None  # image-folder: resize to N x N (None: the files' size); imagenet: crop


@dataclass(frozen=True)
class DataInfo:
    """What the data set says about the network it needs."""

    num_classes: int  # K: labels are 0..K-1
    classes: list[str] | None  # class names (an image folder's sub-folders); None: numbered labels
    input_shape: tuple[int, ...]  # one image (C, H, W)
    flip: bool  # horizontal flips keep the label


def effective_image_size(name: str, image_size: int | None) -> int | None:
    """The image size a data set is read at: imagenet's crop (224 by default), an image folder's resize
    (None: the files' own size); None for the data sets with a fixed size."""
    if name == "imagenet":
        return image_size or IMAGENET_SIZE
    return image_size if name == "image-folder" else None


def load_data(spec: DataSpec, train: bool) -> Split | ImageFolder:
    """An in-memory ``Split``, or a lazy ``ImageFolder`` (imagenet)."""
    if spec.name in BUILTIN:
        return load_split(spec.name, train)
    if spec.name not in DATASETS:
        raise DatasetError(f"unknown dataset {spec.name!r}; valid datasets: {', '.join(DATASETS)}")
    if spec.data_dir is None:
        raise DatasetError(
            f"{spec.name} needs --data-dir (torchvision's download is unavailable in this environment; "
            "copy the standard files into a folder)"
        )
    root = Path(spec.data_dir)
    if not root.is_dir():
        raise DatasetError(f"--data-dir {root} is not a folder")
    if spec.name == "mnist":
        return _mnist(root, train)
    if spec.name in ("cifar10", "cifar100"):
        return _cifar(root, train)
    size = effective_image_size(spec.name, spec.image_size)
    if spec.name == "image-folder":
        images, labels, classes = read_image_folder(root, train, size)
        return Split(torch.from_numpy(images), torch.from_numpy(labels), classes)
    classes = class_names(split_folder(root, True))
    return ImageFolder(root / ("train" if train else "val"), size, train, classes)


def load_train_test(spec: DataSpec) -> tuple[Split | ImageFolder, Split | ImageFolder, DataInfo]:
    """Both splits and what they say: K from the training labels (0..K-1, every class present), the
    test labels checked against it."""
    train, test = load_data(spec, True), load_data(spec, False)
    where = spec.name if spec.data_dir is None else f"{spec.name} in {spec.data_dir}"
    k = class_count(train.labels.numpy(), _label_source(train) or f"{where}, training split")
    check_label_range(test.labels.numpy(), k, _label_source(test) or f"{where}, test split")
    info = DataInfo(k, train.classes, input_shape_of(train), FLIP_OK[spec.name])
    return train, test, info


def _label_source(data: Split | ImageFolder) -> str | None:
    return getattr(data, "label_source", None)


def input_shape_of(data: Split | ImageFolder) -> tuple[int, ...]:
    if isinstance(data, ImageFolder):
        return (3, data.size, data.size)
    return tuple(data.images.shape[1:])


def validation_split(data: Split | ImageFolder, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """``(train indices, validation indices)``: per class, ``round(fraction * n_c)`` images held out
    (a class with one image keeps it), picked by a fixed-seed permutation that does not depend on the
    run's seed, so every run of a sweep is chosen on the same images. Both sorted."""
    labels = data.labels.numpy()
    order = np.random.default_rng(20_231_031).permutation(len(labels))
    held = np.zeros(len(labels), bool)
    for c in np.unique(labels):
        members = order[labels[order] == c]
        take = min(int(round(fraction * len(members))), len(members) - 1)
        held[members[:take]] = True
    return np.flatnonzero(~held), np.flatnonzero(held)


def subset(data: Split | ImageFolder, indices: np.ndarray, train: bool | None = None) -> Split | ImageFolder:
    """The images at ``indices`` (an ImageFolder: ``train`` sets its random crops and flips)."""
    if isinstance(data, ImageFolder):
        out = ImageFolder.__new__(ImageFolder)
        out.classes, out.size = data.classes, data.size
        out.train = data.train if train is None else train
        out.samples = [data.samples[i] for i in indices]
        out.labels = data.labels[torch.as_tensor(indices, dtype=torch.long)]
        return out
    index = torch.as_tensor(indices, dtype=torch.long)
    return Split(data.images[index], data.labels[index], data.classes, data.label_source)
