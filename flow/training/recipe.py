"""The pieces of the BNN training recipe (flow/training/loop.py puts them together; the recipe itself
is described there): the run's configuration, model/optimizer set-up, the batch order, clipping and
the weight average."""

from __future__ import annotations

import json
import math
import os
import platform
from dataclasses import asdict, dataclass, field

import torch
import torch.distributed as dist
from brevitas.nn import QuantConv2d, QuantLinear
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_swa_avg_fn

from brevitas_models.checkpoint import CheckpointError
from brevitas_models.quant import ShiftedBinaryAct
from flow.data.readers import effective_image_size
from flow.training.evaluation import act_layers


@dataclass
class TrainConfig:
    model: str
    dataset: str = "fashion-mnist"
    model_kwargs: dict = field(default_factory=dict)
    data_dir: str | None = None
    image_size: int | None = None  # image-folder: resize to N x N (None: the files' size); imagenet: crop (224)
    epochs: int = 10
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 0.0
    clip: float = 1.0
    augment_pad: int | None = None  # random translation; None = 2 px for conv models, 0 for MLPs
    seed: int = 0
    threads: int | None = None
    train_limit: int | None = None  # use only the first N training images (quick experiments)
    bn_bias_init: float | list | None = None  # control: t folded into the BatchNorm bias at init
    output: str = "runs/latest"
    resume: bool = False
    progress: bool = True
    workers: int = 4  # processes decoding a lazily read data set (imagenet)
    device: str = "auto"
    bf16: bool = False  # bfloat16 autocast for the training forward (CPU/GPU); evaluation stays fp32
    init_from: str | None = None  # start from this checkpoint's weights (fresh optimizer and schedule)
    average_last: int = 0  # save the average of the last N epochs' weights (0 = the last epoch's)
    val_split: float = 0.0  # fraction of the training images held out to choose on (flow/data/readers.py)


# Fields that decide a run's numbers (not where it writes, how it reports progress or how many threads
# it uses): a finished or half-finished run is reused only when these are equal (resume, the sweep).
RESULT_FIELDS = (
    "model", "dataset", "model_kwargs", "image_size", "epochs", "batch_size", "lr", "weight_decay", "clip",
    "augment_pad", "seed", "train_limit", "bn_bias_init", "bf16", "init_from", "average_last", "val_split",
)  # fmt: skip


def config_fingerprint(config: TrainConfig | dict) -> dict:
    """The result-deciding fields of a config (a TrainConfig, or the ``config`` dict of metrics.json,
    where a field older files lack takes its default), normalised through JSON (tuples equal lists)."""
    values = asdict(config) if isinstance(config, TrainConfig) else {**asdict(TrainConfig(model="")), **config}
    # the image size a data set is read at (a size given to Fashion-MNIST changes nothing; imagenet's
    # default 224 is the same run as an explicit 224)
    values["image_size"] = effective_image_size(values.get("dataset"), values.get("image_size"))
    return json.loads(json.dumps({k: values.get(k) for k in RESULT_FIELDS}, sort_keys=True))


def fingerprint_difference(old: dict, new: dict) -> str | None:
    """``"epochs 5 -> 10"`` for the first field that differs, None when equal."""
    for key in RESULT_FIELDS:
        if old.get(key) != new.get(key):
            return f"{key} {json.dumps(old.get(key))} -> {json.dumps(new.get(key))}"
    return None


# ---------------------------------------------------------------------------------------------- setup
def init_distributed(device: str) -> tuple[int, int, torch.device]:
    """``(rank, world, device)``; initialises torch.distributed when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() if device == "auto" else device.startswith("cuda")
    dev = torch.device(f"cuda:{local}" if use_cuda else "cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return (dist.get_rank() if world > 1 else 0), world, dev


def complete_kwargs(name: str, kwargs: dict, shape: tuple[int, ...], num_classes: int) -> dict:
    """Fill in the input shape and class count the data set implies; a value the user set that
    contradicts the data is a ValueError (one line), not a shape error inside the first batch."""
    implied = {"num_classes": num_classes}
    if name.endswith("_mlp"):
        implied["in_features"] = math.prod(shape)
    else:
        if shape[-1] != shape[-2]:
            raise ValueError(
                f"{name} needs square images; the data set's are {shape[-2]}x{shape[-1]} (--image-size N resizes "
                "an image folder to N x N)"
            )
        implied.update(in_channels=shape[0], in_size=shape[-1])
    for key, value in implied.items():
        if key in kwargs and kwargs[key] != value:
            has = f"{num_classes} classes (labels 0..{num_classes - 1})" if key == "num_classes" else list(shape)
            raise ValueError(f"{name} with {key}={kwargs[key]} does not fit the data set ({has}): {key}={value}")
    return {**kwargs, **{k: v for k, v in implied.items() if k not in kwargs}}


def binary_layers(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, QuantConv2d | QuantLinear)]


def fold_shift_into_bn_bias(model: nn.Module, bias: float | list) -> int:
    """The paper's control: initialise the bias of the BatchNorm feeding each binary activation to ``-t``.

    With ``shift=0`` this is the same function as ``shift=t`` at initialisation; BatchNorm may then learn
    the bias freely. The BatchNorm is the last one registered before each activation.
    """
    values = bias if isinstance(bias, list) else None
    last_bn, count = None, 0
    acts = [m for _, m in act_layers(model)]
    for module in model.modules():
        if isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d):
            last_bn = module
        elif isinstance(module, ShiftedBinaryAct) and last_bn is not None:
            t = values[acts.index(module)] if values else bias
            with torch.no_grad():
                last_bn.bias.fill_(-float(t))
            last_bn, count = None, count + 1
    return count


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    latent = {id(m.weight) for m in binary_layers(model)}
    params = list(model.parameters())
    groups = [
        {"params": [p for p in params if id(p) in latent], "weight_decay": 0.0},
        {"params": [p for p in params if id(p) not in latent], "weight_decay": cfg.weight_decay},
    ]
    return torch.optim.Adam([g for g in groups if g["params"]], lr=cfg.lr)


def clip_latent_weights(model: nn.Module, clip: float) -> None:
    with torch.no_grad():
        for layer in binary_layers(model):
            layer.weight.clamp_(-clip, clip)


# ------------------------------------------------------------------------------------------- batches
def epoch_indices(n: int, seed: int, epoch: int, rank: int, world: int) -> tuple[torch.Tensor, torch.Generator]:
    gen = torch.Generator().manual_seed(seed * 100_003 + epoch)
    perm = torch.randperm(n, generator=gen)
    per_rank = n // world  # equal shard sizes keep DDP's collective calls in step
    return perm[rank::world][:per_rank], gen


# ------------------------------------------------------------------------------------------ training
def require_same_run(payload: dict, path, model: str, kwargs: dict, hint: str = "") -> None:
    """A resume file or --init-from checkpoint must hold the model and shape being trained."""
    if payload["model"] != model or payload["kwargs"] != kwargs:
        raise CheckpointError(f"{path} is a run of {payload['model']} {payload['kwargs']}, not {model} {kwargs}{hint}")


def train_forward(net: nn.Module, x: torch.Tensor, bf16: bool) -> torch.Tensor:
    """fp32 logits of the training forward; ``bf16`` autocasts it (+44 % images/s for xnor_cnv on an
    AVX512-BF16 CPU, results/throughput.json). The +-1 values are exact in bf16; BatchNorm, the loss and
    the latent weights stay fp32."""
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
        return net(x).float()


def machine() -> str:
    gpu = f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    return f"{platform.machine()}, {os.cpu_count()} CPU cores{gpu}, {platform.system()}, torch {torch.__version__}"


def average_model(model: nn.Module, cfg: TrainConfig) -> AveragedModel | None:
    """The running average of the epoch-end weights *and* buffers, or None without ``average_last``.

    Why: at lr near 0 a BNN's test accuracy still moves by +-0.4 pp per epoch (latent weights near 0
    flip sign); the average's sign is the majority over the averaged epochs. BatchNorm running
    statistics are averaged too (``use_buffers``) instead of re-estimated: re-estimating them on
    un-augmented images lowered finished checkpoints (docs/training.md). Exact only where a binary
    weight's scale does not depend on the latent weights: a per-channel mean |w| scale shrinks with
    the average while the averaged statistics do not, so that combination is refused. Measured on the
    full xnor_cnv it is worse than the epochs it averages (90.10 % vs 90.92-91.87 %; docs/training.md).
    """
    if not cfg.average_last:
        return None
    if not 0 < cfg.average_last <= cfg.epochs:
        raise ValueError(f"--average-last {cfg.average_last} must be between 1 and --epochs {cfg.epochs}")
    if cfg.model_kwargs.get("weight_scaling") == "per_channel":
        raise ValueError("--average-last needs constant-scale binary weights (--weight-scaling per_tensor)")
    # avg_fn given: the per-tensor path, which also takes integer buffers (num_batches_tracked)
    return AveragedModel(model, avg_fn=get_swa_avg_fn(), use_buffers=True)
