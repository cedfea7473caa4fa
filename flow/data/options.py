"""The data options every CLI that reads a data set shares (flow/train.py, flow/sweep.py, flow/build.py):
one spelling, one help text, one check."""

from __future__ import annotations

import argparse
from pathlib import Path

from flow.core import cli
from flow.data.builtin import DATASETS as BUILTIN
from flow.data.readers import DATASETS

DATASET_HELP = (
    "fashion-mnist, digits: built in; mnist: MNIST-format IDX files; cifar10, cifar100: CIFAR python batches; "
    "image-folder: DIR/train/<class>/ and DIR/test/<class>/ image files, grayscale or RGB as they are; "
    "imagenet: the same layout (val/ for testing), decoded lazily as RGB crops. The class count comes from "
    "the labels (0..K-1) or the class folders"
)


def add_data_options(parser: argparse.ArgumentParser, dataset_default: str | None, dataset_help: str = ""):
    """``--dataset``, ``--data-dir``, ``--image-size`` as one argument group; returns the group."""
    group = parser.add_argument_group("data")
    group.add_argument(
        "--dataset",
        choices=DATASETS,
        default=dataset_default,
        metavar="NAME",
        help=f"{dataset_help}{DATASET_HELP} (one of: {', '.join(DATASETS)})",
    )
    group.add_argument(
        "--data-dir", metavar="DIR", help="the folder with the data set's files (all but the built-in ones)"
    )
    group.add_argument(
        "--image-size",
        type=cli.int_in(8, 4096),
        metavar="N",
        help="image-folder: resize (shorter side) and centre-crop every image to N x N (default: the files' own "
        "size, which must then be the same for all); imagenet: the crop size (default: 224)",
    )
    return group


def check_data_options(args: argparse.Namespace) -> None:
    """What can be checked before anything loads: the folder exists, the data set that needs it has it."""
    if args.data_dir is not None and not Path(args.data_dir).is_dir():
        raise cli.UsageError(f"--data-dir {args.data_dir} is not a folder")
    if args.data_dir is not None and args.dataset in BUILTIN:  # it would be ignored
        raise cli.UsageError(
            f"--data-dir applies to the data sets read from a folder, not the built-in {args.dataset} "
            "(MNIST-format IDX files in a folder: --dataset mnist)"
        )
    if args.dataset is not None and args.dataset not in BUILTIN and args.data_dir is None:
        raise cli.UsageError(f"--dataset {args.dataset} needs --data-dir (the folder with its files)")
    if args.image_size is not None and args.dataset not in (None, "image-folder", "imagenet"):
        raise cli.UsageError(f"--image-size applies to image-folder and imagenet, not {args.dataset}")
