"""Red team, the data-set readers (flow/data/readers.py, checks.py, images.py): the cases issue 28 found
in them. The readers open files through flow/core/inputs.py (``open_regular``) and check what they
read: one ``error:`` line naming the file and what is wrong, exit 2, nothing hangs. Each case trains
the tiny MLP through the CLI."""

from __future__ import annotations

import gzip
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from red_team_checks import assert_one_error

ARGS = ["--model", "xnor_mlp", "--hidden", "16,16,16", "--threads", "1", "--no-progress", "--epochs", "1"]


def idx(array: np.ndarray, dims: list[int] | None = None) -> bytes:
    """An IDX file: magic 0 0 8 ndim, big-endian dims, uint8 data (``dims`` may lie about the data)."""
    dims = list(array.shape) if dims is None else dims
    return bytes([0, 0, 8, len(dims)]) + np.array(dims, ">u4").tobytes() + array.astype(np.uint8).tobytes()


def mnist(folder: Path, images: int = 40, labels: int | None = None, **override: bytes) -> Path:
    """train/t10k IDX files (gzip), ``override``: file name -> raw bytes instead."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix in ("train", "t10k"):
        files = {
            f"{prefix}-images-idx3-ubyte.gz": idx(rng.integers(0, 256, (images, 28, 28))),
            f"{prefix}-labels-idx1-ubyte.gz": idx(rng.integers(0, 10, labels or images)),
        }
        for name, data in files.items():
            (folder / name).write_bytes(override.get(name, gzip.compress(data)))
    return folder


def image_folder(root: Path) -> Path:
    """Two classes of three PNGs, and a FIFO named a.jpg among the training images."""
    from PIL import Image

    for split in ("train", "val"):
        for c in ("c0", "c1"):
            (root / split / c).mkdir(parents=True)
            for i in range(3):
                Image.new("RGB", (16, 16), (i * 40, 0, 0)).save(root / split / c / f"{i}.png")
    os.mkfifo(root / "train" / "c0" / "a.jpg")
    return root


GOOD_IMAGES = idx(np.zeros((40, 28, 28)))
CASES = {  # name -> (make the data folder, fragment the error line should contain)
    "mnist-truncated-gzip": (
        lambda d: mnist(d, **{"train-images-idx3-ubyte.gz": gzip.compress(GOOD_IMAGES)[:-40]}),
        "train-images-idx3-ubyte.gz",
    ),
    "mnist-not-gzip": (lambda d: mnist(d, **{"train-images-idx3-ubyte.gz": GOOD_IMAGES}), "train-images-idx3-ubyte"),
    "mnist-header-lies": (
        lambda d: mnist(d, **{"train-images-idx3-ubyte.gz": gzip.compress(idx(np.zeros((20, 28, 28)), [40, 28, 28]))}),
        "train-images-idx3-ubyte",
    ),
    "mnist-header-short": (lambda d: mnist(d, **{"train-images-idx3-ubyte.gz": gzip.compress(b"\0\0\x08")}), "idx3"),
    "mnist-count-mismatch": (lambda d: mnist(d, images=40, labels=20), "labels"),
    "mnist-zero-images": (lambda d: mnist(d, images=0), "train-images-idx3-ubyte"),
    "mnist-label-out-of-range": (
        lambda d: mnist(d, **{"train-labels-idx1-ubyte.gz": gzip.compress(idx(np.full(40, 200)))}),
        "train-labels-idx1-ubyte",
    ),
}


@pytest.mark.fast
@pytest.mark.parametrize("case", list(CASES))
def test_mnist_reader_case_is_one_line_naming_the_file(case, tmp_path, capsys):
    from flow.train import main

    make, fragment = CASES[case]
    data = make(tmp_path / "data")
    code = main([*ARGS, "--dataset", "mnist", "--data-dir", str(data), "--output", str(tmp_path / "run")])
    assert_one_error(code, capsys.readouterr().err, 2, fragment)


def _unblock(fifo: Path, stop: threading.Event, after_s: float) -> None:
    """After ``after_s``, open the FIFO for writing whenever a reader waits on it (then close it: the
    reader sees an empty file), so that a reader that hangs fails the test instead of hanging it."""
    stop.wait(after_s)
    while not stop.is_set():
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:  # no reader waiting (ENXIO)
            pass
        stop.wait(0.2)


@pytest.mark.fast
def test_image_folder_fifo_is_one_line_and_never_hangs(tmp_path, capsys):
    """A FIFO named a.jpg: without a writer a blocking open waits forever."""
    from flow.train import main

    data = image_folder(tmp_path / "data")
    stop = threading.Event()
    waited = time.monotonic()
    threading.Thread(target=_unblock, args=(data / "train" / "c0" / "a.jpg", stop, 5.0), daemon=True).start()
    argv = [*ARGS, "--dataset", "imagenet", "--image-size", "8", "--workers", "0", "--batch-size", "2"]
    try:
        code = main([*argv, "--data-dir", str(data), "--output", str(tmp_path / "run")])
    finally:
        stop.set()
    assert time.monotonic() - waited < 5.0, "the reader waited on the FIFO"
    assert_one_error(code, capsys.readouterr().err, 2, "a.jpg")
