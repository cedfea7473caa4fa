"""The small end-to-end example the notebooks (and the slow board-path test) share.

A 64-64 xnor_mlp on scikit-learn's digits (8x8, offline, trains in seconds on a CPU), built for a
board with few verification images, so a notebook run in CI stays short. ``ensure_build`` reuses a
finished build folder. Runs on the PC (torch, FINN); the board itself only needs OUTPUT/deploy/.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
WORKDIR_ENV = "SHIFTBNN_WORKDIR"
DEMO_KWARGS = {"hidden": [64, 64], "shift": 0.3}


def work_dir() -> Path:
    """The notebooks' working folder: $SHIFTBNN_WORKDIR, else build/notebooks in the repository
    (git-ignored, like every build folder). Read at each call, so setting the variable in a running
    notebook takes effect."""
    return Path(os.environ.get(WORKDIR_ENV) or REPO / "build" / "notebooks")


def train_demo_model(out: Path | None = None, epochs: int = 5, shift: float = 0.3) -> Path:
    """Train (or reuse) the demo model in ``out`` (default work_dir()/mlp-digits); returns its checkpoint.pt."""
    from flow.training.loop import TrainConfig, train

    out = Path(out) if out is not None else work_dir() / "mlp-digits"
    ckpt = out / "checkpoint.pt"
    if not ckpt.is_file():
        cfg = TrainConfig(
            model="xnor_mlp",
            dataset="digits",
            model_kwargs={**DEMO_KWARGS, "shift": shift},
            epochs=epochs,
            batch_size=64,
            output=str(out),
            progress=False,
            workers=0,
            threads=1,
        )
        train(cfg)
    return ckpt


def ensure_build(
    checkpoint: Path,
    output: Path | None = None,
    board: str = "Pynq-Z2",
    verify_images: int = 20,
    force: bool = False,
) -> Path:
    """Compile ``checkpoint`` with flow/build.py (as ``python flow/build.py --board ... --checkpoint
    ...`` would) unless ``output`` (default work_dir()/mlp-digits-<board>) already holds a build with a
    deploy package; returns ``output``."""
    from flow.build import main

    output = Path(output) if output is not None else work_dir() / f"mlp-digits-{board}"
    done = (output / "report" / "summary.json").is_file() and (output / "deploy" / "driver.py").is_file()
    if force or not done:
        args = ["--board", board, "--model", "xnor_mlp", "--checkpoint", str(checkpoint)]
        if main([*args, "--verify-images", str(verify_images), "--output", str(output)]) != 0:
            raise RuntimeError(f"the build of {checkpoint} failed (see the error above)")
        complete_board_artifacts(output)
    return output


def complete_board_artifacts(output: Path) -> None:
    """rtl/, rtlsim/ and deploy/ for a build made by a flow that does not produce them itself yet
    (flow/builder/pipeline.py before the RTL backend and the deploy package are wired in). No-op otherwise."""
    from flow.deploy.package import make_deploy_package

    summary = json.loads((output / "report" / "summary.json").read_text())
    if not (output / "rtlsim" / "shiftbnn_sim").is_file():
        from qonnx.core.modelwrapper import ModelWrapper

        import flow.core.finn_env  # noqa: F401
        from flow.core.boards import get_board
        from flow.rtl_backend.design import generate
        from flow.rtl_backend.sim import build_sim

        folded = ModelWrapper(str(output / "model" / "folded.onnx"))
        parent = ModelWrapper(str(output / "model" / "dataflow_parent.onnx"))
        design = generate(folded, parent, output, get_board(summary["board"]), None)
        build_sim(design.rtl_dir, design.sim_dir, design.top)
    if not (output / "deploy" / "driver.py").is_file():
        images, labels = dataset_test_split(summary)
        make_deploy_package(output, summary, images, labels)


def dataset_test_split(summary: dict, count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The test split of the dataset the build's input shape implies (digits for 8x8)."""
    from flow.data.builtin import default_dataset, load_split

    dataset = "digits" if summary["input_shape"][-1] == 8 else default_dataset()
    split = load_split(dataset, train=False)
    n = len(split) if count is None else min(count, len(split))
    return split.images[:n].numpy().astype(np.uint8), split.labels[:n].numpy()


def threshold_values(model) -> dict[str, np.ndarray]:
    """Thresholds of every thresholding node of a FINN graph, by node name: MultiThreshold /
    Thresholding (input 1) and MVAU with embedded thresholds (input 2)."""
    out = {}
    for n in model.graph.node:
        index = 2 if n.op_type.startswith("MVAU") else 1 if "Threshold" in n.op_type else None
        if index is not None and len(n.input) > index and model.get_initializer(n.input[index]) is not None:
            out[n.name] = model.get_initializer(n.input[index])
    return out


def streamlined_thresholds(checkpoint: Path, shift: float, workdir: Path, board: str = "Pynq-Z2") -> dict:
    """Export ``checkpoint`` with every threshold shift set to ``shift`` and run the compile steps up
    to the conversion into HW layers; returns the integer thresholds of each MVAU (what the shift
    changes in hardware)."""
    from flow.builder.compile import compile_config, run_compile_steps
    from flow.compiler.export import export_model
    from flow.compiler.network import load_network
    from flow.core.boards import get_board

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = compile_config(get_board(board), workdir, model="xnor_mlp", checkpoint=Path(checkpoint), shift=shift)
    net = load_network(cfg)
    model = export_model(net.torch_model, net.shape, workdir / "qonnx.onnx")
    state = run_compile_steps(model, cfg, until="convert_to_hw", save=False)
    return threshold_values(state.model)
