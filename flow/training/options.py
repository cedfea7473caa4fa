"""The options flow/train.py and flow/sweep.py share: one spelling and one help text per idea.

The threshold shift: ``--shift-mode``, ``--learnable-shift``, ``--shift-as-bn-bias`` (the paper's
control) mean the same in both; a sweep adds the learnable t and the control as extra settings. The
model and training options are the same options with the same defaults, except where the sweep's
purpose differs (``--epochs``, ``--val-split``, ``--progress``), and ``--help`` shows each default.
"""

from __future__ import annotations

import argparse

from brevitas_models.registry import list_models
from flow.core import cli


def add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        required=True,
        choices=list_models(),
        metavar="NAME",
        help=f"registered model: {', '.join(list_models())}",
    )
    m = parser.add_argument_group("model")
    m.add_argument(
        "--weight-scaling",
        choices=("per_tensor", "per_channel"),
        default="per_tensor",
        help="scale of the binary weights",
    )
    m.add_argument("--width", type=cli.positive_float, help="channel multiplier (cnv / resnet models; default: 1)")
    m.add_argument("--hidden", type=cli.parse_ints, help="xnor_mlp hidden widths, e.g. 256,256,256")
    m.add_argument(
        "--model-kwargs",
        type=cli.json_object,
        default={},
        help="extra JSON constructor arguments (num_classes and the input shape come from the data set)",
    )


def add_shift_options(parser: argparse.ArgumentParser, mode_default: str | None, mode_help: str = ""):
    """The threshold-shift group with ``--shift-mode``; returns it (each CLI adds its t options to it)."""
    g = parser.add_argument_group("threshold shift")
    g.add_argument(
        "--shift-mode",
        choices=("layer", "channel"),
        default=mode_default,
        help=f"one t per layer or per channel{mode_help}",
    )
    return g


def add_training_options(parser, epochs: int, min_epochs: int, val_split: float, progress: bool):
    """The training recipe's options; returns the group (each CLI adds its own to it)."""
    t = parser.add_argument_group("training")
    t.add_argument("--epochs", type=cli.int_in(min_epochs), default=epochs, help="epochs per run")
    t.add_argument("--batch-size", type=cli.int_in(1), default=256, help="global batch (split over torchrun processes)")
    t.add_argument("--lr", type=cli.nonnegative_float, default=2e-3, help="Adam learning rate (cosine decay to 0)")
    t.add_argument(
        "--weight-decay", type=cli.nonnegative_float, default=0.0, help="on BatchNorm/scale/float params only"
    )
    t.add_argument(
        "--augment-pad", type=cli.int_in(0, 64), help="random translation in pixels (default: 2 for convs, 0 for MLPs)"
    )
    t.add_argument("--train-limit", type=cli.int_in(1), metavar="N", help="train on the first N images only")
    t.add_argument(
        "--val-split",
        type=_fraction,
        default=val_split,
        metavar="FRACTION",
        help="hold this fraction of the training images out as a validation set (per class; the same images "
        "for every seed): metrics.json reports its accuracy, and a sweep chooses its best setting and "
        "checkpoint on it, never on the test set",
    )
    t.add_argument("--threads", type=cli.int_in(1, cli.MAX_THREADS), help="torch CPU threads (default: all cores)")
    t.add_argument(
        "--workers", type=cli.int_in(0, cli.MAX_WORKERS), default=4, help="processes decoding a lazily read data set"
    )
    t.add_argument("--device", type=cli.device_name, default="auto", help="auto, cpu, cuda or cuda:N")
    t.add_argument("--bf16", action="store_true", help="bfloat16 autocast for training (evaluation stays fp32)")
    t.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=progress, help="per-batch progress bars on stderr"
    )
    return t


def _fraction(text: str) -> float:
    value = cli.finite_float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"want a fraction in [0, 1), got {text!r}")
    return value
