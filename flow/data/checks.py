"""Checked reading of data files: every bad file is one ``DatasetError`` line naming the file and the fault.

A data folder is untrusted input: a path may be a FIFO (``open`` would block forever), a device, a
truncated download or a gzip bomb. Every reader here opens through ``flow.core.inputs.open_regular``
(regular files only, a FIFO's open never blocks), reads no more than the file's header declares, and
checks what it read against that header.
"""

from __future__ import annotations

import gzip
import math
import os
import stat
import zlib
from pathlib import Path

import numpy as np

from flow.core.inputs import InputError, file_kind, open_regular

IDX_UINT8 = 0x08  # the IDX type code of unsigned bytes (MNIST, Fashion-MNIST, EMNIST, KMNIST)
MAX_IDX_BYTES = 8 << 30  # a header that declares more than this is not an image data set we can hold


class DatasetError(ValueError):
    """The requested data set is unknown, not present on this machine, or a file of it is not what it should be."""


def regular_file(path: Path) -> os.stat_result:
    """``stat`` of ``path`` without opening it, which must be a regular file (symlinks followed): for
    listing a folder of many images; what is then read goes through ``open_data_file``."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read it ({exc.strerror or type(exc).__name__})") from None
    if not stat.S_ISREG(info.st_mode):
        raise DatasetError(f"{path} is {file_kind(info.st_mode)}, not a regular file; only files are read as data")
    return info


def open_data_file(path: Path):
    """The project's one rule for reading a file (``flow.core.inputs.open_regular``: opened non-blocking,
    refused unless regular), its error as a ``DatasetError``."""
    try:
        return open_regular(path)
    except InputError as exc:
        raise DatasetError(str(exc)) from None


def _read_exactly(stream, count: int, path: Path, what: str) -> bytes:
    data = stream.read(count)
    if len(data) != count:
        raise DatasetError(f"{path} is truncated: {what} needs {count} bytes, the file has {len(data)}")
    return data


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (``.gz`` or raw): magic (2 zero bytes, type code 0x08 = uint8, ndim), big-endian
    dims, then exactly prod(dims) bytes. Truncation, trailing bytes, other type codes, a corrupt gzip
    stream and an empty array are each a ``DatasetError`` naming the file."""
    path = Path(path)
    with open_data_file(path) as raw:
        return _read_idx_stream(raw, path)


def _read_idx_stream(raw, path: Path) -> np.ndarray:
    try:
        with gzip.GzipFile(fileobj=raw, mode="rb") if path.suffix == ".gz" else raw as stream:
            magic = _read_exactly(stream, 4, path, "the IDX header")
            if magic[:2] != b"\x00\x00" or magic[3] == 0:
                raise DatasetError(f"{path} is not an IDX file (header {magic.hex()})")
            if magic[2] != IDX_UINT8:
                raise DatasetError(f"{path} holds IDX type 0x{magic[2]:02x}, not 0x08 (unsigned bytes)")
            ndim = magic[3]
            dims = [int(d) for d in np.frombuffer(_read_exactly(stream, 4 * ndim, path, "the IDX dims"), ">u4")]
            size = math.prod(dims)
            if size > MAX_IDX_BYTES:
                raise DatasetError(f"{path}: the IDX header declares {dims} = {size} bytes, more than a data set here")
            data = _read_exactly(stream, size, path, f"an IDX array of shape {dims}")
            if stream.read(1):
                raise DatasetError(f"{path} has bytes after the {dims} array its header declares")
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise DatasetError(f"{path} is not a complete gzip file ({exc})") from None
    except OSError as exc:
        raise DatasetError(f"{path} cannot be read ({exc.strerror or exc})") from None
    if dims[0] == 0:
        raise DatasetError(f"{path} holds no images (its first dimension is 0)")
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


def check_images_and_labels(images: np.ndarray, labels: np.ndarray, image_file, label_file) -> None:
    """Shapes of one split: images (N, H, W) or (N, C, H, W) with H, W >= 1; labels (N,)."""
    if images.ndim not in (3, 4) or min(images.shape[1:]) < 1:
        raise DatasetError(f"{image_file} holds an array of shape {list(images.shape)}, not images (N, H, W)")
    if labels.ndim != 1:
        raise DatasetError(f"{label_file} holds an array of shape {list(labels.shape)}, not labels (N,)")
    if len(images) != len(labels):
        raise DatasetError(f"{image_file} holds {len(images)} images but {label_file} holds {len(labels)} labels")


def class_count(labels: np.ndarray, where) -> int:
    """K for training labels that are exactly the integers 0..K-1 (every class with an image)."""
    labels = np.asarray(labels)
    if labels.size == 0:
        raise DatasetError(f"{where} holds no images")
    if labels.dtype.kind not in "iu":
        raise DatasetError(f"{where}: labels must be integers, not {labels.dtype}")
    present = np.unique(labels)
    if present[0] < 0:
        raise DatasetError(f"{where}: labels must be 0..K-1, found the label {int(present[0])}")
    k = int(present[-1]) + 1
    if len(present) != k:
        missing = sorted(set(range(k)) - set(present.tolist()))
        shown = ", ".join(map(str, missing[:8])) + (" ..." if len(missing) > 8 else "")
        raise DatasetError(
            f"{where}: labels must be 0..K-1 with every class present; {len(present)} distinct label(s) up to "
            f"{k - 1} occur, but {shown} have no image (relabel the classes 0..{len(present) - 1})"
        )
    return k


def check_label_range(labels: np.ndarray, num_classes: int, where) -> None:
    """Test labels must name one of the ``num_classes`` training classes."""
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)]
        raise DatasetError(
            f"{where}: label {int(bad[0])} is outside 0..{num_classes - 1} (the training labels' {num_classes} classes)"
        )
