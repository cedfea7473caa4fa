"""Offline image-classification datasets as uint8 pixel tensors (N, C, H, W) and int64 labels.

Models take raw pixel values 0..255 (the FINN graph input is UINT8), so no normalisation here.
- ``fashion-mnist``: the IDX files of Debian's ``dataset-fashion-mnist`` (or ``$FASHION_MNIST_DIR``).
- ``digits``: scikit-learn's bundled 8x8 digits (1,797 images, values 0..16 rescaled to 0..255),
  split 80/20 with a fixed seed; for smoke tests and machines without Fashion-MNIST.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

FASHION_MNIST_DIRS = ("/usr/share/datasets/fashion-mnist",)
DATASETS = ("fashion-mnist", "digits")


class DatasetError(ValueError):
    """The requested dataset is unknown or not present on this machine."""


@dataclass
class Split:
    images: torch.Tensor  # uint8 (N, C, H, W)
    labels: torch.Tensor  # int64 (N,)

    def __len__(self) -> int:
        return len(self.labels)


def _read_idx(path: Path) -> np.ndarray:
    """IDX format: magic (2 zero bytes, dtype code 0x08 = uint8, ndim), big-endian dims, raw data."""
    with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as f:
        data = f.read()
    if data[:3] != b"\x00\x00\x08":
        raise DatasetError(f"{path} is not a uint8 IDX file")
    ndim = data[3]
    dims = np.frombuffer(data, dtype=">u4", count=ndim, offset=4).astype(int)
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def fashion_mnist_dir() -> Path | None:
    candidates = [os.environ.get("FASHION_MNIST_DIR", ""), *FASHION_MNIST_DIRS]
    for c in candidates:
        if c and (Path(c) / "t10k-images-idx3-ubyte.gz").is_file():
            return Path(c)
    return None


def _fashion_mnist(train: bool) -> Split:
    root = fashion_mnist_dir()
    if root is None:
        raise DatasetError("Fashion-MNIST not found: install Debian's dataset-fashion-mnist or set FASHION_MNIST_DIR")
    prefix = "train" if train else "t10k"
    images = _read_idx(root / f"{prefix}-images-idx3-ubyte.gz")[:, None]
    labels = _read_idx(root / f"{prefix}-labels-idx1-ubyte.gz")
    return Split(torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64)))


def _digits(train: bool) -> Split:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.clip(np.round(bunch.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)[:, None]
    order = np.random.default_rng(0).permutation(len(images))
    cut = int(0.8 * len(images))
    idx = order[:cut] if train else order[cut:]
    return Split(torch.from_numpy(images[idx]), torch.from_numpy(bunch.target[idx].astype(np.int64)))


def load_split(name: str, train: bool) -> Split:
    """Load the train or test split of ``name`` (one of DATASETS)."""
    loaders = {"fashion-mnist": _fashion_mnist, "digits": _digits}
    if name not in loaders:
        raise DatasetError(f"unknown dataset {name!r}; valid datasets: {', '.join(DATASETS)}")
    return loaders[name](train)


def default_dataset() -> str:
    """Fashion-MNIST where present, else scikit-learn's digits."""
    return "fashion-mnist" if fashion_mnist_dir() is not None else "digits"
