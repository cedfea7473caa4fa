"""One-off check (docs/training.md, the >= 92 % target): does re-estimating BatchNorm's statistics help?

Loads finished checkpoints, evaluates them on the Fashion-MNIST test set, replaces every BatchNorm's
running mean/var by exact averages over the 60k training images (``torch.optim.swa_utils.update_bn``,
momentum=None) and evaluates again. Prints ``checkpoint accuracy_before accuracy_after``. About
3 min per full-width xnor_cnv on 2 cores. ``--augment``: the training images as training sees them
(2 px translation, h-flip; seeded), instead of un-augmented.

    python bench/bn_recalibration_check.py results/xnor_cnv_w1_t08_e50/checkpoint.pt  # bench/run_benchmarks.sh 13
    python bench/bn_recalibration_check.py --augment results/xnor_cnv_w1_t08_e80_swa/checkpoint.pt  # step 19

Only the best checkpoint stays in git; the steps of bench/run_benchmarks.sh re-create the others.
"""

import argparse
import sys
from pathlib import Path

import torch
from torch.optim.swa_utils import update_bn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from brevitas_models.checkpoint import load_checkpoint  # noqa: E402
from flow.data import readers as train_data  # noqa: E402
from flow.training import batches, evaluation  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("checkpoints", nargs="+")
parser.add_argument("--augment", action="store_true", help="2 px translation + h-flip, as in training")
args = parser.parse_args()
torch.set_num_threads(2)
cpu = torch.device("cpu")
train_set = train_data.load_data(train_data.DataSpec("fashion-mnist"), True)
test_set = train_data.load_data(train_data.DataSpec("fashion-mnist"), False)


def training_images():
    gen, n = torch.Generator().manual_seed(0), len(train_set.labels)
    order = torch.randperm(n, generator=gen) if args.augment else torch.arange(n)
    for images, _ in batches.iterate(train_set, order, 256, 0):
        yield (batches.augment(images, gen, 2, True) if args.augment else images).float()


for path in args.checkpoints:
    model, _ = load_checkpoint(path)
    before = evaluation.evaluate(model, test_set, cpu, 0, 1, stats=False)["accuracy"]
    update_bn(training_images(), model)
    after = evaluation.evaluate(model, test_set, cpu, 0, 1, stats=False)["accuracy"]
    print(path, before, after, flush=True)
