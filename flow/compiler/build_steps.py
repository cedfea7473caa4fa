"""The build's steps around FINN's compile steps, each ``step_x(state) -> None`` on one ``BuildState``.

Same shape as the compile steps (flow/compiler/steps.py): ``BEFORE_COMPILE`` run before them,
``AFTER_COMPILE`` after, in list order; ``run_build`` (pipeline.py) times each as a progress step.
A step that does not apply (no ``--synth``, no Vivado) marks its progress record ``skipped``.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper

from flow.analysis.folding_rules import folding_of
from flow.analysis.memory_fit import check_memory_fit
from flow.compiler.checks import warn_input_scale
from flow.compiler.export import export_model, torch_forward
from flow.compiler.network import (
    BuildOptions,
    Network,
    load_network,
    load_onnx,
    report_shift_override,
    verification_images,
    warn_if_constant,
)
from flow.compiler.report import finn_estimates, folding_target, write_breakdown_png
from flow.compiler.steps import StepContext
from flow.compiler.ties import qonnx_margins
from flow.compiler.verify import TIE_MARGIN, Verification, binary_margins, generic_hw_model, verify_chain
from flow.core.errors import BuildError
from flow.core.files import write_json
from flow.deploy.package import make_deploy_package
from flow.rtl_backend import flow as rtl_flow
from flow.rtl_backend.graph import RtlGraphError
from flow.rtl_backend.sim import SimError
from flow.rtl_backend.synth import SynthError, synthesize


@dataclass
class BuildState:
    """Everything one build step hands to the next."""

    opts: BuildOptions
    workdir: Path
    ctx: StepContext
    net: Network | None = None
    qonnx: ModelWrapper | None = None
    model: ModelWrapper | None = None  # the graph the compile steps produce (finally: folded)
    graphs: dict[str, ModelWrapper] = field(default_factory=dict)  # named graphs for verification
    images: np.ndarray | None = None
    labels: np.ndarray | None = None
    source: str = "random"  # where the verification images come from
    verification: Verification | None = None
    design: rtl_flow.Design | None = None
    inputs: np.ndarray | None = None  # accelerator inputs (after the software prefix)
    rtlsim: dict | None = None
    synth: dict | None = None
    bitstream: dict | None = None
    summary: dict | None = None
    shift_override: dict | None = None  # --shift on a trained checkpoint: the accuracy it costs
    record: dict = field(default_factory=dict)  # the current step's progress record
    steps: list[dict] = field(default_factory=list)  # every progress record so far (summary.json)

    @property
    def model_dir(self) -> Path:
        return self.workdir / "model"

    @property
    def report_dir(self) -> Path:
        return self.workdir / "report"

    def quietly(self):
        return finn_quietly(self.report_dir / "finn.log")


def finn_quietly(log_path: Path):
    """FINN prints progress chatter to stdout and warnings through logging: send both to a log."""
    stack = contextlib.ExitStack()
    stream = stack.enter_context(open(log_path, "a"))
    stack.enter_context(contextlib.redirect_stdout(stream))
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    stack.callback(root.removeHandler, handler)
    return stack


def step_export_qonnx(state: BuildState) -> None:
    """The Brevitas model (or the user's ONNX) as QONNX: model/qonnx.onnx."""
    state.net = load_network(state.opts)
    path = state.model_dir / "qonnx.onnx"
    if state.net.torch_model is not None:
        with state.quietly(), contextlib.redirect_stderr(io.StringIO()):
            state.qonnx = export_model(state.net.torch_model, state.net.shape, path)
    else:
        state.qonnx = load_onnx(state.opts.onnx, path)
    state.model = state.qonnx


def step_memory_fit(state: BuildState) -> None:
    """The folded network's weights and thresholds against the board's BRAM (flow/analysis/memory_fit.py): a
    network that cannot fit fails here, in seconds, with the numbers."""
    width = getattr(state.net.torch_model, "width", None) if state.net is not None else None
    state.record["memory"] = check_memory_fit(state.model, state.opts.board, width)


def step_verify(state: BuildState) -> None:
    """Brevitas = QONNX = streamlined = folded graph on the verification images; fail before the long
    steps (RTL, synthesis, Vivado): nothing after can fix a wrong graph."""
    net, qonnx = state.net, state.qonnx
    in_shape = tuple(qonnx.get_tensor_shape(qonnx.graph.input[0].name))
    opts = state.opts
    state.images, state.labels, state.source = verification_images(
        net, in_shape, opts.verify_images, opts.dataset, opts.data_dir
    )
    state.shift_override = report_shift_override(net, state.images, state.labels)
    if net.torch_model is None:  # a user's ONNX: is it fed the scale it was trained on?
        warn_input_scale(qonnx, state.images)
    logits = torch_forward(net.torch_model, state.images) if net.torch_model is not None else None
    state.graphs["finn"] = generic_hw_model(state.model, state.ctx.parent, state.model_dir / "folded_generic.onnx")
    with state.quietly():
        if net.torch_model is not None:
            ties = binary_margins(net.torch_model, state.images) < TIE_MARGIN
        else:  # a user's QONNX graph is the reference: its own quantizer inputs decide
            ties = qonnx_margins(qonnx, state.images) < TIE_MARGIN
        result = verify_chain(state.images, state.labels, logits, qonnx, state.graphs, ties)
    state.verification = result
    if result.reference_labels is not None:
        warn_if_constant(result.reference_labels, state.source)
    if not result.ok():
        key = next(k for k, v in result.matches.items() if v is not None and v != result.images)
        raise BuildError(
            f"verification failed: {key} matched {result.matches[key]}/{result.images} images "
            f"(first differing image #{result.first_mismatch[key]})"
        )


def step_rtl_generate(state: BuildState) -> None:
    """rtl/: our RTL for the folded graph, FIFOs sized by simulation unless --skip-rtlsim."""
    opts = state.opts
    with state.quietly():
        state.inputs = rtl_flow.accelerator_inputs(state.ctx.parent, state.images)
        try:
            state.design = rtl_flow.generate(
                state.model, state.ctx.parent, state.workdir, opts.board, state.inputs if opts.rtlsim else None
            )
        except (RtlGraphError, SimError) as exc:
            raise BuildError(f"RTL generation failed: {exc}") from None


def step_rtlsim(state: BuildState) -> None:
    """Verilator simulation of rtl/ on every verification image: labels must equal the reference."""
    if not state.opts.rtlsim:
        state.record["status"] = "skipped"
        return
    try:
        state.rtlsim, failure = rtl_flow.simulate(
            state.design,
            state.inputs,
            state.verification.reference_labels,
            layers=state.model_dir / "folded_generic.onnx",
            acceptable=state.verification.acceptable,
        )
    except SimError as exc:
        raise BuildError(str(exc), keep=True) from None
    if failure is not None:  # keep the folder: the reproduce command and layer dumps live there
        raise BuildError(failure, keep=True)


def step_synth(state: BuildState) -> None:
    """yosys synth_xilinx of rtl/ (--synth): LUT/FF/BRAM/DSP against the board."""
    if not state.opts.synth:
        state.record["status"] = "skipped"
        return
    try:
        state.synth = synthesize(state.design.rtl_dir, state.opts.board, state.report_dir / "synth")
    except SynthError as exc:  # keep the folder: the message points at the yosys log inside it
        raise BuildError(f"synthesis failed: {exc}", keep=True) from None


def step_bitstream(state: BuildState) -> None:
    """deploy/shiftbnn.bit + .hwh and Vivado's reports in report/ (flow/vivado), or FINN's backend."""
    opts, record = state.opts, state.record
    if opts.backend == "finn-hls":
        from flow.vivado.finn_hls import FinnHlsError, run_finn_hls

        try:
            state.bitstream = run_finn_hls(state.workdir, opts.board)
        except FinnHlsError as exc:
            raise BuildError(str(exc), keep=True) from None
        return
    from flow.vivado.build_bitstream import VivadoError, run_vivado

    try:
        result = run_vivado(state.workdir, opts.board)
    except VivadoError as exc:
        raise BuildError(f"bitstream: {exc}") from None
    if result["status"] == "failed":
        raise BuildError(f"bitstream: {result['reason']} (log: {result['log']})", keep=True)
    if result["status"] == "skipped":
        record["status"] = "skipped"
    state.bitstream = result


def step_report(state: BuildState) -> None:
    """report/summary.json: what was verified, measured and estimated; report/breakdown.png: per layer."""
    opts, result, qonnx = state.opts, state.verification, state.qonnx
    verification = {
        "images": result.images,
        "source": state.source,
        "reference": result.reference,
        **result.matches,
        "brevitas_vs_rtl": state.rtlsim["matches"] if state.rtlsim else None,
        "float_ties": result.float_ties,
        "output_ties": result.output_ties,
        "qonnx_logits_exact": result.qonnx_logits_exact,
        "accuracy": result.accuracy,
        "first_mismatch": {k: v for k, v in result.first_mismatch.items() if v >= 0},
    }
    state.summary = {
        "board": opts.board.name,
        "part": opts.board.part,
        "clock_mhz": opts.board.clock_mhz,
        "model": state.net.name,
        "shift": state.net.shift,
        "shift_override": state.shift_override,
        "input_shape": list(qonnx.get_tensor_shape(qonnx.graph.input[0].name)),
        "verification": verification,
        "estimate": finn_estimates(state.report_dir),
        "folding": folding_of(state.model),
        "target": folding_target(state.ctx.search, state.rtlsim),
        "rtl": {"dir": "rtl", "top": state.design.top["top"], "fifo_depths": state.design.top["fifo_depths"]},
        "rtlsim": state.rtlsim,
        "synth": state.synth,
        "bitstream": state.bitstream,
        "steps": state.steps,
    }
    write_json(state.report_dir / "summary.json", state.summary, indent=2)  # strict JSON: no NaN/Infinity
    write_breakdown_png(state.report_dir, state.summary)


def step_deploy(state: BuildState) -> None:
    """deploy/: the PYNQ driver, top.json and the test images with their labels (flow/deploy)."""
    make_deploy_package(state.workdir, state.summary, state.images, state.labels)


Step = Callable[[BuildState], None]
BEFORE_COMPILE: list[tuple[str, Step]] = [("export_qonnx", step_export_qonnx)]
AFTER_COMPILE: list[tuple[str, Step]] = [
    ("memory_fit", step_memory_fit),
    ("verify", step_verify),
    ("rtl_generate", step_rtl_generate),
    ("rtlsim", step_rtlsim),
    ("synth", step_synth),
    ("bitstream", step_bitstream),
    ("report", step_report),
    ("deploy", step_deploy),
]
