"""XNOR-Net family with the shifted binary activation.

Rastegari et al., *XNOR-Net: ImageNet Classification Using Binary Convolutional Neural Networks*,
ECCV 2016, https://arxiv.org/abs/1603.05279 — binary weights (optionally scaled by a per-output-channel
alpha) and binary activations; here every activation is ``sign(x - t)`` (Kim et al., CVPR 2021).

Topologies follow Brevitas' bnn_pynq (Umuroglu et al., FINN, FPGA 2017): ``xnor_mlp`` is the
TFC/SFC/LFC family (widths configurable), ``xnor_cnv`` the CNV VGG-like network. ``xnor_resnet18``
is the ImageNet ResNet-18 with binary 3x3 convs and float first/last layers (brevitas_models/binary_resnet.py).

Reported ImageNet top-1 (Rastegari et al.; not reproduced here): XNOR-Net AlexNet 44.2 %,
XNOR-Net ResNet-18 51.2 %. Fashion-MNIST numbers measured here are in docs/training.md.

Hardware-facing conventions shared by every model here:
- Inputs are raw pixel values 0..255 (the FINN graph input is UINT8); the model scales by 1/255
  itself, which FINN streamlines into the first layer's thresholds.
- Layer block = binary-weight linear/conv (no bias) -> BatchNorm -> ShiftedBinaryAct [-> MaxPool].
- The last layer is a binary-weight linear layer whose accumulator is scaled by one positive scalar
  (a learnable temperature); FINN absorbs that scalar into TopK, so the hardware outputs the label.
- No zero padding: FINN pads bipolar maps with -1 where PyTorch pads with 0.
"""

from __future__ import annotations

import torch
from brevitas.nn import QuantConv2d, QuantLinear
from torch import nn

from brevitas_models.binary_resnet import DEPTHS, BinaryResNet
from brevitas_models.quant import ShiftedBinaryAct, ShiftSpec, weight_quant

PIXEL_SCALE = 1.0 / 255.0

# (out_channels, max-pool after this conv) — BNN-PYNQ CNV.
CNV_CONVS = ((64, False), (64, True), (128, False), (128, True), (256, False), (256, False))
CNV_FCS = (512, 512)
KERNEL = 3
POOL = 2


class LogitScale(nn.Module):
    """Positive scalar on the last accumulator (ranking-preserving, absorbed into TopK by FINN)."""

    def __init__(self, init: float):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(float(init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


def _act(shift: ShiftSpec, channels: int, shift_mode: str, learnable: bool) -> ShiftedBinaryAct:
    return ShiftedBinaryAct(shift, channels=channels, per_channel=shift_mode == "channel", learnable=learnable)


def _resolve_shifts(shift: ShiftSpec | list, count: int) -> list:
    """One shift per binary layer: a scalar/per-channel value for all, or a list of ``count`` values."""
    if isinstance(shift, list | tuple) and len(shift) == count and count > 1:
        return list(shift)
    return [shift] * count


class XnorMLP(nn.Module):
    """Binary MLP: ``in_features`` -> hidden widths -> ``num_classes``."""

    def __init__(
        self,
        *,
        in_features: int = 784,
        hidden: tuple[int, ...] = (256, 256, 256),
        num_classes: int = 10,
        shift: ShiftSpec | list = 0.0,
        shift_mode: str = "layer",
        learnable_shift: bool = False,
        weight_scaling: str = "per_tensor",
    ):
        super().__init__()
        shifts = _resolve_shifts(shift, len(hidden))
        layers: list[nn.Module] = []
        width = in_features
        for out, t in zip(hidden, shifts, strict=True):
            layers += [
                QuantLinear(width, out, bias=False, weight_quant=weight_quant(weight_scaling)),
                nn.BatchNorm1d(out),
                _act(t, out, shift_mode, learnable_shift),
            ]
            width = out
        self.features = nn.Sequential(*layers)
        self.classifier = QuantLinear(width, num_classes, bias=False, weight_quant=weight_quant("per_tensor"))
        self.logit_scale = LogitScale(width**-0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(x, 1) * PIXEL_SCALE
        return self.logit_scale(self.classifier(self.features(x)))


class XnorCNV(nn.Module):
    """BNN-PYNQ CNV (six 3x3 binary convs, two binary FCs) for ``in_size`` x ``in_size`` inputs.

    Unpadded convs shrink the map by 2; trailing convs that would leave no pixels are dropped, so
    32x32x3 gives BNN-PYNQ's CNV exactly and 28x28x1 keeps five convs (2x2x256 into the FCs).
    ``width`` scales every channel count (1.0 = CNV).
    """

    def __init__(
        self,
        *,
        in_channels: int = 3,
        in_size: int = 32,
        num_classes: int = 10,
        width: float = 1.0,
        shift: ShiftSpec | list = 0.0,
        shift_mode: str = "layer",
        learnable_shift: bool = False,
        weight_scaling: str = "per_tensor",
    ):
        super().__init__()
        convs, size = [], in_size
        for out, pool in CNV_CONVS:
            if size - (KERNEL - 1) < 1:
                break
            size -= KERNEL - 1
            if pool:
                size //= POOL
            convs.append((max(1, round(out * width)), pool))
        fcs = [max(1, round(f * width)) for f in CNV_FCS]
        shifts = _resolve_shifts(shift, len(convs) + len(fcs))
        wq = weight_quant(weight_scaling)

        layers: list[nn.Module] = []
        channels = in_channels
        for (out, pool), t in zip(convs, shifts, strict=False):
            layers += [
                QuantConv2d(channels, out, KERNEL, bias=False, weight_quant=wq),
                nn.BatchNorm2d(out),
                _act(t, out, shift_mode, learnable_shift),
            ]
            if pool:
                layers.append(nn.MaxPool2d(POOL))
            channels = out
        self.features = nn.Sequential(*layers)

        fc_layers: list[nn.Module] = []
        width_in = channels * size * size
        for out, t in zip(fcs, shifts[len(convs) :], strict=True):
            fc_layers += [
                QuantLinear(width_in, out, bias=False, weight_quant=wq),
                nn.BatchNorm1d(out),
                _act(t, out, shift_mode, learnable_shift),
            ]
            width_in = out
        self.fcs = nn.Sequential(*fc_layers)
        self.classifier = QuantLinear(width_in, num_classes, bias=False, weight_quant=weight_quant("per_tensor"))
        self.logit_scale = LogitScale(width_in**-0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x * PIXEL_SCALE)
        x = self.fcs(torch.flatten(x, 1))
        return self.logit_scale(self.classifier(x))


def xnor_mlp(**kwargs) -> XnorMLP:
    """XNOR-Net MLP (TFC: hidden=(64,)*3, SFC: (256,)*3, LFC: (1024,)*4)."""
    return XnorMLP(**kwargs)


def xnor_cnv(**kwargs) -> XnorCNV:
    """XNOR-Net CNV; defaults are CIFAR-10 shape, use in_channels=1, in_size=28 for (Fashion-)MNIST."""
    return XnorCNV(**kwargs)


def xnor_resnet18(**kwargs) -> BinaryResNet:
    """XNOR-Net ResNet-18: basic blocks of two binary 3x3 convs; ``weight_scaling='per_channel'`` is XNOR's alpha."""
    return BinaryResNet(block="xnor", **{"depths": DEPTHS[18], **kwargs})
