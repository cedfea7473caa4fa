"""Measure training throughput (images/s: forward + backward + Adam step + clipping) per model.

    python flow/throughput.py --threads 1 --output results/throughput.json
    python flow/throughput.py --device cuda --bf16 --output results/gpu_h100/throughput.json

Synthetic uint8 inputs of each model's shape; ``--steps`` timed steps after one warm-up step. The
machine's 1-minute load average before and after is recorded, since other jobs share the CPU.
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from pathlib import Path

from flow.core import cli, outputs  # noqa: E402

if __name__ == "__main__":  # before brevitas is imported: its import warns about an optional package
    cli.quiet_library_warnings()

import torch  # noqa: E402
from torch import nn  # noqa: E402

from brevitas_models.registry import build_model, input_shape  # noqa: E402
from flow.core.files import write_json  # noqa: E402
from flow.core.inputs import InputError, read_json  # noqa: E402
from flow.core.provenance import provenance  # noqa: E402
from flow.training.recipe import TrainConfig, clip_latent_weights, machine, make_optimizer, train_forward  # noqa: E402

# (label, model, kwargs, batch): the Fashion-MNIST configurations of the benchmark, full and reduced width.
CASES = [
    ("xnor_mlp 3x256", "xnor_mlp", {}, 256),
    ("xnor_cnv w=1", "xnor_cnv", {"in_channels": 1, "in_size": 28}, 64),
    ("xnor_cnv w=0.5", "xnor_cnv", {"in_channels": 1, "in_size": 28, "width": 0.5}, 64),
    ("xnor_cnv w=0.25", "xnor_cnv", {"in_channels": 1, "in_size": 28, "width": 0.25}, 64),
    ("bireal_cnv w=1", "bireal_cnv", {}, 64),
    ("bireal_cnv w=0.5", "bireal_cnv", {"width": 0.5}, 64),
    ("bireal_cnv w=0.25", "bireal_cnv", {"width": 0.25}, 64),
    ("xnor_resnet18 224px", "xnor_resnet18", {}, 8),
    ("bireal_resnet18 224px", "bireal_resnet18", {}, 8),
]


NOTE_CPU = "CPU shared with other jobs; see load_avg_1min_before (2 cores = load 2.0 saturates)."
NOTE_GPU = (
    "One GPU, each timed step synchronised. At these batch sizes the small models are bound by kernel "
    "launches and Python, not by the GPU's arithmetic (bf16 autocast adds casts and does not help)."
)


def measure(name: str, kwargs: dict, batch: int, steps: int, bf16: bool = False, device: str = "cpu") -> float:
    torch.manual_seed(0)
    dev = torch.device(device)
    model = build_model(name, **kwargs).train().to(dev)
    opt = make_optimizer(model, TrainConfig(model=name))
    shape = input_shape(name, kwargs)
    classes = 1000 if "resnet" in name else 10
    x = torch.randint(0, 256, (batch, *shape)).float().to(dev)
    y = torch.randint(0, classes, (batch,)).to(dev)
    # CUDA runs asynchronously: synchronise so each timed step includes its kernels.
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    seconds = 0.0
    for step in range(steps + 1):
        sync()
        t0 = time.perf_counter()
        loss = nn.functional.cross_entropy(train_forward(model, x, bf16), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        clip_latent_weights(model, 1.0)
        sync()
        if step > 0:
            seconds += time.perf_counter() - t0
    return steps * batch / seconds


def _main(argv: list[str] | None) -> int:
    p = cli.Parser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=cli.int_in(1, cli.MAX_THREADS), default=1)
    p.add_argument("--steps", type=cli.int_in(1, 100_000), default=5)
    p.add_argument("--only", nargs="*", help="labels to run (default: all)")
    p.add_argument("--bf16", action="store_true", help="also measure with bfloat16 autocast (train.py --bf16)")
    p.add_argument(
        "--device", type=cli.device_name, default="cpu", help="cpu or cuda (one GPU; model and inputs on it)"
    )
    p.add_argument("--output", required=True, type=cli.output_path)
    args = p.parse_args(argv)
    labels = [label for label, *_ in CASES]
    unknown = sorted(set(args.only or []) - set(labels))
    if unknown:
        raise cli.UsageError(f"--only: no case {unknown[0]!r}; cases: {', '.join(labels)}")
    claim = outputs.claim_output(args.output, written_by_throughput, force=None, kind="file", tool="flow/throughput.py")
    with claim:  # refused before any measurement, or locked until the JSON is written
        return measure_all(args, argv)


def written_by_throughput(path: Path) -> bool:
    """A JSON file of an earlier run (its ``command`` names this tool)."""
    try:
        record = read_json(path)
    except InputError:
        return False
    return str(record.get("command", "")).startswith("python flow/throughput.py")


def measure_all(args, argv: list[str] | None) -> int:
    torch.set_num_threads(args.threads)
    device = "cuda" if args.device == "auto" and torch.cuda.is_available() else args.device.replace("auto", "cpu")
    rows = []
    for label, name, kwargs, batch in CASES:
        if args.only and label not in args.only:
            continue
        load = os.getloadavg()[0]
        ips = measure(name, kwargs, batch, args.steps, device=device)
        row = {
            "label": label,
            "model": name,
            "kwargs": kwargs,
            "batch": batch,
            "images_per_s": round(ips, 1),
            "load_avg_1min_before": round(load, 2),
        }
        if args.bf16:
            row["images_per_s_bf16"] = round(measure(name, kwargs, batch, args.steps, bf16=True, device=device), 1)
        rows.append(row)
        bf = f", bf16 {row['images_per_s_bf16']:.1f}" if args.bf16 else ""
        print(f"{label:>24}: {ips:8.1f} images/s{bf} (batch {batch}, load {load:.1f})", flush=True)
    result = {
        "command": "python flow/throughput.py " + shlex.join(sys.argv[1:] if argv is None else argv),
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": machine(),
        "provenance": provenance(),
        "threads": args.threads,
        "device": device if device == "cpu" else torch.cuda.get_device_name(),
        "note": NOTE_CPU if device == "cpu" else NOTE_GPU,
        "rows": rows,
    }
    write_json(args.output, result)
    return 0


def main(argv: list[str] | None = None) -> int:
    return cli.run_cli(lambda: _main(argv), "throughput", (OSError, ValueError))


if __name__ == "__main__":
    sys.exit(main())
