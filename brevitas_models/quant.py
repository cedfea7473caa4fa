"""Binary quantizers and the shifted binary activation of Kim et al., CVPR 2021.

Kim, Park, Lee, Kwak: *Improving Accuracy of Binary Neural Networks using Unbalanced Activation
Distribution*, CVPR 2021, https://arxiv.org/abs/2012.00938

The binary activation ``sign(x)`` becomes ``sign(x - t)``::

    out = +1 if x >= t else -1                      (forward; sign(0) = +1 as in FINN's MultiThreshold)
    d out / d x = 1 if |x - t| <= 1 else 0          (straight-through estimator, hardtanh window at t)

In hardware the shift is free: after BatchNorm folding, ``sign(gamma * (a - mu) / sigma + beta - t)``
is ``a >= mu + sigma * (t - beta) / gamma`` (for gamma > 0), just another integer threshold.

Export contract: ``ShiftedBinaryAct`` exports to QONNX as ``Sub(x, t)`` -> ``BipolarQuant``, which FINN
absorbs into a MultiThreshold. We use Brevitas' ``SignedBinaryActPerTensorConst`` (ClampedBinaryQuant,
outputs exactly +-1). Do not use ``QuantIdentity(bit_width=1)`` with an integer quantizer: it computes
{-1, 0} in torch while the exporter writes a bipolar +-1 quantizer (silent mismatch).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from brevitas.core.function_wrapper import TensorClampSte
from brevitas.core.quant import BinaryQuant
from brevitas.core.scaling import ScalingImplType
from brevitas.inject.enum import StatsOp
from brevitas.nn import QuantIdentity
from brevitas.quant.binary import SignedBinaryActPerTensorConst, SignedBinaryWeightPerTensorConst
from brevitas.quant.scaled_int import Int8ActPerTensorFloat
from torch import nn

ShiftSpec = float | Sequence[float] | torch.Tensor


class BinaryWeightPerTensor(SignedBinaryWeightPerTensorConst):
    """Weights in {-1, +1}. Latent weights are clipped in place to [-1, 1] (the BNN recipe's
    latent-weight clipping), and the STE passes gradients inside that window."""

    scaling_const = 1.0
    tensor_clamp_impl = TensorClampSte


class BinaryWeightPerChannelScaled(SignedBinaryWeightPerTensorConst):
    """XNOR-Net weights: ``alpha_o * sign(W_o)`` with ``alpha_o = mean(|W_o|)`` per output channel
    (Rastegari et al., 2016). alpha_o > 0, so in FINN the scale is a positive per-channel Mul that
    streamlining absorbs into the next thresholds; the hardware still sees +-1 weights."""

    tensor_quant = BinaryQuant
    scaling_impl_type = ScalingImplType.STATS
    scaling_stats_op = StatsOp.AVE
    scaling_per_output_channel = True
    scaling_min_val = 1e-6


WEIGHT_QUANTIZERS = {"per_tensor": BinaryWeightPerTensor, "per_channel": BinaryWeightPerChannelScaled}


def weight_quant(kind: str):
    """Return the Brevitas weight quantizer for ``kind`` ('per_tensor' or 'per_channel')."""
    try:
        return WEIGHT_QUANTIZERS[kind]
    except KeyError:
        raise ValueError(f"unknown weight quantizer {kind!r}; choose one of {sorted(WEIGHT_QUANTIZERS)}") from None


class ShiftedBinaryAct(nn.Module):
    """``+1 if x >= t else -1`` with a hardtanh straight-through window centred on ``t``.

    Args:
        shift: ``t``; a float (one value for the layer) or a per-channel sequence/tensor.
        channels: number of channels; required to broadcast a scalar ``shift`` to a learnable
            per-channel parameter, otherwise inferred from a per-channel ``shift``.
        learnable: make ``t`` a trainable parameter (the paper notes BatchNorm's bias can absorb it).
        per_channel: with a scalar ``shift`` and ``channels``, keep one ``t`` per channel.
    """

    def __init__(
        self,
        shift: ShiftSpec = 0.0,
        *,
        channels: int | None = None,
        learnable: bool = False,
        per_channel: bool = False,
    ):
        super().__init__()
        t = torch.as_tensor(shift, dtype=torch.float32).flatten()
        if t.numel() == 1 and per_channel:
            if channels is None:
                raise ValueError("per_channel shift needs `channels`")
            t = t.repeat(channels)
        if channels is not None and t.numel() not in (1, channels):
            raise ValueError(f"shift has {t.numel()} values but the layer has {channels} channels")
        if learnable:
            self.shift = nn.Parameter(t)
        else:
            self.register_buffer("shift", t)
        self.binarize = QuantIdentity(act_quant=SignedBinaryActPerTensorConst, return_quant_tensor=False)

    def shift_view(self, x: torch.Tensor) -> torch.Tensor:
        """``t`` shaped to broadcast over ``x`` (N, C, ...) along the channel axis."""
        if self.shift.numel() == 1:
            return self.shift.reshape(())
        return self.shift.reshape(1, -1, *([1] * (x.dim() - 2)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Clamping x - t to [-1, 1] inside the quantizer is what moves the STE window with t.
        return self.binarize(x - self.shift_view(x))

    def set_shift(self, shift: ShiftSpec) -> None:
        """Replace ``t`` in place (keeps buffer/parameter status); used by ``--shift`` overrides."""
        t = torch.as_tensor(shift, dtype=torch.float32).flatten().to(self.shift.device)
        if t.numel() == 1:
            t = t.expand(self.shift.numel()).clone()
        if t.numel() != self.shift.numel():
            raise ValueError(f"shift has {t.numel()} values, layer expects {self.shift.numel()}")
        with torch.no_grad():
            self.shift.copy_(t)

    def extra_repr(self) -> str:
        values = self.shift.detach().flatten()
        shown = f"{values.item():g}" if values.numel() == 1 else f"per-channel[{values.numel()}]"
        return f"shift={shown}, learnable={isinstance(self.shift, nn.Parameter)}"


def set_model_shift(model: nn.Module, shift: ShiftSpec) -> int:
    """Set ``t`` of every ShiftedBinaryAct in ``model``: one value for all, or a list of one ``t`` per binary
    activation in model order (the models' own rule for a list, xnornet.py); returns how many changed."""
    layers = [m for m in model.modules() if isinstance(m, ShiftedBinaryAct)]
    per_layer = isinstance(shift, list | tuple) and len(shift) == len(layers) and len(layers) > 1
    for i, layer in enumerate(layers):
        try:
            layer.set_shift(shift[i] if per_layer else shift)
        except ValueError as exc:
            raise ValueError(f"{exc}; the model has {len(layers)} binary activations (one t per layer)") from None
    return len(layers)


class ResidualQuant(Int8ActPerTensorFloat):
    """The shared quantizer of Bi-Real's real-valued shortcut stream: signed ``bit_width`` integers,
    constant scale ``s = max_val / 2**(bit_width - 1)`` (a power of two for the defaults).

    Every residual tensor (stem output, each block's BatchNorm output and each sum) goes through the
    same quantizer, so ``s*a + s*b = s*(a + b)``: the hardware adds integers exactly, and re-quantizing
    the sum with the same scale is a clamp to the integer range. A power-of-two scale keeps every
    float product exact in Brevitas and ONNX (no rounding ties between the two)."""

    scaling_impl_type = ScalingImplType.CONST
    min_val = -8.0
    max_val = 8.0
    bit_width = 8


def residual_quant(bits: int, max_val: float) -> QuantIdentity:
    """A ``QuantIdentity`` for the residual stream; ``max_val`` is the clipping range (a power of two)."""
    if bits < 2:
        raise ValueError(f"shortcut_bits must be >= 2, got {bits}")
    if max_val <= 0 or math.log2(max_val) != int(math.log2(max_val)):
        raise ValueError(f"shortcut_range must be a positive power of two, got {max_val}")
    quant = QuantIdentity(
        act_quant=ResidualQuant, bit_width=bits, min_val=-max_val, max_val=max_val, return_quant_tensor=False
    )
    quant.exact_grid = True  # constant power-of-two scale: outputs are exact floats (flow/compiler/verify.py)
    return quant
