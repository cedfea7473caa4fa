"""Model registry: name -> factory, plus the input shape each model expects.

Every factory takes keyword-only arguments (``shift`` among them) that are plain JSON types, so a
checkpoint can record them and be loaded with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from brevitas_models import birealnet, resnet_hw, xnornet


@dataclass(frozen=True)
class ModelEntry:
    factory: Callable[..., nn.Module]
    summary: str
    defaults: dict  # keyword defaults that differ from the factory's own (e.g. dataset shape)


MODELS: dict[str, ModelEntry] = {
    "xnor_mlp": ModelEntry(xnornet.xnor_mlp, "XNOR-Net MLP (TFC/SFC/LFC widths), 784 inputs", {}),
    "xnor_cnv": ModelEntry(xnornet.xnor_cnv, "XNOR-Net BNN-PYNQ CNV, 32x32x3 or 28x28x1", {}),
    "xnor_resnet18": ModelEntry(
        xnornet.xnor_resnet18, "XNOR-Net ResNet-18, float stem/classifier, 224x224x3", {"in_size": 224}
    ),
    "bireal_cnv": ModelEntry(
        birealnet.bireal_cnv, "Bi-Real-Net small CNV, 28x28x1 or 32x32x3", {"in_channels": 1, "in_size": 28}
    ),
    "bireal_resnet18": ModelEntry(birealnet.bireal_resnet18, "Bi-Real-Net-18, 224x224x3", {"in_size": 224}),
    "bireal_resnet34": ModelEntry(birealnet.bireal_resnet34, "Bi-Real-Net-34, 224x224x3", {"in_size": 224}),
    # Hardware-ready variants (integer stem, shortcuts and classifier; brevitas_models/resnet_hw.py)
    "bireal_resnet18_hw": ModelEntry(
        resnet_hw.bireal_resnet18_hw, "Bi-Real-Net-18 for FINN/RTL, 224x224x3", {"in_size": 224}
    ),
    "bireal_resnet34_hw": ModelEntry(
        resnet_hw.bireal_resnet34_hw, "Bi-Real-Net-34 for FINN/RTL, 224x224x3", {"in_size": 224}
    ),
    "xnor_resnet18_hw": ModelEntry(
        resnet_hw.xnor_resnet18_hw, "XNOR-Net ResNet-18 for FINN/RTL, 224x224x3", {"in_size": 224}
    ),
}


def list_models() -> list[str]:
    return sorted(MODELS)


def _integer(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _finite(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _positive_ints(v, most: int = 8192) -> bool:
    return isinstance(v, list | tuple) and 0 < len(v) <= 64 and all(_integer(x) and 0 < x <= most for x in v)


def _sized(v, low: int, high: int) -> bool:
    return _integer(v) and low <= v <= high


# The factories' shared argument vocabulary: each value checked by type and range before a factory sees
# it, so that a misspelt choice ("shift_mode": "chanel") or a JSON true for a count fails in one line
# instead of silently selecting a default branch (and being recorded in the checkpoint as given). Sizes
# are bounded so that building a model to check its arguments never allocates gigabytes (a layer of
# 8192 x 8192 weights is 256 MB of float32 latent weights).
ARGUMENT_RULES: dict[str, tuple[Callable[[object], bool], str]] = {
    "shift": (lambda v: _finite(v) or (isinstance(v, list | tuple) and len(v) <= 1024 and all(_finite(x) for x in v))
              or (isinstance(v, torch.Tensor) and bool(torch.isfinite(v).all())),
              "a finite number or a list of them"),
    "shift_mode": (lambda v: v in ("layer", "channel"), "'layer' or 'channel'"),
    "weight_scaling": (lambda v: v in ("per_tensor", "per_channel"), "'per_tensor' or 'per_channel'"),
    "learnable_shift": (lambda v: isinstance(v, bool), "true or false"),
    "width": (lambda v: _finite(v) and 0 < v <= 8, "a number in (0, 8]"),
    "shortcut_range": (lambda v: _finite(v) and v > 0, "a number > 0"),
    "hidden": (_positive_ints, "a list of at most 64 integers in 1..8192"),
    "blocks": (lambda v: _positive_ints(v, 64), "a list of at most 64 integers in 1..64"),
    "depths": (lambda v: _positive_ints(v, 64), "a list of at most 64 integers in 1..64"),
    "stem": (lambda v: v in ("auto", "imagenet", "cifar"), "'auto', 'imagenet' or 'cifar'"),
    "downsample": (lambda v: v in ("maxpool", "conv"), "'maxpool' or 'conv'"),
    "shortcut_bits": (lambda v: v is None or (_integer(v) and 1 <= v <= 32), "an integer 1..32 or null"),
    **{k: (lambda v: _integer(v) and 1 <= v <= 32, "an integer 1..32") for k in ("stem_bits", "classifier_bits")},
    "in_channels": (lambda v: _sized(v, 1, 1024), "an integer in 1..1024"),
    "in_size": (lambda v: _sized(v, 1, 4096), "an integer in 1..4096"),
    "in_features": (lambda v: _sized(v, 1, 1 << 16), "an integer in 1..65536"),
    "num_classes": (lambda v: _sized(v, 1, 10_000), "an integer in 1..10000"),
}  # fmt: skip


def check_arguments(name: str, kwargs: dict) -> None:
    """ValueError naming the first argument whose value the rules above refuse."""
    for key, value in kwargs.items():
        ok, wants = ARGUMENT_RULES.get(key, (lambda v: True, ""))
        if not ok(value):
            raise ValueError(f"{name}: {key} must be {wants}, got {value!r}")


def build_model(name: str, **kwargs) -> nn.Module:
    """Instantiate a registered model; unknown names give a ValueError listing the valid ones, a bad
    argument value a ValueError naming it (``check_arguments``)."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; valid models: {', '.join(list_models())}")
    entry = MODELS[name]
    check_arguments(name, kwargs)
    return entry.factory(**{**entry.defaults, **kwargs})


def input_shape(name: str, kwargs: dict) -> tuple[int, ...]:
    """Per-image input shape (C, H, W) implied by a model's constructor arguments."""
    merged = {**MODELS[name].defaults, **kwargs}
    if "in_features" in merged or name.endswith("_mlp"):
        side = {784: 28, 64: 8}.get(merged.get("in_features", 784))
        if side is None:
            return (merged["in_features"],)
        return (1, side, side)
    return (merged.get("in_channels", 3), merged.get("in_size", 32), merged.get("in_size", 32))
