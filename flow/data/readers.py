"""Training data: every dataset as uint8 pixels (the models scale by 1/255 themselves).

- ``fashion-mnist``, ``digits``: from ``flow.data.builtin`` (offline).
- ``mnist``: the four IDX files (``train-images-idx3-ubyte[.gz]`` ...) in ``--data-dir`` (also
  torchvision's ``MNIST/raw`` layout).
- ``cifar10``: the ``cifar-10-batches-py`` folder (``data_batch_1..5``, ``test_batch``) in ``--data-dir``.
- ``imagenet``: an ImageFolder layout ``DIR/train/<class>/*.JPEG`` and ``DIR/val/<class>/*.JPEG``,
  decoded lazily with Pillow (resize + centre/random crop to ``image_size``).

torchvision cannot be installed beside torch 2.13 CPU in this venv, so nothing is downloaded here: put
the standard files (e.g. from a machine where ``torchvision.datasets.MNIST(download=True)`` works) into a
folder and pass ``--data-dir``.
"""

from __future__ import annotations

import codecs
import gzip
import io
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from flow.data.builtin import DatasetError, Split, load_split

DATASETS = ("fashion-mnist", "digits", "mnist", "cifar10", "imagenet")
# Horizontal flips are label-preserving for clothes and natural images, not for digits.
FLIP_OK = {"fashion-mnist": True, "cifar10": True, "imagenet": True, "mnist": False, "digits": False}
NUM_CLASSES = {"fashion-mnist": 10, "digits": 10, "mnist": 10, "cifar10": 10, "imagenet": 1000}


def _find(root: Path, name: str) -> Path:
    for cand in (root / name, root / f"{name}.gz", root / "MNIST" / "raw" / name, root / "raw" / name):
        if cand.is_file():
            return cand
    raise DatasetError(f"{name}[.gz] not found in {root} (MNIST IDX files expected)")


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as f:
        data = f.read()
    if data[:3] != b"\x00\x00\x08":
        raise DatasetError(f"{path} is not a uint8 IDX file")
    dims = np.frombuffer(data, dtype=">u4", count=data[3], offset=4).astype(int)
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * data[3]).reshape(dims)


def _mnist(root: Path, train: bool) -> Split:
    prefix = "train" if train else "t10k"
    images = _read_idx(_find(root, f"{prefix}-images-idx3-ubyte"))[:, None]
    labels = _read_idx(_find(root, f"{prefix}-labels-idx1-ubyte")).astype(np.int64)
    return Split(torch.from_numpy(images.copy()), torch.from_numpy(labels))


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
    """One CIFAR-10 python batch -> (uint8 images (N, 3, 32, 32), int64 labels (N,)), read safely."""
    try:
        batch = CifarUnpickler(io.BytesIO(path.read_bytes()), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise DatasetError(f"{path} is not a CIFAR-10 batch ({exc})") from None
    if not isinstance(batch, dict):
        raise DatasetError(f"{path} is not a CIFAR-10 batch (not a dict)")
    data, labels = batch.get(b"data", batch.get("data")), batch.get(b"labels", batch.get("labels"))
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DatasetError(f"{path}: 'data' must be a uint8 array of shape (N, 3072)")
    labels = np.asarray(labels)
    if (
        labels.shape != (len(data),)
        or labels.dtype.kind not in "iu"
        or labels.min(initial=0) < 0
        or labels.max(initial=0) > 9
    ):
        raise DatasetError(f"{path}: 'labels' must be {len(data)} integers 0..9")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def _cifar10(root: Path, train: bool) -> Split:
    folder = root / "cifar-10-batches-py" if (root / "cifar-10-batches-py").is_dir() else root
    names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    images, labels = [], []
    for name in names:
        path = folder / name
        if not path.is_file():
            raise DatasetError(f"{path} not found (CIFAR-10 python batches expected)")
        batch_images, batch_labels = read_cifar_batch(path)
        images.append(batch_images)
        labels.append(batch_labels)
    return Split(torch.from_numpy(np.concatenate(images)), torch.from_numpy(np.concatenate(labels)))


class ImageFolder(torch.utils.data.Dataset):
    """``root/<class>/<image>`` decoded with Pillow to uint8 (3, size, size)."""

    EXTENSIONS = {".jpeg", ".jpg", ".png", ".bmp", ".webp"}

    def __init__(self, root: Path, size: int, train: bool):
        if not root.is_dir():
            raise DatasetError(f"image folder {root} not found")
        self.classes = sorted(p.name for p in root.iterdir() if p.is_dir())
        self.samples = [
            (p, i)
            for i, c in enumerate(self.classes)
            for p in sorted((root / c).iterdir())
            if p.suffix.lower() in self.EXTENSIONS
        ]
        if not self.samples:
            raise DatasetError(f"no images found under {root}/<class>/")
        self.size, self.train = size, train
        self.labels = torch.tensor([s[1] for s in self.samples])

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        from PIL import Image

        path, label = self.samples[index]
        with Image.open(path) as img:
            img = img.convert("RGB")
            short = round(self.size * 256 / 224)  # the usual resize-256 / crop-224 ratio
            w, h = img.size
            scale = short / min(w, h)
            img = img.resize((max(self.size, round(w * scale)), max(self.size, round(h * scale))))
            w, h = img.size
            if self.train:
                left, top = np.random.randint(0, w - self.size + 1), np.random.randint(0, h - self.size + 1)
            else:
                left, top = (w - self.size) // 2, (h - self.size) // 2
            img = img.crop((left, top, left + self.size, top + self.size))
            if self.train and np.random.rand() < 0.5:
                img = img.transpose(Image.FLIP_LEFT_RIGHT)
            array = np.asarray(img, dtype=np.uint8).transpose(2, 0, 1).copy()
        return torch.from_numpy(array), label


@dataclass
class DataSpec:
    name: str
    data_dir: str | None = None
    image_size: int = 224  # imagenet only


def load_data(spec: DataSpec, train: bool) -> Split | ImageFolder:
    """An in-memory ``Split`` (small datasets) or a lazy ``ImageFolder`` (imagenet)."""
    if spec.name in ("fashion-mnist", "digits"):
        return load_split(spec.name, train)
    if spec.name not in DATASETS:
        raise DatasetError(f"unknown dataset {spec.name!r}; valid datasets: {', '.join(DATASETS)}")
    if spec.data_dir is None:
        raise DatasetError(
            f"{spec.name} needs --data-dir (torchvision's download is unavailable in this environment; "
            "copy the standard files into a folder)"
        )
    root = Path(spec.data_dir)
    if spec.name == "mnist":
        return _mnist(root, train)
    if spec.name == "cifar10":
        return _cifar10(root, train)
    return ImageFolder(root / ("train" if train else "val"), spec.image_size, train)


def input_shape_of(data: Split | ImageFolder) -> tuple[int, ...]:
    if isinstance(data, ImageFolder):
        return (3, data.size, data.size)
    return tuple(data.images.shape[1:])
