"""Model registry: name -> factory, plus the input shape each model expects.

Every factory takes keyword-only arguments (``shift`` among them) that are plain JSON types, so a
checkpoint can record them and be loaded with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


def build_model(name: str, **kwargs) -> nn.Module:
    """Instantiate a registered model; unknown names give a ValueError listing the valid ones."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; valid models: {', '.join(list_models())}")
    entry = MODELS[name]
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
