"""Random BatchNorm statistics for untrained models (tests, benchmarks, third-party network checks).

A freshly built model has running_mean 0 and running_var 1: every binary unit's threshold then sits
at the same place and export or hardware bugs can hide behind constant outputs. This spreads the
statistics and affine parameters so that the folded integer thresholds differ per channel.
"""

from __future__ import annotations

import torch
from torch import nn

from brevitas_models.quant import ShiftedBinaryAct


def randomize_batchnorm(model: nn.Module, seed: int = 0, spread: float = 1.0, negative_scales: bool = False):
    """Random BatchNorm statistics and affine parameters, in place (eval mode returned).

    ``spread`` scales mean (uniform in [-spread, spread]) and standard deviation (sqrt of a variance
    uniform in [0.1, 1.1] * spread**2): match it to the accumulator range so thresholds fall inside it.
    ``negative_scales``: a third of the channels get a negative weight (gamma), which flips the
    comparison FINN derives. Per-channel shifts of ``ShiftedBinaryAct`` get random values too."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_((torch.rand(n, generator=gen) * 2 - 1) * spread)
                m.running_var.copy_((torch.rand(n, generator=gen) + 0.1) * spread**2)
                gamma = torch.rand(n, generator=gen) + 0.5
                if negative_scales:
                    gamma = torch.where(torch.rand(n, generator=gen) < 1 / 3, -gamma, gamma)
                m.weight.copy_(gamma)
                m.bias.copy_(torch.rand(n, generator=gen) - 0.5)
            elif isinstance(m, ShiftedBinaryAct) and m.shift.numel() > 1:
                m.shift.copy_(torch.randn(m.shift.numel(), generator=gen) * 0.3 * spread)
    return model.eval()
