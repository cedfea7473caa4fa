"""The build, as a pure function of its options: the steps of build_steps.py around FINN's compile steps.

``run_build(options, workdir, final_dir)`` writes everything into ``workdir`` (a temporary folder; the
CLI moves it into place only when the build succeeded) and returns the summary dict. Every step is
timed on one progress line; the ONNX after each compile step is saved under ``model/``.
"""

from __future__ import annotations

from pathlib import Path

from finn.util.exception import FINNUserError

from flow.analysis.folding_rules import FoldingError
from flow.compiler.build_steps import AFTER_COMPILE, BEFORE_COMPILE, BuildState
from flow.compiler.checks import check_finite_graph
from flow.compiler.network import DEFAULT_TARGET_FPS, BuildOptions
from flow.compiler.report import summary_table
from flow.compiler.steps import COMPILE_STEPS, MappingError, StepContext
from flow.core import finn_env  # noqa: F401  (boots FINN without Vivado; before finn.builder imports)
from flow.core.errors import BuildError
from flow.core.progress import Progress

# The progress steps around FINN's compile steps, in the order ``run_build`` runs them.
STEPS_BEFORE_COMPILE = tuple(name for name, _ in BEFORE_COMPILE)
STEPS_AFTER_COMPILE = tuple(name for name, _ in AFTER_COMPILE)


def run_build(opts: BuildOptions, workdir: Path, final_dir: Path, progress_stream=None) -> dict:
    state = _start(opts, workdir)
    progress = Progress(len(BEFORE_COMPILE) + len(COMPILE_STEPS) + len(AFTER_COMPILE), progress_stream)
    state.steps = progress.steps
    for name, step in BEFORE_COMPILE:
        with progress.step(name) as state.record:
            step(state)
    for name, step, filename in COMPILE_STEPS:
        with progress.step(name), state.quietly():
            try:
                state.model = step(state.model, state.ctx)
            except FINNUserError as exc:
                raise BuildError(f"FINN step {name} failed: {exc}") from None
            except (MappingError, FoldingError, BuildError):
                raise
            except Exception as exc:  # an assertion deep in FINN/qonnx: one line naming the step, no traceback
                detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "(no message)"
                raise BuildError(f"FINN step {name} failed on this graph: {type(exc).__name__}: {detail}") from None
            state.model.save(str(state.model_dir / filename))
            if name == "streamline":  # thresholds exist from here on: none may be NaN/inf (FINN loops on them)
                check_finite_graph(state.model, "streamlined graph")
                state.graphs["streamlined"] = state.model
    # The parent graph points at the partition by absolute path: record the final location.
    state.ctx.parent.save(str(state.model_dir / "dataflow_parent.onnx"))
    for name, step in AFTER_COMPILE:
        with progress.step(name) as state.record:
            step(state)
    _relocate_partition_paths(state.model_dir, workdir, final_dir)
    bitstream = state.bitstream
    if opts.require_bitstream and bitstream["status"] != "built":
        raise BuildError(f"--require-bitstream: bitstream {bitstream['status']} ({bitstream['reason']})")
    print(summary_table(state.summary), file=progress.stream)
    return state.summary


def _start(opts: BuildOptions, workdir: Path) -> BuildState:
    """The build folder's skeleton and the state the steps share; a finn-hls build needs Vivado first."""
    (workdir / "model").mkdir(parents=True)
    (workdir / "report").mkdir(parents=True)
    if opts.backend == "finn-hls":
        from flow.vivado.finn_hls import FinnHlsError, require_vivado

        try:
            require_vivado()  # fail before any step, with FINN's message
        except FinnHlsError as exc:
            raise BuildError(str(exc)) from None
    ctx = StepContext(
        board=opts.board,
        workdir=workdir,
        folding_file=opts.folding,
        target_fps=opts.target_fps if opts.target_fps or opts.folding else DEFAULT_TARGET_FPS,
        rtl_folding=opts.backend == "rtl",
    )
    return BuildState(opts=opts, workdir=workdir, ctx=ctx)


def _relocate_partition_paths(model_dir: Path, workdir: Path, final_dir: Path) -> None:
    """Rewrite absolute paths to the temporary build folder so the moved output stays loadable."""
    for path in model_dir.glob("*.onnx"):
        data = path.read_bytes()
        old, new = str(workdir).encode(), str(final_dir).encode()
        if old in data:
            from qonnx.core.modelwrapper import ModelWrapper

            wrapper = ModelWrapper(str(path))
            for node in wrapper.graph.node:
                for attr in node.attribute:
                    if attr.name == "model" and attr.s.startswith(old):
                        attr.s = new + attr.s[len(old) :]
            wrapper.save(str(path))
