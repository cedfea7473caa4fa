"""Generated user data sets in the formats flow/data reads: an MNIST-format IDX folder, a CIFAR python
folder (CIFAR-10 or CIFAR-100 layout) and an image folder, for any class count, image size and channel
count. Each class draws a bright block at its own place of a grid over the image on a dim noise
background, so a small network learns it in an epoch or two and the labels are not arbitrary."""

from __future__ import annotations

import gzip
import math
import pickle
from pathlib import Path

import numpy as np


def pattern_images(num_classes: int, count: int, shape: tuple[int, ...], rng) -> tuple[np.ndarray, np.ndarray]:
    """``count`` uint8 images of ``shape`` (C, H, W) with labels cycling over 0..K-1."""
    labels = np.arange(count) % num_classes
    images = rng.integers(0, 60, (count, *shape)).astype(np.uint8)
    side = math.ceil(math.sqrt(num_classes))
    cell_h, cell_w = max(1, shape[1] // side), max(1, shape[2] // side)
    for i, c in enumerate(labels):
        row, col = divmod(int(c), side)
        images[i, :, row * cell_h : (row + 1) * cell_h, col * cell_w : (col + 1) * cell_w] = 240
    return images, labels.astype(np.int64)


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(path: Path, array: np.ndarray) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def write_mnist_folder(root: Path, num_classes: int, train: int = 240, test: int = 60, size: int = 12, seed=0) -> Path:
    """``train-images-idx3-ubyte.gz`` ... ``t10k-labels-idx1-ubyte.gz`` in ``root``."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for prefix, count in (("train", train), ("t10k", test)):
        images, labels = pattern_images(num_classes, count, (1, size, size), rng)
        write_idx(root / f"{prefix}-images-idx3-ubyte.gz", images[:, 0])
        write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return root


def write_cifar_folder(root: Path, num_classes: int, layout: str = "cifar10", per_batch: int = 20, seed=0) -> Path:
    """CIFAR-10's ``data_batch_1..2`` + ``test_batch`` or CIFAR-100's ``train`` + ``test`` (``fine_labels``)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    names = ["data_batch_1", "data_batch_2", "test_batch"] if layout == "cifar10" else ["train", "test"]
    key = b"labels" if layout == "cifar10" else b"fine_labels"
    for name in names:
        images, labels = pattern_images(num_classes, per_batch, (3, 32, 32), rng)
        batch = {b"data": images.reshape(per_batch, -1), key: labels.tolist(), b"batch_label": name.encode()}
        (root / name).write_bytes(pickle.dumps(batch, protocol=2))
    return root


def write_image_folder(
    root: Path, classes: list[str], train: int = 8, test: int = 3, size=(16, 16), mode: str = "L", seed=0
) -> Path:
    """``root/train/<class>/NNN.png`` and ``root/test/<class>/NNN.png``; ``mode`` "L" or "RGB"."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    channels = 1 if mode == "L" else 3
    for split, count in (("train", train), ("test", test)):
        images, labels = pattern_images(len(classes), count * len(classes), (channels, size[1], size[0]), rng)
        for i, (image, label) in enumerate(zip(images, labels, strict=True)):
            folder = root / split / classes[label]
            folder.mkdir(parents=True, exist_ok=True)
            pixels = image[0] if mode == "L" else image.transpose(1, 2, 0)
            Image.fromarray(pixels, mode).save(folder / f"{i:04d}.png")
    return root
