"""The BNN training recipe as pure functions (``flow/train.py`` is the CLI over ``train``).

Recipe (the usual one for BNNs with latent real weights, e.g. Bi-Real-Net / larq):
- Adam, cosine learning-rate decay to 0 over all steps (per step), no weight decay on the latent
  binary weights (``weight_decay`` applies to BatchNorm, LogitScale, float layers, learnable shifts).
- Latent-weight clipping: after every step the real weights behind binary weights are clamped to
  [-1, 1] (outside that the STE passes no gradient, so they would only drift).
- Cross-entropy on the logit-scaled output; augmentation: random translation by ``pad`` pixels and
  horizontal flips where label-preserving.
- Optional latent-weight averaging over the last ``average_last`` epochs (SWA, Izmailov et al. 2018):
  the saved model is ``sign(mean_k w_k)``, a per-weight majority vote over those epochs' latent
  weights, with BatchNorm statistics averaged the same way (see ``average_model``).
- Determinism: the epoch's shuffle and augmentation come from generators seeded with
  ``(seed, epoch)``, so a resumed run sees the same batches as an uninterrupted one.
- Multi-process: under ``torchrun`` (``WORLD_SIZE`` > 1) the model is wrapped in
  DistributedDataParallel (NCCL on GPUs, gloo on CPU); each rank takes every ``world``-th sample of
  the epoch's permutation and ``batch_size / world`` per step (so the global batch stays the same).
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
from brevitas.nn import QuantConv2d, QuantLinear
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_swa_avg_fn
from tqdm import tqdm

from brevitas_models.checkpoint import CheckpointError, load_into, read_checkpoint, save_checkpoint
from brevitas_models.quant import ShiftedBinaryAct
from brevitas_models.registry import build_model
from flow.training import data as train_data
from flow.training.evaluation import act_layers, evaluate

RESUME_FILE = "resume.pt"


@dataclass
class TrainConfig:
    model: str
    dataset: str = "fashion-mnist"
    model_kwargs: dict = field(default_factory=dict)
    data_dir: str | None = None
    image_size: int = 224
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
    workers: int = 4  # imagenet decoding processes
    device: str = "auto"
    bf16: bool = False  # bfloat16 autocast for the training forward (CPU/GPU); evaluation stays fp32
    init_from: str | None = None  # start from this checkpoint's weights (fresh optimizer and schedule)
    average_last: int = 0  # save the average of the last N epochs' weights (0 = the last epoch's)


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
    """Fill in the input shape and class count the dataset implies, unless the user set them."""
    out = dict(kwargs)
    out.setdefault("num_classes", num_classes)
    if name.endswith("_mlp"):
        out.setdefault("in_features", math.prod(shape))
    else:
        out.setdefault("in_channels", shape[0])
        out.setdefault("in_size", shape[-1])
    return out


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


def train(cfg: TrainConfig, command: str = "") -> dict:
    """Train ``cfg.model`` on ``cfg.dataset``; writes checkpoint.pt, metrics.json (rank 0) and returns metrics."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    rank, world, device = init_distributed(cfg.device)
    out = Path(cfg.output)
    if cfg.batch_size % world:
        raise ValueError(f"batch size {cfg.batch_size} is not divisible by {world} processes")
    spec = train_data.DataSpec(cfg.dataset, cfg.data_dir, cfg.image_size)
    train_set, test_set = train_data.load_data(spec, True), train_data.load_data(spec, False)
    if cfg.train_limit and not isinstance(train_set, train_data.ImageFolder):
        train_set = type(train_set)(train_set.images[: cfg.train_limit], train_set.labels[: cfg.train_limit])
    shape = train_data.input_shape_of(train_set)
    kwargs = complete_kwargs(cfg.model, cfg.model_kwargs, shape, train_data.NUM_CLASSES[cfg.dataset])

    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model, **kwargs)
    if cfg.bn_bias_init is not None:
        fold_shift_into_bn_bias(model, cfg.bn_bias_init)
    if cfg.init_from:  # a further cosine cycle from a finished run (warm restart): same model and shape only
        payload = read_checkpoint(cfg.init_from)
        require_same_run(payload, cfg.init_from, cfg.model, kwargs)
        load_into(model, payload["state_dict"], cfg.init_from)
    model.to(device)
    optimizer = make_optimizer(model, cfg)
    n_train = len(train_set) // world
    steps_per_epoch = math.ceil(n_train / (cfg.batch_size // world))
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, cfg.epochs * steps_per_epoch))
    average = average_model(model, cfg)

    start_epoch, history = 0, []
    resume_path = out / RESUME_FILE
    if cfg.resume and resume_path.is_file():
        state = torch.load(resume_path, map_location="cpu", weights_only=True)
        require_same_run(state, resume_path, cfg.model, kwargs, "; use another --output or drop --resume")
        model.load_state_dict(state["state_dict"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, history = state["epoch"], state["history"]
        if average is not None and "average" in state:
            average.load_state_dict(state["average"])

    net = model
    if world > 1:
        net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    flip = train_data.FLIP_OK[cfg.dataset]
    pad = cfg.augment_pad
    if pad is None:  # translation helps convs; it slows an MLP's convergence (measured: -3 pp at 3 epochs)
        pad = 0 if cfg.model.endswith("_mlp") or shape[-1] <= 8 else 2
    local_batch = cfg.batch_size // world

    for epoch in range(start_epoch, cfg.epochs):
        net.train()
        indices, gen = epoch_indices(len(train_set), cfg.seed, epoch, rank, world)
        sums = torch.zeros(3, dtype=torch.float64)  # loss sum, correct, images
        bar = tqdm(
            train_data.iterate(train_set, indices, local_batch, cfg.workers),
            total=math.ceil(len(indices) / local_batch),
            desc=f"epoch {epoch + 1}/{cfg.epochs}",
            disable=not cfg.progress or rank != 0,
            leave=False,
        )
        t0 = time.perf_counter()
        for images, labels in bar:
            if not isinstance(train_set, train_data.ImageFolder):
                images = train_data.augment(images, gen, pad, flip)
            x, y = images.to(device).float(), labels.to(device)
            logits = train_forward(net, x, cfg.bf16)
            loss = nn.functional.cross_entropy(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            clip_latent_weights(model, cfg.clip)
            scheduler.step()
            sums += torch.tensor([loss.item() * len(y), (logits.argmax(1) == y).sum().item(), len(y)])
            bar.set_postfix(loss=f"{sums[0] / sums[2]:.3f}", acc=f"{sums[1] / sums[2]:.3f}")
        seconds = time.perf_counter() - t0
        if world > 1:
            dist.all_reduce(sums)
        last = epoch + 1 == cfg.epochs
        if average is not None and epoch >= cfg.epochs - cfg.average_last:
            average.update_parameters(model)
        test = evaluate(model, test_set, device, rank, world, workers=cfg.workers, stats=last and average is None)
        row = {
            "epoch": epoch + 1,
            "train_loss": sums[0].item() / sums[2].item(),
            "train_accuracy": sums[1].item() / sums[2].item(),
            "test_accuracy": test["accuracy"],
            "test_loss": test["loss"],
            "seconds": seconds,
            "images_per_s": sums[2].item() / seconds,
        }
        history.append(row)
        if rank == 0:
            tqdm.write(
                f"epoch {row['epoch']}: train loss {row['train_loss']:.4f} acc {row['train_accuracy']:.4f}, "
                f"test acc {row['test_accuracy']:.4f}, {row['images_per_s']:.0f} img/s"
            )
            out.mkdir(parents=True, exist_ok=True)
            state = {
                "model": cfg.model,
                "kwargs": kwargs,
                "state_dict": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "epoch": epoch + 1,
                "history": history,
            }
            if average is not None:
                state["average"] = average.state_dict()
            torch.save(state, resume_path.with_suffix(".tmp"))
            os.replace(resume_path.with_suffix(".tmp"), resume_path)

    if average is not None:  # the result is the average; the last epoch's accuracy stays in history
        model = average.module
        test = evaluate(model, test_set, device, rank, world, workers=cfg.workers)
    elif start_epoch >= cfg.epochs or not history:  # nothing trained in this process: evaluate now
        test = evaluate(model, test_set, device, rank, world, workers=cfg.workers)
    metrics = {
        "model": cfg.model,
        "model_kwargs": kwargs,
        "dataset": cfg.dataset,
        "input_shape": list(shape),
        "test_accuracy": test["accuracy"],
        "test_loss": test["loss"],
        "layers": test["layers"],
        "plus_fraction": {r["layer"]: r["plus_fraction"] for r in test["layers"]},
        "history": history,
        "averaged_epochs": int(average.n_averaged) if average is not None else 0,
        "train_images_per_s": (
            sum(h["images_per_s"] * h["seconds"] for h in history) / max(1e-9, sum(h["seconds"] for h in history))
        ),
        "config": asdict(cfg),
        "world_size": world,
        "command": command,
        "machine": machine(),
        "threads": torch.get_num_threads(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }
    if rank == 0:
        meta = {
            "dataset": cfg.dataset,
            "data_dir": cfg.data_dir,  # flow/build.py verifies on the same data by default
            "input_shape": list(shape),
            "test_accuracy": test["accuracy"],
            "epochs": cfg.epochs,
            "seed": cfg.seed,
            "plus_fraction": metrics["plus_fraction"],
        }
        save_checkpoint(out / "checkpoint.pt", cfg.model, kwargs, model, meta=meta)
        (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    if world > 1:
        # every rank returns once rank 0's files are on disk. The process group stays alive: its
        # teardown can deadlock, so flow/train.py ends torchrun workers without it (see there)
        dist.barrier()
    return metrics
