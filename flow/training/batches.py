"""Training batches: the order of a data set's images, with translation/flip augmentation."""

from __future__ import annotations

import torch

from flow.data.readers import DatasetError, ImageFolder


def augment(images: torch.Tensor, gen: torch.Generator, pad: int, flip: bool) -> torch.Tensor:
    """Random translation by up to ``pad`` pixels (zero fill = black pixels) and optional h-flip."""
    n, _, h, w = images.shape
    if pad > 0:
        padded = torch.nn.functional.pad(images, (pad, pad, pad, pad))
        dx = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
        dy = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
        images = torch.stack([padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(n)])
    if flip:
        mask = torch.rand(n, generator=gen) < 0.5
        images = torch.where(mask[:, None, None, None], images.flip(3), images)
    return images


def iterate(data, indices: torch.Tensor, batch: int, workers: int):
    """Yield ``(uint8 images, labels)`` batches in the order of ``indices``."""
    if isinstance(data, ImageFolder):
        subset = torch.utils.data.Subset(data, indices.tolist())
        try:
            yield from torch.utils.data.DataLoader(subset, batch_size=batch, num_workers=workers)
        except DatasetError as exc:  # from a worker: the message is "Caught DatasetError in ..." + traceback
            raise DatasetError(str(exc).strip().splitlines()[-1].split("DatasetError: ", 1)[-1]) from None
        return
    for i in range(0, len(indices), batch):
        idx = indices[i : i + batch]
        yield data.images[idx], data.labels[idx]
