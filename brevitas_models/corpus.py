"""Binary networks written elsewhere, for checking that the compiler takes any of them.

- ``bnn_pynq(name)``: Brevitas' own ``brevitas_examples.bnn_pynq`` W1A1 networks (TFC, SFC, LFC, CNV),
  built by Brevitas' example code (``FC``, ``CNV``); ``size="small"`` shrinks their widths through
  the same code (the constructor's arguments for FC, the module constants for CNV) so CI can build them.
- ``odd_net(spec)``: small networks of our own in Brevitas' layer style (``QuantConv2d``/``QuantLinear``
  with bnn_pynq's ``CommonWeightQuant``, BatchNorm, a binary activation), covering what BNN-PYNQ does not:
  zero padding of the integer input layer, stride 2, 1x1 and even kernels, odd channel counts,
  non-square inputs, per-tensor and per-channel shifts ``sign(x - t)``, max-pool, any head size.
- Both get random BatchNorm statistics (``brevitas_models.random_bn``, negative scales optional) so
  that the thresholds are non-trivial; weights stay Brevitas' uniform random init.

Every network here takes raw UINT8 pixels (``PixelInput`` divides by 255 first, as FINN's ToTensor
pre-processing does for bnn_pynq), so ``export_model`` gives the graph ``flow/build.py --onnx`` expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from unittest import mock

import torch
from brevitas.nn import QuantConv2d, QuantIdentity, QuantLinear
from brevitas_examples.bnn_pynq.models import CNV as brevitas_cnv
from brevitas_examples.bnn_pynq.models.common import CommonActQuant, CommonWeightQuant
from brevitas_examples.bnn_pynq.models.FC import FC
from torch import nn

from brevitas_models.quant import ShiftedBinaryAct
from brevitas_models.random_bn import randomize_batchnorm

# name -> (builder arguments at full size, at CI size)
BNN_PYNQ = {
    "tfc": ({"out_features": [64, 64, 64]}, {"out_features": [16, 16, 16]}),
    "sfc": ({"out_features": [256, 256, 256]}, {"out_features": [24, 24, 24]}),
    "lfc": ({"out_features": [1024, 1024, 1024]}, {"out_features": [32, 32, 32]}),
    "cnv": (
        {"convs": [(64, False), (64, True), (128, False), (128, True), (256, False), (256, False)],
         "fcs": [(256, 512), (512, 512)], "in_size": 32},
        {"convs": [(8, False), (8, True), (16, False)], "fcs": [(16, 32), (32, 32)], "in_size": 12},
    ),
}  # fmt: skip


class PixelInput(nn.Module):
    """``model(x / 255)``: raw UINT8 pixels in, the [0, 1] images Brevitas' examples expect."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x * (1.0 / 255.0))


def bnn_pynq(name: str, size: str = "full", seed: int = 0, num_classes: int = 10):
    """Brevitas' bnn_pynq ``name``-W1A1 (tfc, sfc, lfc, cnv) with random weights and BatchNorm.
    Returns (model taking UINT8 pixels, input shape (C, H, W))."""
    if name not in BNN_PYNQ:
        raise ValueError(f"unknown bnn_pynq network {name!r}; choose one of {sorted(BNN_PYNQ)}")
    args = BNN_PYNQ[name][0 if size == "full" else 1]
    torch.manual_seed(seed)
    if name == "cnv":
        model, shape = _cnv(num_classes=num_classes, **args), (3, args["in_size"], args["in_size"])
    else:
        model = FC(num_classes, 1, 1, 1, 1, args["out_features"], in_features=(28, 28))
        shape = (1, 28, 28)
    return PixelInput(randomize_batchnorm(model, seed=seed, spread=4.0)).eval(), shape


def _cnv(convs, fcs, in_size: int, num_classes: int) -> nn.Module:
    """Brevitas' CNV class with its topology constants replaced (the class reads them at construction)."""
    side = in_size
    for _, pool in convs:
        side = (side - 2) // (2 if pool else 1)
    fcs = [(convs[-1][0] * side * side, fcs[0][1]), *fcs[1:]]
    with mock.patch.multiple(
        brevitas_cnv, CNV_OUT_CH_POOL=convs, INTERMEDIATE_FC_FEATURES=fcs, LAST_FC_IN_FEATURES=fcs[-1][1]
    ):
        return brevitas_cnv.CNV(num_classes=num_classes, weight_bit_width=1, act_bit_width=1, in_bit_width=8, in_ch=3)


# ---------------------------------------------------------------- odd shapes of our own
@dataclass(frozen=True)
class Conv:
    out: int
    kernel: int | tuple[int, int] = 3
    stride: int = 1
    pad: int = 0  # zero padding: only where the input is the integer image (FINN pads bipolar maps with -1)
    shift: float | str = 0.0  # "channel": random per-channel shifts
    pool: int = 0  # max-pool kernel (= stride) after the activation


@dataclass(frozen=True)
class Dense:
    out: int
    shift: float | str = 0.0


def _binary_act(shift, channels: int) -> nn.Module:
    if shift == 0.0:
        return QuantIdentity(act_quant=CommonActQuant, bit_width=1)  # bnn_pynq's own sign(x)
    if shift == "channel":
        return ShiftedBinaryAct(0.0, channels=channels, per_channel=True)
    return ShiftedBinaryAct(float(shift))


class OddNet(nn.Module):
    """Binary convs / FCs from a spec list, then a binary FC head of ``classes`` outputs (the spec's
    first layer sees the [0, 1] image: its zero padding is the integer input's)."""

    def __init__(self, in_shape: tuple[int, int, int], layers: list, classes: int):
        super().__init__()
        c, h, w = in_shape
        mods: list[nn.Module] = []
        for spec in layers:
            if isinstance(spec, Conv):
                k = (spec.kernel, spec.kernel) if isinstance(spec.kernel, int) else spec.kernel
                mods += [
                    QuantConv2d(c, spec.out, k, stride=spec.stride, padding=spec.pad, bias=False,
                                weight_quant=CommonWeightQuant, weight_bit_width=1),
                    nn.BatchNorm2d(spec.out),
                    _binary_act(spec.shift, spec.out),
                ]  # fmt: skip
                h = (h + 2 * spec.pad - k[0]) // spec.stride + 1
                w = (w + 2 * spec.pad - k[1]) // spec.stride + 1
                c = spec.out
                if spec.pool:
                    mods.append(nn.MaxPool2d(spec.pool))
                    h, w = h // spec.pool, w // spec.pool
            else:
                if not any(isinstance(m, nn.Flatten) for m in mods):
                    mods.append(nn.Flatten())
                    c = c * h * w
                mods += [
                    QuantLinear(c, spec.out, bias=False, weight_quant=CommonWeightQuant, weight_bit_width=1),
                    nn.BatchNorm1d(spec.out),
                    _binary_act(spec.shift, spec.out),
                ]
                c = spec.out
        if not any(isinstance(m, nn.Flatten) for m in mods):
            mods.append(nn.Flatten())
            c = c * h * w
        # head weights +-0.1: a non-power-of-two scale, so float32 noise breaks exact logit ties
        head = QuantLinear(
            c, classes, bias=False, weight_quant=CommonWeightQuant, weight_bit_width=1, weight_scaling_const=0.1
        )
        mods.append(head)
        self.body = nn.Sequential(*mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


# name -> (input shape, layers, classes): each covers features BNN-PYNQ's networks do not have
ODD_SHAPES = {
    # zero-padded integer input layer, stride 2, 1x1 conv, per-channel shifts, non-square input
    "odd-pad-stride": ((3, 14, 10), [Conv(7, 3, pad=1, shift=0.4), Conv(9, 3, stride=2, shift="channel"),
                                     Conv(5, 1, shift=-0.3), Dense(11, shift=0.2)], 3),
    # even kernel, max-pool after a binary activation, odd channels, a 2-output head
    "odd-even-kernel": ((1, 13, 13), [Conv(5, 2, shift=0.3, pool=2), Conv(13, 3, shift="channel"),
                                      Dense(9)], 2),
    # an FC-only network on a non-square image, large shifts (thresholds outside the reachable range)
    "odd-mlp-big-shift": ((1, 7, 9), [Dense(15, shift=2.5), Dense(6, shift=-9.0), Dense(8, shift=9.0),
                                      Dense(5, shift="channel")], 7),
}  # fmt: skip


def odd_net(name: str, seed: int = 0, negative_scales: bool = True):
    """One of ``ODD_SHAPES`` with random weights and BatchNorm. Returns (model, input shape)."""
    if name not in ODD_SHAPES:
        raise ValueError(f"unknown odd shape {name!r}; choose one of {sorted(ODD_SHAPES)}")
    in_shape, layers, classes = ODD_SHAPES[name]
    torch.manual_seed(seed)
    model = OddNet(in_shape, layers, classes)
    for m in model.modules():
        if isinstance(m, QuantConv2d | QuantLinear):
            torch.nn.init.uniform_(m.weight.data, -1, 1)
    model = randomize_batchnorm(model, seed=seed, spread=3.0, negative_scales=negative_scales)
    return PixelInput(model).eval(), in_shape


def corpus_network(name: str, seed: int = 0):
    """Any network here by one name: ``<tfc|sfc|lfc|cnv>-<full|small>`` or an ``ODD_SHAPES`` key.
    Returns (model taking UINT8 pixels, input shape)."""
    if name in ODD_SHAPES:
        return odd_net(name, seed=seed)
    base, _, size = name.partition("-")
    if base not in BNN_PYNQ or size not in ("full", "small"):
        raise ValueError(f"unknown corpus network {name!r}; e.g. tfc-small, cnv-full, {', '.join(ODD_SHAPES)}")
    return bnn_pynq(base, size, seed=seed)
