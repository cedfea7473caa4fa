"""Binary networks built from a spec (a JSON-able dict, ``brevitas_models/grammar.py`` draws random ones) with
plain Brevitas layers, the way BNN papers and public code write them.

Spec (every key required; sizes are small so that a network builds through RTL in minutes)::

    {"input": {"channels", "h", "w", "norm": "none" | "scalar" | "channel"},   # norm: (x/255 - m)/s -> int8
     "layers": [ {"kind": "conv", "out", "k": [kh, kw], "stride", "pad": [t, l, b, r], "pad_value": 0 | 1 | -1,
                  "bias", "order": "cnv" | "xnor", "act": "sign" | "int8", "shift", "pool": None | pool},
                 {"kind": "bireal", "k", "pad_value": 0 | -1, "shift"},          # on the int8 stream
                 {"kind": "pool", **pool}, ...],
     "head": {"gap", "flatten": "flatten" | "view" | "reshape", "hidden": [[out, shift], ...],
              "classes", "bits": 1 | 8, "bias": "none" | "int32" | "float", "scaling": "tensor" | "channel"},
     "bn_negative", "quant_scale", "shared_quant", "seed"}
    pool = {"type": "max" | "avg", "k": [kh, kw], "stride": [sh, sw], "pad": [ph, pw], "ceil"}
    shift = 0.0 | float | "channel"

- ``conv`` "cnv" order: [pad] conv -> BatchNorm -> act [-> pool]; "xnor" order (XNOR-Net's drawing):
  [pad] conv [-> pool] -> BatchNorm -> act. ``pad_value`` 0 is the conv's own (PyTorch) zero padding,
  +-1 an explicit ``ConstantPad2d`` (Bi-Real's BinaryPad). ``act`` "int8" starts the int8 stream.
- ``bireal``: ``Q(x + Q(BN(conv(pad(sign(x - t))))))`` with the int8 quantizer ``Q`` (one shared
  ``QuantIdentity`` when ``shared_quant``, else one per use, as code that does not share them has).
- head: [global average pool] -> Flatten / ``x.view`` / ``reshape`` -> binary FCs (bias, BN, sign) ->
  the classifier: binary or int8 weights, per-tensor or per-channel weight scale, no bias / an Int32 bias
  (in the accumulator's scale) / a float bias.

Every network takes raw UINT8 pixels (``PixelInput``); BatchNorm statistics are random
(``randomize_batchnorm``, negative scales when ``bn_negative``).
"""

from __future__ import annotations

import torch
from brevitas.nn import QuantConv2d, QuantIdentity, QuantLinear
from brevitas.quant import Int8WeightPerTensorFloat, Int32Bias
from brevitas.quant.binary import SignedBinaryActPerTensorConst, SignedBinaryWeightPerTensorConst
from torch import nn

from brevitas_models.corpus import PixelInput
from brevitas_models.quant import BinaryWeightPerChannelScaled
from brevitas_models.random_bn import randomize_batchnorm


class Sign(nn.Module):
    """``sign(x - t)`` with Brevitas' binary activation quantizer; ``t`` scalar or per channel."""

    def __init__(self, shift, channels: int, quant_tensor: bool = False, seed: int = 0):
        super().__init__()
        if shift == "channel":
            t = torch.randn(channels, generator=torch.Generator().manual_seed(seed)) * 0.7
        else:
            t = torch.tensor([float(shift)])
        self.register_buffer("t", t)
        self.q = QuantIdentity(act_quant=SignedBinaryActPerTensorConst, return_quant_tensor=quant_tensor)

    def forward(self, x):
        t = self.t if self.t.numel() == 1 else self.t.reshape(1, -1, *([1] * (x.dim() - 2)))
        return self.q(x - t)


def int8_quant(scale: float) -> QuantIdentity:
    """Brevitas' default 8-bit activation quantizer with its scale set (an untrained one holds 1.0)."""
    q = QuantIdentity(bit_width=8, return_quant_tensor=False)
    q.act_quant.fused_activation_quant_proxy.tensor_quant.scaling_impl.value.data.fill_(scale)
    return q


class Normalize(nn.Module):
    """Per-channel (or scalar) standardisation of [0, 1] images: ``(x - mean) / std``."""

    def __init__(self, channels: int, per_channel: bool):
        super().__init__()
        n = channels if per_channel else 1
        self.register_buffer("mean", torch.linspace(0.3, 0.6, n).reshape(1, n, 1, 1))
        self.register_buffer("std", torch.linspace(0.2, 0.35, n).reshape(1, n, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


def _pool(spec: dict) -> nn.Module:
    if spec["type"] == "max":
        return nn.MaxPool2d(spec["k"], spec["stride"], spec["pad"], ceil_mode=spec["ceil"])
    return nn.AvgPool2d(spec["k"], spec["stride"], spec["pad"], ceil_mode=spec["ceil"], count_include_pad=True)


def _binary_conv(cin, cout, k, stride, padding=0, bias=False, bits=1) -> QuantConv2d:
    weight = SignedBinaryWeightPerTensorConst if bits == 1 else Int8WeightPerTensorFloat
    return QuantConv2d(cin, cout, k, stride=stride, padding=padding, bias=bias, weight_quant=weight)


class ConvBlock(nn.Module):
    """One ``conv`` layer of the spec (module docstring)."""

    def __init__(self, spec: dict, cin: int, act: nn.Module, bits: int = 1):
        super().__init__()
        t, left, b, r = spec["pad"]
        own = spec["pad_value"] == 0
        explicit = not own and any(spec["pad"])
        self.pad = nn.ConstantPad2d((left, r, t, b), spec["pad_value"]) if explicit else nn.Identity()
        padding = 0
        if own and any(spec["pad"]):
            if (t, left) != (b, r):
                self.pad = nn.ZeroPad2d((left, r, t, b))
            else:
                padding = (t, left)
        self.conv = _binary_conv(cin, spec["out"], tuple(spec["k"]), spec["stride"], padding, spec["bias"], bits)
        self.bn = nn.BatchNorm2d(spec["out"])
        self.act = act
        self.pool = _pool(spec["pool"]) if spec["pool"] else nn.Identity()
        self.xnor_order = spec["order"] == "xnor"

    def forward(self, x):
        x = self.conv(self.pad(x))
        if self.xnor_order:
            return self.act(self.bn(self.pool(x)))
        return self.pool(self.act(self.bn(x)))


class BiRealBlock(nn.Module):
    """``Q(x + Q(BN(conv(pad(sign(x - t))))))`` on the int8 stream (module docstring)."""

    def __init__(self, spec: dict, channels: int, quants: list[nn.Module], seed: int):
        super().__init__()
        k = spec["k"]
        self.sign = Sign(spec["shift"], channels, seed=seed)
        own = spec["pad_value"] == 0
        self.pad = nn.Identity() if own else nn.ConstantPad2d(k // 2, spec["pad_value"])
        self.conv = _binary_conv(channels, channels, k, 1, k // 2 if own else 0)
        self.bn = nn.BatchNorm2d(channels)
        self.q_branch, self.q_sum = quants

    def forward(self, x):
        return self.q_sum(x + self.q_branch(self.bn(self.conv(self.pad(self.sign(x))))))


class Flatten(nn.Module):
    """``nn.Flatten``, ``x.view(N, -1)`` or ``x.reshape(N, -1)``: three exports of one layout change."""

    def __init__(self, how: str):
        super().__init__()
        self.how = how

    def forward(self, x):
        if self.how == "view":
            return x.view(x.size(0), -1)
        if self.how == "reshape":
            return torch.reshape(x, (x.shape[0], -1))
        return torch.flatten(x, 1)


def _classifier(spec: dict, features: int) -> QuantLinear:
    if spec["bits"] == 8:
        weight = Int8WeightPerTensorFloat
    else:
        weight = BinaryWeightPerChannelScaled if spec["scaling"] == "channel" else SignedBinaryWeightPerTensorConst
    bias = {"none": {"bias": False}, "int32": {"bias": True, "bias_quant": Int32Bias}, "float": {"bias": True}}
    return QuantLinear(features, spec["classes"], weight_quant=weight, **bias[spec["bias"]])


class GeneratedNet(nn.Module):
    """The network of a spec (module docstring), taking [0, 1] images."""

    def __init__(self, spec: dict):
        super().__init__()
        inp, seed = spec["input"], spec["seed"]
        shared = int8_quant(spec["quant_scale"])
        quant = (lambda: shared) if spec["shared_quant"] else (lambda: int8_quant(spec["quant_scale"]))
        body: list[nn.Module] = []
        if inp["norm"] != "none":
            body += [Normalize(inp["channels"], inp["norm"] == "channel"), quant()]
        channels = inp["channels"]
        for i, layer in enumerate(spec["layers"]):
            if layer["kind"] == "conv":
                act = quant() if layer["act"] == "int8" else Sign(layer["shift"], layer["out"], seed=seed + i)
                body.append(ConvBlock(layer, channels, act, bits=layer.get("bits", 1)))
                channels = layer["out"]
            elif layer["kind"] == "bireal":
                body.append(BiRealBlock(layer, channels, [quant(), quant()], seed + i))
            else:
                body.append(_pool(layer))
        head = spec["head"]
        if head["gap"]:
            body.append(nn.AdaptiveAvgPool2d(1))
        body.append(Flatten(head["flatten"]))
        self.body = nn.Sequential(*body)
        with torch.no_grad():
            features = self.body.eval()(torch.zeros(1, inp["channels"], inp["h"], inp["w"])).shape[1]
        fcs: list[nn.Module] = []
        needs_quant_tensor = head["bias"] == "int32"
        for j, (out, shift) in enumerate(head["hidden"]):
            last = j == len(head["hidden"]) - 1
            fcs += [
                QuantLinear(features, out, bias=True, weight_quant=SignedBinaryWeightPerTensorConst),
                nn.BatchNorm1d(out),
                Sign(shift, out, quant_tensor=last and needs_quant_tensor, seed=seed + 100 + j),
            ]
            features = out
        if needs_quant_tensor and not head["hidden"]:
            raise ValueError("an Int32 bias needs a quantized input: give the head a hidden layer")
        fcs.append(_classifier(head, features))
        self.head = nn.Sequential(*fcs)

    def forward(self, x):
        return self.head(self.body(x))


def build_generated(spec: dict):
    """(model taking UINT8 pixels, input shape (C, H, W)) of a spec, random weights and BatchNorm."""
    torch.manual_seed(spec["seed"])
    model = GeneratedNet(spec)
    for m in model.modules():
        if isinstance(m, QuantConv2d | QuantLinear):
            nn.init.uniform_(m.weight.data, -1, 1)
            if m.bias is not None:
                nn.init.uniform_(m.bias.data, -2, 2)
    model = randomize_batchnorm(model, seed=spec["seed"], spread=3.0, negative_scales=spec["bn_negative"])
    inp = spec["input"]
    return PixelInput(model).eval(), (inp["channels"], inp["h"], inp["w"])
