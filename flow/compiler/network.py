"""What a build compiles: its options, the network (a Brevitas model or a user's QONNX file) and the
images it is verified on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from brevitas_models.checkpoint import load_checkpoint
from brevitas_models.quant import set_model_shift
from brevitas_models.registry import build_model, input_shape
from flow.compiler.boards import Board
from flow.compiler.errors import BuildError
from flow.training.datasets import DatasetError, default_dataset, load_split

DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[2] / "results" / "default_model" / "checkpoint.pt"
DEFAULT_TARGET_FPS = 100_000


@dataclass
class BuildOptions:
    board: Board
    model: str | None = None
    checkpoint: Path | None = None
    onnx: Path | None = None
    model_args: dict | None = None
    shift: float | None = None
    folding: Path | None = None
    target_fps: float | None = None
    verify_images: int = 1000
    require_bitstream: bool = False
    rtlsim: bool = True  # simulate the generated RTL on the verification images (--skip-rtlsim)
    synth: bool = False  # yosys synth_xilinx resource counts (--synth)
    backend: str = "rtl"  # "rtl": our RTL + Vivado block design; "finn-hls": FINN's build_dataflow


@dataclass
class Network:
    """What the build compiles: the QONNX file plus, where known, the Brevitas model and dataset."""

    name: str
    torch_model: object | None
    shape: tuple[int, ...]
    shift: object
    dataset: str | None


def load_network(opts: BuildOptions) -> Network:
    if opts.onnx is not None:
        return Network(opts.onnx.stem, None, (), None, None)
    checkpoint = opts.checkpoint or (DEFAULT_CHECKPOINT if opts.model is None else None)
    if checkpoint is not None:
        model, payload = load_checkpoint(checkpoint, expect_model=opts.model)
        name, kwargs, dataset = payload["model"], payload["kwargs"], payload["meta"].get("dataset")
    else:
        name, kwargs, dataset = opts.model, dict(opts.model_args or {}), None
        model = build_model(name, **kwargs).eval()
    shift = kwargs.get("shift", 0.0)
    if opts.shift is not None:
        set_model_shift(model, opts.shift)
        shift = opts.shift
    return Network(name, model, input_shape(name, kwargs), shift, dataset)


def verification_images(net: Network, shape: tuple[int, ...], count: int) -> tuple[np.ndarray, np.ndarray | None, str]:
    """First ``count`` test images of the network's dataset, else seeded random UINT8 inputs."""
    dataset = net.dataset or (default_dataset() if tuple(shape[-3:]) == (1, 28, 28) else None)
    if dataset is not None:
        try:
            split = load_split(dataset, train=False)
            if tuple(split.images.shape[1:]) == tuple(shape[-3:]):
                n = min(count, len(split))
                return split.images[:n].numpy().astype(np.float32), split.labels[:n].numpy(), dataset
        except DatasetError:
            pass
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(count, *shape[1:])).astype(np.float32), None, "random"


def load_onnx(source: Path, target: Path):
    """Copy a user's QONNX file into the build, with a clear error when it is not ONNX."""
    import onnx
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    if not source.is_file():
        raise BuildError(f"ONNX file not found: {source}")
    try:
        proto = onnx.load(str(source))
        onnx.checker.check_model(proto)
    except Exception as exc:  # onnx raises DecodeError, ValidationError, ...
        raise BuildError(f"{source} is not a valid ONNX model ({type(exc).__name__})") from None
    model = cleanup_model(ModelWrapper(proto))
    model.set_tensor_datatype(model.graph.input[0].name, DataType["UINT8"])
    model.save(str(target))
    return model
