"""The build, as a pure function of its configuration: the steps of build_steps.py around the compile
steps (flow/compiler/compile_steps.py), all ``step_x(state, cfg)``.

``run_build(cfg)`` writes everything into ``cfg.workdir`` (a temporary folder; the CLI moves it to
``cfg.output`` only when the build succeeded) and returns the summary dict. Every step is timed on one
progress line; the ONNX after each compile step is saved under ``model/``.
"""

from __future__ import annotations

import traceback
from pathlib import Path

from finn.util.exception import FINNUserError

from flow.analysis.folding_rules import FoldingError
from flow.builder.build_steps import AFTER_COMPILE, BEFORE_COMPILE, quietly, write_failure_page, write_reports
from flow.builder.report import summary_table
from flow.compiler.compile_steps import COMPILE_STEPS, MappingError
from flow.core.capture import capture_warnings
from flow.core.config import BuildConfig, BuildState
from flow.core.errors import BuildError
from flow.core.progress import Progress

# Every progress step, in the order ``run_build`` runs them.
STEP_NAMES = (
    *(name for name, _ in BEFORE_COMPILE),
    *(name for name, _, _ in COMPILE_STEPS),
    *(name for name, _ in AFTER_COMPILE),
)


def run_build(cfg: BuildConfig, progress_stream=None) -> dict:
    cfg.backend.check(cfg)  # e.g. Vivado for FINN's HLS backend: fail before any step
    cfg.model_dir.mkdir(parents=True)
    cfg.report_dir.mkdir(parents=True)
    state = BuildState()
    progress = Progress(len(STEP_NAMES), progress_stream)
    state.steps = progress.steps
    try:
        with capture_warnings(state.warnings):
            _run_steps(state, cfg, progress)
    except BuildError as exc:
        if exc.keep:  # the folder stays for the user (e.g. to reproduce a mismatch): its page says why
            write_failure_page(state, cfg, str(exc))
        raise
    write_reports(state, cfg)  # again: with the last steps' times and every warning
    bitstream = state.bitstream
    if cfg.require_bitstream and bitstream["status"] != "built":
        raise BuildError(f"--require-bitstream: bitstream {bitstream['status']} ({bitstream['reason']})")
    # the result on stdout (the progress lines went to ``progress.stream``, stderr by default)
    print(summary_table(state.summary), flush=True)
    print(f"report: {(cfg.output or cfg.workdir) / 'report' / 'report.html'}", flush=True)
    return state.summary


def _run_steps(state: BuildState, cfg: BuildConfig, progress: Progress) -> None:
    for name, step in BEFORE_COMPILE:
        with progress.step(name) as state.record:
            step(state, cfg)
    for name, step, filename in COMPILE_STEPS:
        with progress.step(name), quietly(cfg):
            run_compile_step(name, step, state, cfg)
            state.model.save(str(cfg.model_dir / filename))
    # The parent graph points at the partition by absolute path: record the final location.
    state.parent.save(str(cfg.model_dir / "dataflow_parent.onnx"))
    for name, step in AFTER_COMPILE:
        with progress.step(name) as state.record:
            step(state, cfg)
    _relocate_partition_paths(cfg.model_dir, cfg.workdir, cfg.output or cfg.workdir)


def run_compile_step(name: str, step, state: BuildState, cfg: BuildConfig) -> None:
    """One compile step; an exception deep in FINN/qonnx becomes one line naming the step, with the
    whole message (FINN's assertion texts span lines) and its traceback appended to report/finn.log."""
    try:
        step(state, cfg)
    except FINNUserError as exc:
        raise BuildError(f"FINN step {name} failed: {one_line(exc)}") from None
    except (MappingError, FoldingError, BuildError):
        raise
    except Exception as exc:  # an assertion deep in FINN/qonnx: one line naming the step, no traceback
        log = cfg.report_dir / "finn.log"
        with open(log, "a") as fh:
            fh.write(f"\n--- step {name} failed ---\n{traceback.format_exc()}")
        raise BuildError(
            f"FINN step {name} failed on this graph: {type(exc).__name__}: {one_line(exc)} (traceback: {log})"
        ) from None


def one_line(exc: BaseException) -> str:
    """The whole message of ``exc`` on one line (each line stripped, joined by spaces)."""
    return " ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or "(no message)"


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
