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

``bireal_cnv`` is the small member for 28x28 / 32x32 inputs (Fashion-MNIST, CIFAR-10), built for FINN
and the RTL backend (``downsample="maxpool"``, the default):

- stem: binary-weight 3x3 conv on the raw pixels (zero-padded: the input is UINT8, not bipolar) + BN;
- three stages of 64/128/256 channels x ``width``; stages 2 and 3 start with a 2x2 max-pool of the
  residual stream and, where the width changes, a *projection* block ``Q(BN(conv(sign(x - t))))``
  (no shortcut: an identity cannot change the channel count); every other block is a Bi-Real block
  ``x <- Q(x + Q(BN(conv(sign(x - t)))))`` with an identity shortcut;
- global average pooling, BN, ``sign(x - t)``, binary linear, positive LogitScale (the xnornet head).

``Q`` is ONE shared quantizer (``shortcut_bits`` signed integers, constant power-of-two scale
``shortcut_range / 2**(bits-1)``, see ``quant.ResidualQuant``), so the shortcut stream is an integer
stream in hardware and the add is exact; ``shortcut_bits=None`` keeps it in float (Q = identity) for the
accuracy comparison. ``downsample="conv"`` is the earlier float-only layout (stride-2 binary convs, AvgPool
-> 1x1 conv -> BN shortcuts), kept so results measured with it stay reproducible.
"""

from __future__ import annotations

from brevitas.nn import QuantConv2d, QuantLinear
from torch import nn

from brevitas_models.binary_resnet import DEPTHS, BinaryConv, BinaryResNet, BiRealBlock, resolve_shifts
from brevitas_models.quant import ShiftedBinaryAct, ShiftSpec, residual_quant, weight_quant
from brevitas_models.xnornet import PIXEL_SCALE, LogitScale

CNV_WIDTHS = (64, 128, 256)


class QuantBiRealBlock(nn.Module):
    """``Q(x + Q(BN(conv(sign(x - t)))))`` (identity shortcut), or ``Q(BN(conv(sign(x - t))))`` when
    ``cin != cout`` (projection). ``quant`` is the shared residual quantizer (or ``nn.Identity``)."""

    def __init__(self, cin: int, cout: int, shift, quant: nn.Module, **opts):
        super().__init__()
        self.body = BinaryConv(cin, cout, 1, shift, **opts)
        self.quant = quant
        self.identity = cin == cout

    def forward(self, x):
        y = self.quant(self.body(x))
        return self.quant(x + y) if self.identity else y


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
        downsample: str = "maxpool",
        shortcut_bits: int | None = 8,
        shortcut_range: float = 8.0,
    ):
        super().__init__()
        if len(blocks) != len(CNV_WIDTHS) or min(blocks) < 1:
            raise ValueError(f"blocks must be {len(CNV_WIDTHS)} positive counts, got {blocks}")
        if in_size % 4:
            raise ValueError(f"in_size must be a multiple of 4 (two down-sampling stages), got {in_size}")
        if downsample not in ("maxpool", "conv"):
            raise ValueError(f"downsample must be 'maxpool' or 'conv', got {downsample!r}")
        if downsample == "conv" and shortcut_bits is not None:
            raise ValueError("downsample='conv' has float 1x1-conv shortcuts: use shortcut_bits=None")
        widths = [max(1, round(w * width)) for w in CNV_WIDTHS]
        wq = weight_quant(weight_scaling)
        # One module instance used at every residual point = one shared scale.
        self.residual_quant = nn.Identity() if shortcut_bits is None else residual_quant(shortcut_bits, shortcut_range)
        self.stem = nn.Sequential(
            QuantConv2d(in_channels, widths[0], 3, padding=1, bias=False, weight_quant=wq),
            nn.BatchNorm2d(widths[0]),
            self.residual_quant,
        )
        shifts = resolve_shifts(shift, sum(blocks) + 1)
        opts = {"shift_mode": shift_mode, "learnable": learnable_shift, "weight_scaling": weight_scaling}
        layers, cin, k = [], widths[0], 0
        for stage, (cout, depth) in enumerate(zip(widths, blocks, strict=True)):
            if stage > 0 and downsample == "maxpool":
                layers.append(nn.MaxPool2d(2))
            for i in range(depth):
                if downsample == "conv":
                    block = BiRealBlock(cin, cout, 2 if stage > 0 and i == 0 else 1, [shifts[k]], **opts)
                else:
                    block = QuantBiRealBlock(cin, cout, shifts[k], self.residual_quant, **opts)
                layers.append(block)
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
    return BinaryResNet(block="bireal", **{"depths": DEPTHS[18], **kwargs})


def bireal_resnet34(**kwargs) -> BinaryResNet:
    """Bi-Real-Net-34: 32 binary convs, each with its own real shortcut."""
    return BinaryResNet(block="bireal", **{"depths": DEPTHS[34], **kwargs})
