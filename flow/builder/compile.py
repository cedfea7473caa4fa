"""The compile steps alone (export -> folded graph), for benchmarks, notebooks and tests that check the
hardware against Brevitas themselves or look at an intermediate graph."""

from __future__ import annotations

from pathlib import Path

from flow.backends import DEFAULT_BACKEND, get_backend
from flow.compiler.compile_steps import COMPILE_STEPS
from flow.compiler.export import export_model
from flow.core.boards import Board
from flow.core.config import BuildConfig, BuildState


def compile_config(board: Board, workdir: Path, **options) -> BuildConfig:
    """A BuildConfig for ``workdir`` with the default backend unless ``backend`` is given."""
    backend = options.pop("backend", None) or get_backend(DEFAULT_BACKEND)
    return BuildConfig(board=board, backend=backend, workdir=Path(workdir), **options)


def run_compile_steps(model, cfg: BuildConfig, until: str | None = None, save: bool = True) -> BuildState:
    """The compile steps on a QONNX ``model`` up to and including ``until`` (all by default); the
    graph after each is saved under ``cfg.model_dir`` when ``save``."""
    cfg.model_dir.mkdir(parents=True, exist_ok=True)
    state = BuildState(model=model)
    for name, step, filename in COMPILE_STEPS:
        step(state, cfg)
        if save:
            state.model.save(str(cfg.model_dir / filename))
        if name == until:
            break
    return state


def compile_network(model, shape, workdir: Path, board: Board, folding: Path | None = None, target_fps=None):
    """Export a Brevitas ``model`` and run every compile step. Returns (folded graph, dataflow parent
    graph, the folding search's result or None when ``folding`` gave the folding)."""
    cfg = compile_config(board, workdir, folding=folding, target_fps=target_fps)
    cfg.model_dir.mkdir(parents=True, exist_ok=True)
    graph = export_model(model, shape, cfg.model_dir / "qonnx.onnx")
    state = run_compile_steps(graph, cfg)
    return state.model, state.parent, state.search
