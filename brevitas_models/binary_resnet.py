"""Binary ResNet skeleton shared by ``xnor_resnet18`` (xnornet.py) and the Bi-Real-Net family (birealnet.py).

He et al., *Deep Residual Learning for Image Recognition*, CVPR 2016, https://arxiv.org/abs/1512.03385

As in the BNN literature the first layer (stem) and the last layer (classifier) stay in float; every
3x3 conv in the stages is binary (weights and input activations, ``sign(x - t)``). Down-sampling
shortcuts are real-valued (AvgPool 2x2 -> float 1x1 conv -> BatchNorm, as in Bi-Real-Net); they are
quantized for hardware in a later step. Binary maps are padded with -1 (``BinaryPad``), the value
FINN pads bipolar tensors with, so Brevitas and the hardware agree at the borders.

Block kinds:
- ``"xnor"``: ResNet basic block, one real shortcut per two binary convs
  ``x + BN(conv(sign(BN(conv(sign(x))))))``.
- ``"bireal"``: Bi-Real-Net block, a real shortcut around every binary conv ``x + BN(conv(sign(x)))``.

Stems: ``"imagenet"`` (7x7/2 conv + 3x3/2 max-pool, for 224x224) or ``"cifar"`` (3x3/1 conv, for
28..64 px inputs); ``"auto"`` picks ``cifar`` for ``in_size <= 64``.
"""

from __future__ import annotations

from brevitas.nn import QuantConv2d
from torch import nn

from brevitas_models.quant import ShiftedBinaryAct, ShiftSpec, weight_quant

PIXEL_SCALE = 1.0 / 255.0  # raw 0..255 pixels in, as in xnornet.py
STAGE_WIDTHS = (64, 128, 256, 512)
DEPTHS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}


class BinaryPad(nn.ConstantPad2d):
    """Pad a bipolar map by one pixel with -1 (FINN's padding value for bipolar tensors)."""

    def __init__(self, padding: int = 1):
        super().__init__(padding, -1.0)


class BinaryConv(nn.Module):
    """``BN(conv3x3(pad_-1(sign(x - t))))`` with binary weights."""

    def __init__(self, cin: int, cout: int, stride: int, shift, shift_mode: str, learnable: bool, weight_scaling: str):
        super().__init__()
        self.act = ShiftedBinaryAct(shift, channels=cin, per_channel=shift_mode == "channel", learnable=learnable)
        self.pad = BinaryPad(1)
        self.conv = QuantConv2d(cin, cout, 3, stride=stride, bias=False, weight_quant=weight_quant(weight_scaling))
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(self.pad(self.act(x))))


def real_shortcut(cin: int, cout: int, stride: int) -> nn.Module:
    if stride == 1 and cin == cout:
        return nn.Identity()
    pool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
    return nn.Sequential(pool, nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))


class BiRealBlock(nn.Module):
    """``shortcut(x) + BN(conv(sign(x - t)))``: one real-valued shortcut per binary conv."""

    binary_convs = 1

    def __init__(self, cin: int, cout: int, stride: int, shifts: list, **opts):
        super().__init__()
        self.body = BinaryConv(cin, cout, stride, shifts[0], **opts)
        self.shortcut = real_shortcut(cin, cout, stride)

    def forward(self, x):
        return self.body(x) + self.shortcut(x)


class XnorBasicBlock(nn.Module):
    """ResNet basic block with two binary convs inside one real-valued shortcut."""

    binary_convs = 2

    def __init__(self, cin: int, cout: int, stride: int, shifts: list, **opts):
        super().__init__()
        self.conv1 = BinaryConv(cin, cout, stride, shifts[0], **opts)
        self.conv2 = BinaryConv(cout, cout, 1, shifts[1], **opts)
        self.shortcut = real_shortcut(cin, cout, stride)

    def forward(self, x):
        return self.conv2(self.conv1(x)) + self.shortcut(x)


BLOCKS = {"xnor": XnorBasicBlock, "bireal": BiRealBlock}


def resolve_shifts(shift: ShiftSpec | list, count: int) -> list:
    """A scalar/per-channel value for every binary layer, or a list with one value per layer."""
    if isinstance(shift, list | tuple) and len(shift) == count and count > 1:
        return list(shift)
    return [shift] * count


class BinaryResNet(nn.Module):
    """ResNet with float stem/classifier and binary 3x3 convs; see the module docstring."""

    def __init__(
        self,
        *,
        block: str,
        depths: tuple[int, ...] | list[int],
        in_channels: int = 3,
        in_size: int = 224,
        num_classes: int = 1000,
        width: float = 1.0,
        stem: str = "auto",
        shift: ShiftSpec | list = 0.0,
        shift_mode: str = "layer",
        learnable_shift: bool = False,
        weight_scaling: str = "per_tensor",
    ):
        super().__init__()
        if block not in BLOCKS:
            raise ValueError(f"unknown block {block!r}; choose one of {sorted(BLOCKS)}")
        if stem == "auto":
            stem = "cifar" if in_size <= 64 else "imagenet"
        widths = [max(1, round(w * width)) for w in STAGE_WIDTHS[: len(depths)]]
        if stem == "imagenet":
            self.stem = nn.Sequential(
                nn.Conv2d(in_channels, widths[0], 7, stride=2, padding=3, bias=False),
                nn.BatchNorm2d(widths[0]),
                nn.MaxPool2d(3, stride=2, padding=1),
            )
        elif stem == "cifar":
            self.stem = nn.Sequential(
                nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False), nn.BatchNorm2d(widths[0])
            )
        else:
            raise ValueError(f"unknown stem {stem!r}; choose 'imagenet', 'cifar' or 'auto'")
        kind = BLOCKS[block]
        shifts = resolve_shifts(shift, 2 * sum(depths))
        opts = {"shift_mode": shift_mode, "learnable": learnable_shift, "weight_scaling": weight_scaling}
        # ``depths`` counts ResNet basic blocks (two 3x3 convs); Bi-Real splits each into two blocks.
        per_basic = 2 // kind.binary_convs
        blocks, cin, k = [], widths[0], 0
        for stage, (cout, depth) in enumerate(zip(widths, depths, strict=True)):
            for i in range(depth * per_basic):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(kind(cin, cout, stride, shifts[k : k + kind.binary_convs], **opts))
                cin, k = cout, k + kind.binary_convs
        self.stages = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.stages(self.stem(x * PIXEL_SCALE))
        return self.classifier(self.pool(x).flatten(1))
