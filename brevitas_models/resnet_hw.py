"""Hardware-ready binary ResNets: Bi-Real-Net-18/34 and XNOR-Net ResNet-18 that FINN and the RTL backend map.

The float zoo models (binary_resnet.py) keep a float stem, float down-sampling shortcuts and a float
classifier, which FINN cannot map. Here every tensor between layers is an integer stream:

```
x0 = MaxPool2x2(Q(BN(conv_int8(pixels / 255))))              stem (7x7/2 conv + 2x2 max-pool at 224 px;
                                                             3x3/1 conv without pool for <= 64 px)
x  = Q(x + Q(BN(conv3x3(pad_-1(sign(x - t))))))              Bi-Real block (identity shortcut)
x  = Q(x + Q(BN(conv3x3(pad(sign(BN(conv3x3(pad(sign(x - t1)))) - t2))))))   XNOR basic block
x  = MaxPool2x2(x), then the same block without shortcut     entering stages 2..4 ("projection")
y  = LogitScale(linear_int8(GlobalAvgPool(x)))               head; the hardware outputs argmax (TopK)
```

- ``Q`` is ONE shared residual quantizer (``quant.residual_quant``: signed ``shortcut_bits`` integers,
  constant power-of-two scale), as in ``bireal_cnv`` (docs/bireal_hw.md): every add is exact in integers.
- The stem has ``stem_bits``-bit weights (per output channel scale; positive, so FINN folds it into the
  stem's thresholds) on the raw UINT8 pixels, zero-padded (pixel value 0). Hardware: int_mvau.sv.
  ``stem_bits=1``: binary weights alpha_o * sign(W) (XNOR-Net's per-channel scale, as CNV's first layer):
  the stem is then an adder tree of +-pixels, bnn_mvau's integer mode, with no multiplier.
- The classifier has ``classifier_bits``-bit weights with one per-tensor scale and no bias: with the
  positive LogitScale and the pooling's 1/pixels it is one positive scalar that FINN absorbs into TopK,
  so the hardware computes integer logits of the pooled integer sum and selects the label.
- Down-sampling (``downsample="maxpool"``, the hardware form): a 2x2 max-pool of the INT8 residual stream
  and a *projection* block (the block's convs without a shortcut: an identity cannot change the channel
  count). ``downsample="conv"`` is Bi-Real's own form on the same quantized stream (stride-2 binary conv,
  AvgPool 2x2 -> float 1x1 conv -> BN -> Q shortcut): an accuracy reference only, FINN cannot map it.
  The stem's 2x2 max-pool replaces ResNet's 3x3/2 (bnn_maxpool.sv pools with kernel = stride).

Shifts: one ``t`` per binary conv (``2 * sum(depths)`` of them) as in the float models.
"""

from __future__ import annotations

from brevitas.nn import QuantConv2d, QuantLinear
from brevitas.quant import Int8WeightPerChannelFloat, Int8WeightPerTensorFloat
from torch import nn

from brevitas_models.binary_resnet import DEPTHS, STAGE_WIDTHS, BinaryConv, resolve_shifts
from brevitas_models.quant import BinaryWeightPerChannelScaled, ShiftSpec, residual_quant
from brevitas_models.xnornet import PIXEL_SCALE, LogitScale

DOWNSAMPLE = ("maxpool", "conv")
BINARY_CONVS = {"bireal": 1, "xnor": 2}  # binary convs per block (Bi-Real splits a basic block in two)


class HwBlock(nn.Module):
    """``Q(shortcut(x) + Q(BN(convs(x))))``; without a shortcut (projection) ``Q(BN(convs(x)))``.

    ``convs`` is one binary conv (Bi-Real) or two (XNOR basic block); the first has ``stride``."""

    def __init__(self, kind: str, cin: int, cout: int, stride: int, shifts: list, quant, shortcut, **opts):
        super().__init__()
        chans = [cin, cout, cout][: BINARY_CONVS[kind] + 1]
        self.convs = nn.Sequential(
            *[
                BinaryConv(a, b, stride if i == 0 else 1, shifts[i], **opts)
                for i, (a, b) in enumerate(zip(chans, chans[1:], strict=False))
            ]
        )
        self.quant = quant
        self.shortcut = shortcut

    def forward(self, x):
        y = self.quant(self.convs(x))
        return y if self.shortcut is None else self.quant(self.shortcut(x) + y)


def _shortcut(cin: int, cout: int, entry: bool, downsample: str, quant) -> nn.Module | None:
    """Identity inside a stage; at a stage entry none (maxpool form) or Bi-Real's float one (conv form)."""
    if not entry:
        return nn.Identity() if cin == cout else None
    if downsample == "maxpool":
        return None if cin != cout else nn.Identity()
    return nn.Sequential(nn.AvgPool2d(2), nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), quant)


class HardwareResNet(nn.Module):
    """See the module docstring."""

    def __init__(
        self,
        *,
        block: str,
        depths: tuple[int, ...] | list[int] = DEPTHS[18],
        in_channels: int = 3,
        in_size: int = 224,
        num_classes: int = 1000,
        width: float = 1.0,
        stem: str = "auto",
        shift: ShiftSpec | list = 0.0,
        shift_mode: str = "layer",
        learnable_shift: bool = False,
        weight_scaling: str = "per_tensor",
        downsample: str = "maxpool",
        shortcut_bits: int = 8,
        shortcut_range: float = 8.0,
        stem_bits: int = 8,
        classifier_bits: int = 8,
    ):
        super().__init__()
        if block not in BINARY_CONVS:
            raise ValueError(f"unknown block {block!r}; choose one of {sorted(BINARY_CONVS)}")
        if downsample not in DOWNSAMPLE:
            raise ValueError(f"downsample must be one of {DOWNSAMPLE}, got {downsample!r}")
        if not 1 <= len(depths) <= len(STAGE_WIDTHS) or min(depths) < 1:
            raise ValueError(f"depths must be 1..{len(STAGE_WIDTHS)} positive counts, got {list(depths)}")
        if stem == "auto":
            stem = "cifar" if in_size <= 64 else "imagenet"
        if stem not in ("imagenet", "cifar"):
            raise ValueError(f"unknown stem {stem!r}; choose 'imagenet', 'cifar' or 'auto'")
        factor = (4 if stem == "imagenet" else 1) * 2 ** (len(depths) - 1)
        if in_size % factor:
            raise ValueError(
                f"in_size must be a multiple of {factor} (stem and {len(depths) - 1} 2x2 pools), got {in_size}"
            )
        self.width = width  # read by the build's memory-fit check (flow/analysis/memory_fit.py) for its hint
        widths = [max(1, round(w * width)) for w in STAGE_WIDTHS[: len(depths)]]
        # One module instance used at every residual point = one shared scale.
        self.residual_quant = residual_quant(shortcut_bits, shortcut_range)
        self.stem = self._stem(stem, in_channels, widths[0], stem_bits)
        kind, per_block = block, BINARY_CONVS[block]
        shifts = resolve_shifts(shift, 2 * sum(depths))
        opts = {"shift_mode": shift_mode, "learnable": learnable_shift, "weight_scaling": weight_scaling}
        layers, cin, k = [], widths[0], 0
        for stage, (cout, depth) in enumerate(zip(widths, depths, strict=True)):
            for i in range(depth * 2 // per_block):  # ``depths`` counts ResNet basic blocks (two convs)
                entry = stage > 0 and i == 0
                if entry and downsample == "maxpool":
                    layers.append(nn.MaxPool2d(2))
                stride = 2 if entry and downsample == "conv" else 1
                shortcut = _shortcut(cin, cout, entry, downsample, self.residual_quant)
                layers.append(
                    HwBlock(kind, cin, cout, stride, shifts[k : k + per_block], self.residual_quant, shortcut, **opts)
                )
                cin, k = cout, k + per_block
        self.stages = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = QuantLinear(
            cin, num_classes, bias=False, weight_quant=Int8WeightPerTensorFloat, weight_bit_width=classifier_bits
        )
        self.logit_scale = LogitScale(1.0)

    def _stem(self, stem: str, in_channels: int, out: int, bits: int) -> nn.Sequential:
        kernel, stride = (7, 2) if stem == "imagenet" else (3, 1)
        quant = {"weight_quant": BinaryWeightPerChannelScaled} if bits == 1 else {
            "weight_quant": Int8WeightPerChannelFloat, "weight_bit_width": bits}  # fmt: skip
        conv = QuantConv2d(in_channels, out, kernel, stride=stride, padding=kernel // 2, bias=False, **quant)
        layers = [conv, nn.BatchNorm2d(out), self.residual_quant]
        if stem == "imagenet":
            layers.append(nn.MaxPool2d(2))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.stages(self.stem(x * PIXEL_SCALE))
        return self.logit_scale(self.classifier(self.pool(x).flatten(1)))


def bireal_resnet18_hw(**kwargs) -> HardwareResNet:
    """Bi-Real-Net-18 for FINN/RTL: 16 binary convs, integer stem, shortcuts and classifier."""
    return HardwareResNet(block="bireal", **{"depths": DEPTHS[18], **kwargs})


def bireal_resnet34_hw(**kwargs) -> HardwareResNet:
    """Bi-Real-Net-34 for FINN/RTL: 32 binary convs."""
    return HardwareResNet(block="bireal", **{"depths": DEPTHS[34], **kwargs})


def xnor_resnet18_hw(**kwargs) -> HardwareResNet:
    """XNOR-Net ResNet-18 for FINN/RTL: basic blocks of two binary convs inside one integer shortcut."""
    return HardwareResNet(block="xnor", **{"depths": DEPTHS[18], **kwargs})
