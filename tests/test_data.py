"""flow/data: data sets described by their content (class count from the labels or folders, channels and
size from the files), and every bad file one DatasetError line that names it (and exit 2 from the CLIs)."""

from __future__ import annotations

import gzip
import os
import pickle
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from data_folders import idx_bytes, pattern_images, write_cifar_folder, write_image_folder, write_mnist_folder

from flow.data import readers
from flow.data.checks import DatasetError, read_idx

pytestmark = pytest.mark.fast


def load(name: str, root: Path, image_size=None):
    return readers.load_train_test(readers.DataSpec(name, str(root), image_size))


@pytest.mark.parametrize("num_classes", [2, 3, 10, 12, 27])
def test_mnist_format_class_count_comes_from_the_labels(tmp_path, num_classes):
    write_mnist_folder(tmp_path, num_classes, train=4 * num_classes, test=num_classes, size=9)
    train, test, info = load("mnist", tmp_path)
    assert info.num_classes == num_classes and info.input_shape == (1, 9, 9) and info.classes is None
    assert train.images.dtype == torch.uint8 and len(train) == 4 * num_classes and len(test) == num_classes


@pytest.mark.parametrize(("layout", "num_classes"), [("cifar10", 4), ("cifar100", 13)])
def test_cifar_format_any_class_count(tmp_path, layout, num_classes):
    write_cifar_folder(tmp_path / "c", num_classes, layout)
    train, test, info = load(layout, tmp_path / "c")
    assert info.num_classes == num_classes and info.input_shape == (3, 32, 32)
    assert len(train) == (40 if layout == "cifar10" else 20) and len(test) == 20


@pytest.mark.parametrize(("mode", "channels"), [("L", 1), ("RGB", 3)])
def test_image_folder_is_read_as_the_files_are(tmp_path, mode, channels):
    write_image_folder(tmp_path, ["b_cat", "a_dog", "c_owl"], size=(10, 14), mode=mode)
    train, test, info = load("image-folder", tmp_path)
    assert info.num_classes == 3 and info.classes == ["a_dog", "b_cat", "c_owl"]  # sorted folder names
    assert info.input_shape == (channels, 14, 10) and train.images.shape == (24, channels, 14, 10)
    assert sorted(set(test.labels.tolist())) == [0, 1, 2] and not info.flip
    _, _, resized = load("image-folder", tmp_path, image_size=8)  # shorter side to 8, centre crop 8 x 8
    assert resized.input_shape == (channels, 8, 8)


def test_one_rgb_file_makes_the_data_set_rgb(tmp_path):
    from PIL import Image

    write_image_folder(tmp_path, ["a", "b"], mode="L")
    Image.new("RGB", (16, 16), (200, 10, 10)).save(tmp_path / "test" / "a" / "zz.png")
    train, test, info = load("image-folder", tmp_path)
    assert info.input_shape == (3, 16, 16) and test.images.shape[1] == 3
    gray = train.images[0]
    assert torch.equal(gray[0], gray[1]) and torch.equal(gray[1], gray[2])  # a gray file, replicated


def test_validation_split_is_per_class_and_the_same_for_every_run(tmp_path):
    write_mnist_folder(tmp_path, 12, train=240, test=24)
    train, _, _ = load("mnist", tmp_path)
    keep, held = readers.validation_split(train, 0.1)
    again_keep, again_held = readers.validation_split(train, 0.1)
    assert np.array_equal(held, again_held) and np.array_equal(keep, again_keep)
    assert len(held) == 24 and np.array_equal(np.sort(np.concatenate([keep, held])), np.arange(240))
    assert np.bincount(train.labels.numpy()[held], minlength=12).tolist() == [2] * 12


def test_labels_must_be_zero_to_k_minus_one(tmp_path):
    write_mnist_folder(tmp_path, 4, train=40, test=8)
    labels = np.array([0, 3, 5, 7] * 10)  # a subset of MNIST's classes, not relabelled
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    missing = r"train-labels-idx1-ubyte.gz: .* up to 7 occur, but 1, 2, 4, 6 have no image .* 0\.\.3"
    with pytest.raises(DatasetError, match=missing):
        load("mnist", tmp_path)
    write_mnist_folder(tmp_path, 4, train=40, test=8)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.array([0, 1, 2, 9] * 2))))
    with pytest.raises(DatasetError, match=r"t10k-labels-idx1-ubyte.gz: label 9 is outside 0\.\.3"):
        load("mnist", tmp_path)


def _idx_faults(tmp_path: Path) -> dict[str, tuple[bytes, str]]:
    """Broken variants of a valid 5-image IDX file: name -> (raw bytes before gzip, expected message)."""
    images, _ = pattern_images(2, 5, (1, 6, 6), np.random.default_rng(1))
    good = idx_bytes(images[:, 0])
    rng = np.random.default_rng(7)
    cuts = sorted(rng.choice(np.arange(1, len(good)), size=6, replace=False))
    faults = {f"truncated-at-{c}": (good[:c], "is truncated") for c in cuts}
    faults["trailing-bytes"] = (good + b"\x00", "bytes after")
    faults["bad-magic"] = (b"\x12\x34" + good[2:], "not an IDX file")
    faults["int32-type"] = (good[:2] + b"\x0c" + good[3:], "type 0x0c")
    faults["zero-images"] = (idx_bytes(np.zeros((0, 6, 6), np.uint8)), "holds no images")
    faults["empty-file"] = (b"", "is truncated")
    return faults


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_every_broken_idx_file_is_one_error_naming_it(tmp_path, gz):
    for name, (raw, message) in _idx_faults(tmp_path).items():
        path = tmp_path / (f"{name}.gz" if gz else name)
        path.write_bytes(gzip.compress(raw) if gz else raw)
        with pytest.raises(DatasetError, match=message) as info:
            read_idx(path)
        assert str(path) in str(info.value) and "\n" not in str(info.value), name


def test_corrupt_gzip_streams(tmp_path):
    images, _ = pattern_images(2, 5, (1, 6, 6), np.random.default_rng(1))
    packed = gzip.compress(idx_bytes(images[:, 0]))
    rng = np.random.default_rng(3)
    cases = {"not-gzip.gz": b"plain text, not gzip", "cut.gz": packed[: len(packed) // 2]}
    for k, at in enumerate(rng.choice(np.arange(12, len(packed) - 8), size=5, replace=False)):
        flipped = bytearray(packed)
        flipped[at] ^= 0xFF
        cases[f"flipped-{k}.gz"] = bytes(flipped)
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(DatasetError) as info:
            read_idx(tmp_path / name)
        assert str(tmp_path / name) in str(info.value), name


def test_image_and_label_counts_must_match(tmp_path):
    write_mnist_folder(tmp_path, 3, train=30, test=9)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.arange(8) % 3)))
    with pytest.raises(DatasetError, match="holds 9 images but .*t10k-labels-idx1-ubyte.gz holds 8 labels"):
        load("mnist", tmp_path)


def _no_hang(call, seconds: float = 20.0):
    """``call()`` in a thread; the test fails (instead of hanging) when it blocks."""
    outcome = {}

    def target():
        try:
            call()
        except Exception as exc:  # the expected DatasetError, handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the reader blocked (opened a FIFO?)"
    return outcome.get("error")


def test_fifos_and_other_non_files_are_refused_without_opening_them(tmp_path):
    write_mnist_folder(tmp_path / "m", 3, train=30, test=9)
    (tmp_path / "m" / "train-images-idx3-ubyte.gz").unlink()
    os.mkfifo(tmp_path / "m" / "train-images-idx3-ubyte.gz")
    error = _no_hang(lambda: load("mnist", tmp_path / "m"))
    assert isinstance(error, DatasetError) and "is a FIFO, not a regular file" in str(error)
    write_image_folder(tmp_path / "f", ["a", "b"])
    os.mkfifo(tmp_path / "f" / "train" / "b" / "fifo.png")
    error = _no_hang(lambda: load("image-folder", tmp_path / "f"))
    assert isinstance(error, DatasetError) and "fifo.png is a FIFO, not a regular file" in str(error)
    os.unlink(tmp_path / "f" / "train" / "b" / "fifo.png")
    (tmp_path / "f" / "train" / "b" / "dir.png").mkdir()
    (tmp_path / "f" / "test" / "a" / "dangling.png").symlink_to(tmp_path / "nowhere.png")
    error = _no_hang(lambda: load("image-folder", tmp_path / "f"))
    assert isinstance(error, DatasetError) and "dir.png is a folder, not a regular file" in str(error)
    os.rmdir(tmp_path / "f" / "train" / "b" / "dir.png")
    with pytest.raises(DatasetError, match="dangling.png: cannot read it"):
        load("image-folder", tmp_path / "f")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda f: (f / "train" / "a" / "0000.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage"),
            "0000.png is not a readable",
        ),
        (lambda f: (f / "test" / "b" / "x.jpg").write_bytes(b""), "x.jpg is not a readable image"),
        (lambda f: _truncate(f / "train" / "b" / "0001.png"), "0001.png is not a readable image"),
        (lambda f: (f / "train" / "c").mkdir(), "train/c holds no images"),
        (lambda f: (f / "test" / "zebra").mkdir(), "class folders the training split lacks: zebra"),
        (lambda f: _rename(f / "test", f / "other"), r"has no test/<class>/ \(or val/<class>/\) folder"),
        (lambda f: _resize_one(f / "train" / "a" / "0000.png"), "images differ in size .* give --image-size"),
    ],
    ids=["not-png", "empty-jpg", "truncated-png", "empty-class", "unknown-test-class", "no-test-split", "sizes"],
)
def test_broken_image_folders(tmp_path, damage, message):
    folder = write_image_folder(tmp_path / "f", ["a", "b"])
    (folder / "train" / "a" / ".DS_Store").write_bytes(b"junk")  # hidden files are skipped, not errors
    (folder / "train" / "a" / "notes.txt").write_text("not an image")  # so are other extensions
    assert load("image-folder", folder)[2].num_classes == 2
    damage(folder)
    with pytest.raises(DatasetError, match=message):
        load("image-folder", folder)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:60])


def _rename(old: Path, new: Path) -> None:
    old.rename(new)


def _resize_one(path: Path) -> None:
    from PIL import Image

    Image.new("L", (20, 16)).save(path)


def test_cifar_batches_refuse_fifos_and_huge_files(tmp_path):
    write_cifar_folder(tmp_path / "c", 3)
    (tmp_path / "c" / "test_batch").unlink()
    os.mkfifo(tmp_path / "c" / "test_batch")
    error = _no_hang(lambda: load("cifar10", tmp_path / "c"))
    assert isinstance(error, DatasetError) and "test_batch is a FIFO, not a regular file" in str(error)
    (tmp_path / "c" / "test_batch").unlink()
    (tmp_path / "c" / "test_batch").write_bytes(pickle.dumps({b"data": np.zeros((0, 3072), np.uint8), b"labels": []}))
    with pytest.raises(DatasetError, match="test_batch holds no images"):
        load("cifar10", tmp_path / "c")


@pytest.mark.parametrize("tool", ["train", "sweep"])
def test_the_clis_turn_a_bad_file_into_one_error_line(tmp_path, capsys, tool):
    import importlib

    main = importlib.import_module(f"flow.{tool}").main
    write_mnist_folder(tmp_path / "m", 3, train=30, test=9)
    bad = tmp_path / "m" / "t10k-images-idx3-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:-9])  # a truncated download
    argv = ["--model", "xnor_mlp", "--dataset", "mnist", "--data-dir", str(tmp_path / "m"), "--epochs", "1"]
    assert main([*argv, "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and str(bad) in err[-1] and "gzip" in err[-1], err
    assert not (tmp_path / "out" / "checkpoint.pt").exists()


def test_a_head_that_does_not_fit_the_labels_is_one_line(tmp_path, capsys):
    from flow.train import main

    write_mnist_folder(tmp_path / "m", 12, train=48, test=12)
    argv = ["--model", "xnor_mlp", "--dataset", "mnist", "--data-dir", str(tmp_path / "m"), "--epochs", "1"]
    argv += ["--model-kwargs", '{"num_classes": 10}', "--output", str(tmp_path / "out")]
    assert main(argv) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == (
        "error: xnor_mlp with num_classes=10 does not fit the data set (12 classes (labels 0..11)): num_classes=12"
    )
