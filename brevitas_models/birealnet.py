"""Bi-Real-Net family with the shifted binary activation.

Liu, Wu, Luo, Yang, Liu, Cheng: *Bi-Real Net: Enhancing the Performance of 1-bit CNNs with Improved
Representational Capability and Advanced Training Algorithm*, ECCV 2018, https://arxiv.org/abs/1808.00278

A real-valued identity shortcut around every binary 3x3 conv (``x + BN(conv(sign(x - t)))``) keeps the
real activations flowing; float first/last layers; real down-sampling shortcuts (AvgPool -> 1x1 conv
-> BN). Kim et al. (CVPR 2021, https://arxiv.org/abs/2012.00938) shift the threshold of every
``sign``.

Reported ImageNet top-1 (paper numbers, 224x224, not reproduced here):

===============  ==================
model            ImageNet top-1 %
===============  ==================
Bi-Real-Net-18   56.4
Bi-Real-Net-34   62.2
===============  ==================

Kim et al. report gains from the shifted threshold on top of such ResNet BNNs (see their tables);
the Fashion-MNIST numbers measured here are in docs/training.md.

``bireal_cnv`` is the small member for 28x28 / 32x32 inputs (Fashion-MNIST, CIFAR-10) built for FINN:
a binary-weight 3x3 stem on the raw pixels (zero-padded: the input is UINT8, not bipolar), three
stages of Bi-Real blocks (64/128/256 channels x ``width``, ``blocks`` per stage, stride-2 binary conv
with -1 padding to enter stages 2 and 3), global average pooling, BatchNorm, ``sign(x - t)``, and the
xnornet head (binary linear + positive LogitScale).
"""

from __future__ import annotations

from brevitas.nn import QuantConv2d, QuantLinear
from torch import nn

from brevitas_models.binary_resnet import DEPTHS, BinaryResNet, BiRealBlock, resolve_shifts
from brevitas_models.quant import ShiftedBinaryAct, ShiftSpec, weight_quant
from brevitas_models.xnornet import PIXEL_SCALE, LogitScale

CNV_WIDTHS = (64, 128, 256)


class BiRealCNV(nn.Module):
    """Small Bi-Real-Net for 28x28 and 32x32 inputs (see the module docstring)."""

    def __init__(
        self,
        *,
        in_channels: int = 1,
        in_size: int = 28,
        num_classes: int = 10,
        width: float = 1.0,
        blocks: tuple[int, ...] | list[int] = (2, 2, 2),
        shift: ShiftSpec | list = 0.0,
        shift_mode: str = "layer",
        learnable_shift: bool = False,
        weight_scaling: str = "per_tensor",
    ):
        super().__init__()
        if len(blocks) != len(CNV_WIDTHS) or min(blocks) < 1:
            raise ValueError(f"blocks must be {len(CNV_WIDTHS)} positive counts, got {blocks}")
        if in_size % 4:
            raise ValueError(f"in_size must be a multiple of 4 (two stride-2 stages), got {in_size}")
        widths = [max(1, round(w * width)) for w in CNV_WIDTHS]
        wq = weight_quant(weight_scaling)
        self.stem = nn.Sequential(
            QuantConv2d(in_channels, widths[0], 3, padding=1, bias=False, weight_quant=wq), nn.BatchNorm2d(widths[0])
        )
        shifts = resolve_shifts(shift, sum(blocks) + 1)
        opts = {"shift_mode": shift_mode, "learnable": learnable_shift, "weight_scaling": weight_scaling}
        layers, cin, k = [], widths[0], 0
        for stage, (cout, depth) in enumerate(zip(widths, blocks, strict=True)):
            for i in range(depth):
                layers.append(BiRealBlock(cin, cout, 2 if stage > 0 and i == 0 else 1, [shifts[k]], **opts))
                cin, k = cout, k + 1
        self.stages = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head_bn = nn.BatchNorm1d(cin)
        self.head_act = ShiftedBinaryAct(
            shifts[-1], channels=cin, per_channel=shift_mode == "channel", learnable=learnable_shift
        )
        self.classifier = QuantLinear(cin, num_classes, bias=False, weight_quant=weight_quant("per_tensor"))
        self.logit_scale = LogitScale(cin**-0.5)

    def forward(self, x):
        x = self.stages(self.stem(x * PIXEL_SCALE))
        x = self.head_act(self.head_bn(self.pool(x).flatten(1)))
        return self.logit_scale(self.classifier(x))


def bireal_cnv(**kwargs) -> BiRealCNV:
    """Bi-Real CNV; defaults are Fashion-MNIST shape, use in_channels=3, in_size=32 for CIFAR-10."""
    return BiRealCNV(**kwargs)


def bireal_resnet18(**kwargs) -> BinaryResNet:
    """Bi-Real-Net-18: 16 binary convs, each with its own real shortcut."""
    return BinaryResNet(block="bireal", depths=DEPTHS[18], **kwargs)


def bireal_resnet34(**kwargs) -> BinaryResNet:
    """Bi-Real-Net-34: 32 binary convs, each with its own real shortcut."""
    return BinaryResNet(block="bireal", depths=DEPTHS[34], **kwargs)
