"""Random BatchNorm statistics for untrained models (tests, benchmarks, third-party network checks).

A freshly built model has running_mean 0 and running_var 1: every binary unit's threshold then sits
at the same place and export or hardware bugs can hide behind constant outputs. This spreads the
statistics and affine parameters so that the folded integer thresholds differ per channel.
"""

from __future__ import annotations

import torch
from torch import nn

from brevitas_models.quant import ShiftedBinaryAct


def randomize_batchnorm(model: nn.Module, seed: int = 0, scale: float = 10.0, shifts: bool = False) -> nn.Module:
    """Per channel: running_mean uniform in [-scale, scale], running_var in [0.1, 1.1] * scale**2
    (the accumulator's units: pick ``scale`` near the spread of a layer's pre-activation), gamma in
    [0.5, 1.5], beta in [-0.5, 0.5]. ``shifts``: per-channel shifts of ShiftedBinaryAct are set to
    N(0, 0.3) too. Deterministic in ``seed``; returns the model in eval mode."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_((torch.rand(n, generator=gen) - 0.5) * 2 * scale)
                m.running_var.copy_((torch.rand(n, generator=gen) + 0.1) * scale**2)
                m.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                m.bias.copy_(torch.rand(n, generator=gen) - 0.5)
            elif shifts and isinstance(m, ShiftedBinaryAct) and m.shift.numel() > 1:
                m.shift.copy_(torch.randn(m.shift.numel(), generator=gen) * 0.3)
    return model.eval()
