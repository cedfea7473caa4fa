"""Offline image-classification datasets as uint8 pixel tensors (N, C, H, W) and int64 labels.

Models take raw pixel values 0..255 (the FINN graph input is UINT8), so no normalisation here.
- ``fashion-mnist``: the IDX files of Debian's ``dataset-fashion-mnist`` (or ``$FASHION_MNIST_DIR``).
- ``digits``: scikit-learn's bundled 8x8 digits (1,797 images, values 0..16 rescaled to 0..255),
  split 80/20 with a fixed seed; for smoke tests and machines without Fashion-MNIST.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from flow.data.checks import DatasetError, check_images_and_labels, read_idx

__all__ = ["DATASETS", "DatasetError", "Split", "default_dataset", "fashion_mnist_dir", "load_split"]

FASHION_MNIST_DIRS = ("/usr/share/datasets/fashion-mnist",)
DATASETS = ("fashion-mnist", "digits")


@dataclass
class Split:
    images: torch.Tensor  # uint8 (N, C, H, W)
    labels: torch.Tensor  # int64 (N,)
    classes: list[str] | None = None  # class names where the data set has them (an image folder)
    label_source: str | None = None  # the file the labels were read from (named by label errors)

    def __len__(self) -> int:
        return len(self.labels)


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
    image_file, label_file = root / f"{prefix}-images-idx3-ubyte.gz", root / f"{prefix}-labels-idx1-ubyte.gz"
    images, labels = read_idx(image_file), read_idx(label_file)
    check_images_and_labels(images, labels, image_file, label_file)
    images = images[:, None]
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
