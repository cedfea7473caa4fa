"""Folders of image files: ``SPLIT/<class>/<image>`` (torchvision's ImageFolder layout), classes numbered
in sorted folder-name order.

- ``read_image_folder``: the generic reader (``--dataset image-folder``): every image decoded into
  memory, grayscale when every file of the data set is grayscale and RGB otherwise, at the files' own
  size (they must all have it) or resized (shorter side) and centre-cropped to ``--image-size``.
- ``ImageFolder``: the ImageNet-style lazy reader (``--dataset imagenet``): RGB, decoded per item with
  the usual resize-256/crop-224 ratio and random crops and flips for training.

Every file is stat'ed when listed and opened through ``open_data_file`` (a FIFO named ``x.png`` must not
block the reader), and every decoding failure is one ``DatasetError`` naming the file.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from flow.data.checks import DatasetError, open_data_file, regular_file

EXTENSIONS = {".jpeg", ".jpg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff", ".pgm", ".ppm"}
GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}
MAX_DECODED_BYTES = 4 << 30  # an image-folder data set is held in memory as uint8; more needs the lazy reader


def split_folder(root: Path, train: bool) -> Path:
    """``root/train`` for training; ``root/test``, else ``root/val``, for testing."""
    names = ("train",) if train else ("test", "val")
    for name in names:
        if (root / name).is_dir():
            return root / name
    wanted = "train/<class>/" if train else "test/<class>/ (or val/<class>/)"
    raise DatasetError(f"image folder {root} has no {wanted} folder (layout: train/<class>/*.png, test/<class>/*.png)")


def class_names(folder: Path) -> list[str]:
    """The sorted class sub-folders of one split."""
    found = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not found:
        raise DatasetError(f"{folder} has no class folders ({folder}/<class>/<image>)")
    return found


def list_samples(folder: Path, classes: list[str] | None = None) -> tuple[list[str], list[tuple[Path, int]]]:
    """Class names (sorted sub-folders; ``classes`` given: those of the training split) and
    ``(file, label)`` for every image file, sorted. Hidden files and other extensions are skipped;
    an image name that is not a regular file (a FIFO, a folder) is an error."""
    found = class_names(folder)
    if classes is None:
        classes = found
    unknown = sorted(set(found) - set(classes))
    if unknown:
        raise DatasetError(f"{folder} has class folders the training split lacks: {', '.join(unknown)}")
    samples = []
    for name in found:
        files = []
        for entry in sorted(os.scandir(folder / name), key=lambda e: e.name):
            path = Path(entry.path)
            if entry.name.startswith(".") or path.suffix.lower() not in EXTENSIONS:
                continue
            regular_file(path)  # before anything opens it: a FIFO would block
            files.append(path)
        if not files:
            raise DatasetError(f"{folder / name} holds no images ({', '.join(sorted(EXTENSIONS))})")
        samples += [(p, classes.index(name)) for p in files]
    return classes, samples


@contextmanager
def _open(path: Path):
    """The image at ``path``, opened through ``open_data_file`` (regular files only) and closed after."""
    from PIL import Image

    with open_data_file(path) as fh:
        try:
            img = Image.open(fh)
        except Exception as exc:  # PIL raises many types for a file that is not an image
            raise DatasetError(f"{path} is not a readable image ({type(exc).__name__}: {exc})") from None
        with img:
            yield img


def decode(path: Path, mode: str, size: int | None) -> np.ndarray:
    """One image as uint8 (C, H, W) in ``mode`` ("L" or "RGB"), resized (shorter side) and centre-cropped
    to ``size`` x ``size`` where given."""
    from PIL import Image

    try:
        with _open(path) as img:
            img = img.convert(mode)
            if size is not None:
                w, h = img.size
                scale = size / min(w, h)
                img = img.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.BILINEAR)
                left, top = (img.size[0] - size) // 2, (img.size[1] - size) // 2
                img = img.crop((left, top, left + size, top + size))
            array = np.asarray(img, dtype=np.uint8)
    except DatasetError:
        raise
    except Exception as exc:  # truncated data, a decoder error, a decompression bomb
        raise DatasetError(f"{path} is not a readable image ({type(exc).__name__}: {exc})") from None
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def header(path: Path) -> tuple[str, tuple[int, int]]:
    """(PIL mode, (width, height)) from the file's header, without decoding the pixels."""
    with _open(path) as img:
        return img.mode, img.size


def read_image_folder(root: Path, train: bool, size: int | None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``(images uint8 (N, C, H, W), labels int64 (N,), class names)`` of one split of ``root``.

    Channels and (without ``size``) the image size are decided over both splits, so the training and
    the test images always come out in the same shape."""
    classes = class_names(split_folder(root, True))
    both = {t: list_samples(split_folder(root, t), classes)[1] for t in (True, False)}
    headers = {p: header(p) for t in (True, False) for p, _ in both[t]}
    mode = "L" if all(m in GRAY_MODES for m, _ in headers.values()) else "RGB"
    first, (_, first_size) = next(iter(headers.items()))
    if size is None:
        other = next(((p, s) for p, (_, s) in headers.items() if s != first_size), None)
        if other is not None:
            raise DatasetError(
                f"images differ in size ({first_size[0]}x{first_size[1]} in {first}, {other[1][0]}x{other[1][1]} "
                f"in {other[0]}): give --image-size N to resize them to N x N"
            )
    samples = both[train]
    channels = 1 if mode == "L" else 3
    w, h = (size, size) if size is not None else first_size
    if len(samples) * channels * w * h > MAX_DECODED_BYTES:
        raise DatasetError(
            f"{root}: {len(samples)} images of {channels}x{h}x{w} exceed {MAX_DECODED_BYTES >> 30} GiB in memory; "
            "a smaller --image-size, or --dataset imagenet (decoded lazily)"
        )
    images = np.stack([decode(p, mode, size) for p, _ in samples])
    labels = np.array([label for _, label in samples], dtype=np.int64)
    return images, labels, classes


class ImageFolder(torch.utils.data.Dataset):
    """ImageNet-style ``root/<class>/<image>`` decoded lazily with Pillow to uint8 (3, size, size)."""

    def __init__(self, root: Path, size: int, train: bool, classes: list[str] | None = None):
        if not root.is_dir():
            raise DatasetError(f"image folder {root} not found")
        self.classes, self.samples = list_samples(root, classes)
        self.size, self.train = size, train
        self.labels = torch.tensor([s[1] for s in self.samples])

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        from PIL import Image

        path, label = self.samples[index]
        try:
            with _open(path) as img:
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
        except DatasetError:
            raise
        except Exception as exc:  # truncated data, a decoder error, a decompression bomb
            raise DatasetError(f"{path} is not a readable image ({type(exc).__name__}: {exc})") from None
        return torch.from_numpy(array), label
