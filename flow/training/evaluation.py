"""Test-set evaluation of a shiftbnn model: accuracy, loss and the binary activations' statistics.

The statistics are the paper's central measurement: per layer (and channel) the fraction of +1
outputs of ``sign(x - t)``, and a histogram of the pre-shift input ``x``. Used by the training loop
(``flow/training/loop.py``), the sweep's plots and one-off checks; summed over torchrun ranks.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn

from brevitas_models.quant import ShiftedBinaryAct
from flow.training.batches import iterate

HIST_RANGE = (-4.0, 4.0)
HIST_BINS = 80


def act_layers(model: nn.Module) -> list[tuple[str, ShiftedBinaryAct]]:
    return [(n, m) for n, m in model.named_modules() if isinstance(m, ShiftedBinaryAct)]


class ActStats:
    """Forward hooks on every ShiftedBinaryAct: +1 counts per channel and a histogram of ``x`` (pre-shift)."""

    def __init__(self, model: nn.Module):
        self.layers = act_layers(model)
        self.plus: dict[str, torch.Tensor] = {}
        self.count: dict[str, torch.Tensor] = {}
        self.hist: dict[str, torch.Tensor] = {}
        self.handles = [m.register_forward_hook(self._hook(n)) for n, m in self.layers]

    def _hook(self, name: str):
        def hook(module, inputs, output):
            x = inputs[0].detach().float()
            per_channel = (output.detach() > 0).float().transpose(0, 1).reshape(output.shape[1], -1)
            plus, count = per_channel.sum(1).double(), torch.full((output.shape[1],), per_channel.shape[1])
            hist = torch.histc(x.cpu(), bins=HIST_BINS, min=HIST_RANGE[0], max=HIST_RANGE[1]).double()
            if name in self.plus:
                plus, count, hist = (
                    plus.cpu() + self.plus[name],
                    count + self.count[name],
                    hist + self.hist[name],
                )
            self.plus[name], self.count[name], self.hist[name] = plus.cpu(), count.double(), hist

        return hook

    def remove(self) -> None:
        for h in self.handles:
            h.remove()

    def all_reduce(self) -> None:
        for store in (self.plus, self.count, self.hist):
            for t in store.values():
                dist.all_reduce(t)

    def summary(self) -> list[dict]:
        rows = []
        for name, module in self.layers:
            if name not in self.plus:
                continue
            per_channel = (self.plus[name] / self.count[name]).tolist()
            shift = module.shift.detach().flatten().cpu()
            rows.append(
                {
                    "layer": name,
                    "plus_fraction": float(self.plus[name].sum() / self.count[name].sum()),
                    "channel_plus_fraction": [round(v, 5) for v in per_channel],
                    "shift_mean": float(shift.mean()),
                    "input_hist": self.hist[name].tolist(),
                }
            )
        return rows


def evaluate(
    model: nn.Module, data, device, rank: int, world: int, batch: int = 1000, workers: int = 0, stats: bool = True
):
    """Test accuracy, mean loss and (``stats``) per-layer activation statistics (summed over all ranks).

    The statistics' histograms cost as much as the forward pass at full CNV width, so the training loop
    collects them once, for the model it saves (the last epoch's, or the average of ``--average-last``)."""
    model.eval()
    acts = ActStats(model) if stats else None
    correct = torch.zeros(2, dtype=torch.float64)  # correct, loss sum
    indices = torch.arange(len(data.labels))[rank::world]
    with torch.no_grad():
        for images, labels in iterate(data, indices, batch, workers):
            logits = model(images.to(device).float())
            labels = labels.to(device)
            correct[0] += (logits.argmax(1) == labels).sum().item()
            correct[1] += nn.functional.cross_entropy(logits, labels, reduction="sum").item()
    if acts:
        acts.remove()
    if world > 1:
        dist.all_reduce(correct)
        if acts:
            acts.all_reduce()
    n = len(data.labels)
    layers = acts.summary() if acts else []
    return {"accuracy": correct[0].item() / n, "loss": correct[1].item() / n, "layers": layers}
