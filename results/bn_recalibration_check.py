"""One-off check (docs/training.md, the >= 92 % target): does re-estimating BatchNorm's statistics help?

Loads finished checkpoints, evaluates them on the Fashion-MNIST test set, replaces every BatchNorm's
running mean/var by exact averages over the 60k un-augmented training images
(``torch.optim.swa_utils.update_bn``, momentum=None) and evaluates again. Prints
``checkpoint accuracy_before accuracy_after``. About 3 min per full-width xnor_cnv on 2 cores.

    python results/bn_recalibration_check.py results/xnor_cnv_w1_t08_e50/checkpoint.pt
"""

import sys
from pathlib import Path

import torch
from torch.optim.swa_utils import update_bn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from brevitas_models.checkpoint import load_checkpoint  # noqa: E402
from flow import train_data, training_loop  # noqa: E402

torch.set_num_threads(2)
cpu = torch.device("cpu")
train_set = train_data.load_data(train_data.DataSpec("fashion-mnist"), True)
test_set = train_data.load_data(train_data.DataSpec("fashion-mnist"), False)
for path in sys.argv[1:]:
    model, _ = load_checkpoint(path)
    before = training_loop.evaluate(model, test_set, cpu, 0, 1, stats=False)["accuracy"]
    order = torch.arange(len(train_set.labels))
    update_bn((images.float() for images, _ in training_loop.iterate(train_set, order, 256, 0)), model)
    after = training_loop.evaluate(model, test_set, cpu, 0, 1, stats=False)["accuracy"]
    print(path, before, after, flush=True)
