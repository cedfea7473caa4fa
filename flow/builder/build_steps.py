"""The build's steps around the compile steps, each ``step_x(state, cfg) -> None`` (flow/core/config.py).

``BEFORE_COMPILE`` run before flow/compiler/compile_steps.py's steps, ``AFTER_COMPILE`` after, in list
order; ``run_build`` (pipeline.py) times each as a progress step. The hardware steps call the chosen
backend (``cfg.backend``). A step that does not apply (no ``--synth``, no Vivado) marks its progress
record ``skipped``.
"""

from __future__ import annotations

import contextlib
import io

from flow.analysis.folding_rules import folding_of
from flow.analysis.memory_fit import check_memory_fit
from flow.builder.report import block_table, finn_estimates, folding_target
from flow.builder.report_blocks import write_breakdown_png
from flow.builder.report_html import write_report_html
from flow.compiler.checks import warn_input_scale
from flow.compiler.export import export_model, torch_forward
from flow.compiler.network import load_network, load_onnx, report_shift_override, verification_images, warn_if_constant
from flow.compiler.ties import qonnx_margins
from flow.compiler.verify import TIE_MARGIN, binary_margins, generic_hw_model, match_key, stage_matches, verify_chain
from flow.core.config import BuildConfig, BuildState, Step, finn_quietly
from flow.core.errors import BuildError
from flow.core.files import write_json
from flow.core.provenance import provenance
from flow.data.builtin import DatasetError
from flow.deploy.package import make_deploy_package


def quietly(cfg: BuildConfig):
    return finn_quietly(cfg.report_dir / "finn.log")


def step_export_qonnx(state: BuildState, cfg: BuildConfig) -> None:
    """The Brevitas model (or the user's ONNX) as QONNX: model/qonnx.onnx."""
    state.net = load_network(cfg)
    path = cfg.model_dir / "qonnx.onnx"
    if state.net.torch_model is not None:
        with quietly(cfg), contextlib.redirect_stderr(io.StringIO()):
            state.qonnx = export_model(state.net.torch_model, state.net.shape, path)
    else:
        state.qonnx = load_onnx(cfg.onnx, path)
    state.model = state.qonnx


def step_memory_fit(state: BuildState, cfg: BuildConfig) -> None:
    """The folded network's weights and thresholds against the board's BRAM (flow/analysis/memory_fit.py):
    a network that cannot fit fails here, in seconds, with the numbers."""
    width = getattr(state.net.torch_model, "width", None) if state.net is not None else None
    state.record["memory"] = check_memory_fit(state.model, cfg.board, width)


def step_verify(state: BuildState, cfg: BuildConfig) -> None:
    """Brevitas = QONNX = streamlined = folded graph on the verification images; fail before the long
    steps (RTL, synthesis, Vivado): nothing after can fix a wrong graph."""
    net, qonnx = state.net, state.qonnx
    in_shape = tuple(qonnx.get_tensor_shape(qonnx.graph.input[0].name))
    state.images, state.labels, state.source = verification_images(
        net, in_shape, cfg.verify_images, cfg.dataset, cfg.data_dir, cfg.image_size
    )
    state.source_note = describe_source(state.source, len(state.images), cfg, net)
    check_label_range(state.labels, qonnx, state.source)
    state.shift_override = report_shift_override(net, state.images, state.labels)
    if net.torch_model is None:  # a user's ONNX: is it fed the scale it was trained on?
        warn_input_scale(qonnx, state.images)
    logits = torch_forward(net.torch_model, state.images) if net.torch_model is not None else None
    state.graphs["finn"] = generic_hw_model(state.model, state.parent, cfg.model_dir / "folded_generic.onnx")
    with quietly(cfg):
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


def describe_source(source: str, count: int, cfg: BuildConfig, net) -> str:
    """Which images the build verifies on, and why those (the summary and the console say it)."""
    if source != "random":
        why = "--dataset" if cfg.dataset is not None else "the checkpoint's data set"
        return f"{count} test images of {source} ({why})"
    if net.torch_model is None:
        why = "a QONNX file: --dataset NAME verifies on that data set's test images"
    elif net.dataset is None:
        why = "the network's data set is unknown: --dataset NAME verifies on its test images"
    else:
        why = f"the checkpoint's data set {net.dataset} did not load"
    return f"{count} random UINT8 inputs ({why})"


def check_label_range(labels, qonnx, source: str) -> None:
    """Every verification label must be one of the network's outputs (a 12-class data set on a 10-way
    head would only ever count as wrong)."""
    if labels is None or len(labels) == 0:
        return
    outputs = int(qonnx.get_tensor_shape(qonnx.graph.output[0].name)[-1])
    if int(labels.max()) >= outputs:
        raise DatasetError(
            f"the verification data set {source} has label {int(labels.max())}, the network has {outputs} outputs "
            f"(classes 0..{outputs - 1}): it was trained on other data"
        )


def step_generate(state: BuildState, cfg: BuildConfig) -> None:
    """The backend's hardware for the folded graph (rtl/)."""
    cfg.backend.generate(state, cfg)


def step_simulate(state: BuildState, cfg: BuildConfig) -> None:
    """The backend's simulation on every verification image (--skip-rtlsim skips it)."""
    if not cfg.rtlsim:
        state.record["status"] = "skipped"
        return
    cfg.backend.simulate(state, cfg)


def step_synthesize(state: BuildState, cfg: BuildConfig) -> None:
    """Resource counts of the design against the board (--synth)."""
    if not cfg.synth:
        state.record["status"] = "skipped"
        return
    cfg.backend.synthesize(state, cfg)


def step_bitstream(state: BuildState, cfg: BuildConfig) -> None:
    """The bitstream where the vendor tool is installed (deploy/), else a skipped record."""
    cfg.backend.bitstream(state, cfg)


def step_report(state: BuildState, cfg: BuildConfig) -> None:
    """report/summary.json: what was verified, measured and estimated; report/report.html: all of it on
    one page; report/breakdown.png: the per-block charts. ``write_reports`` rewrites summary.json and
    the page when the last step has ended (its time and late warnings)."""
    result, qonnx = state.verification, state.qonnx
    verification = {
        "images": result.images,
        "source": state.source,
        "source_note": state.source_note,
        "reference": result.reference,
        **result.matches,
        match_key(result.reference, "rtl"): state.rtlsim["matches"] if state.rtlsim else None,
        "float_ties": result.float_ties,
        "output_ties": result.output_ties,
        "qonnx_logits_exact": result.qonnx_logits_exact,
        "accuracy": result.accuracy,
        "first_mismatch": {k: v for k, v in result.first_mismatch.items() if v >= 0},
    }
    verification["stages"] = stage_matches(verification)  # {stage: images}, whatever the reference
    state.summary = {
        "board": cfg.board.name,
        "part": cfg.board.part,
        "board_part": cfg.board.board_part,
        "clock_mhz": cfg.board.clock_mhz,
        "backend": cfg.backend.name,
        "model": state.net.name,
        "model_source": "qonnx" if state.net.torch_model is None else "brevitas",  # --onnx: the graph fixes t
        "shift": state.net.shift,
        "shift_override": state.shift_override,
        "classes": state.net.classes,
        "input_shape": list(qonnx.get_tensor_shape(qonnx.graph.input[0].name)),
        "verification": verification,
        "estimate": finn_estimates(cfg.report_dir),
        "folding": folding_of(state.model),
        "target": folding_target(state.search, state.rtlsim),
        "rtl": {"dir": "rtl", "top": state.design.top["top"], "fifo_depths": state.design.top["fifo_depths"]},
        "blocks": block_table(
            state.design.graph, state.model, cfg.report_dir, state.design.top["fifo_depths"], state.synth
        ),
        "rtlsim": state.rtlsim,
        "synth": state.synth,
        "bitstream": state.bitstream,
        "steps": state.steps,
        "provenance": provenance(),
        "warnings": state.warnings,
    }
    write_breakdown_png(cfg.report_dir, state.summary)
    write_reports(state, cfg)


def write_reports(state: BuildState, cfg: BuildConfig) -> None:
    """report/summary.json (strict JSON: no NaN/Infinity) and report/report.html from ``state.summary``."""
    write_json(cfg.report_dir / "summary.json", state.summary, indent=2)
    write_report_html(cfg.workdir, state.summary, (cfg.output or cfg.workdir).name)


def write_failure_page(state: BuildState, cfg: BuildConfig, error: str) -> None:
    """report/report.html of a build that failed but keeps its folder (an RTL mismatch, a failed
    synthesis or bitstream): the error, the steps that ran, the warnings, what was measured so far."""
    net = state.net
    summary = state.summary or {
        "board": cfg.board.name,
        "part": cfg.board.part,
        "clock_mhz": cfg.board.clock_mhz,
        "backend": cfg.backend.name,
        "model": net.name if net is not None else cfg.model,
        "shift": net.shift if net is not None else cfg.shift,
        "rtlsim": state.rtlsim,
        "synth": state.synth,
        "steps": state.steps,
        "provenance": provenance(),
        "warnings": state.warnings,
    }
    write_report_html(cfg.workdir, {**summary, "error": error}, (cfg.output or cfg.workdir).name)


def step_deploy(state: BuildState, cfg: BuildConfig) -> None:
    """deploy/: the PYNQ driver, top.json and the test images with their labels (flow/deploy)."""
    make_deploy_package(cfg.workdir, state.summary, state.images, state.labels, location=cfg.output or cfg.workdir)


BEFORE_COMPILE: list[tuple[str, Step]] = [("export_qonnx", step_export_qonnx)]
AFTER_COMPILE: list[tuple[str, Step]] = [
    ("memory_fit", step_memory_fit),
    ("verify", step_verify),
    ("rtl_generate", step_generate),
    ("rtlsim", step_simulate),
    ("synth", step_synthesize),
    ("bitstream", step_bitstream),
    ("report", step_report),
    ("deploy", step_deploy),
]
