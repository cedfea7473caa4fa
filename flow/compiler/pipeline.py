"""The build, as a pure function of its options: export -> FINN steps -> verification -> reports.

``run_build(options, workdir)`` writes everything into ``workdir`` (a temporary folder; the CLI moves
it into place only when the build succeeded) and returns the summary dict.
"""

from __future__ import annotations

import contextlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from finn.util.exception import FINNUserError

from brevitas_models.checkpoint import load_checkpoint
from brevitas_models.quant import set_model_shift
from brevitas_models.registry import build_model, input_shape
from flow.compiler import finn_env  # noqa: F401  (boots FINN without Vivado; before finn.builder imports)
from flow.compiler.boards import Board
from flow.compiler.export import export_model, torch_forward
from flow.compiler.folding import folding_of
from flow.compiler.progress import Progress
from flow.compiler.report import finn_estimates, summary_table, write_json
from flow.compiler.steps import COMPILE_STEPS, StepContext
from flow.compiler.verify import TIE_MARGIN, binary_margins, generic_hw_model, verify_chain
from flow.deploy.package import make_deploy_package
from flow.rtl_backend import flow as rtl_flow
from flow.rtl_backend.graph import RtlGraphError
from flow.rtl_backend.sim import SimError
from flow.rtl_backend.synth import SynthError, synthesize
from flow.training.datasets import DatasetError, default_dataset, load_split

DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[2] / "results" / "default_model" / "checkpoint.pt"
DEFAULT_TARGET_FPS = 100_000
# The progress steps around FINN's compile steps, in the order ``build`` runs them.
STEPS_BEFORE_COMPILE = ("export_qonnx",)
STEPS_AFTER_COMPILE = ("verify", "rtl_generate", "rtlsim", "synth", "bitstream", "report", "deploy")


class BuildError(RuntimeError):
    """A build that cannot go on; the message is the one line shown to the user.

    ``keep``: leave the (partial) build folder in place, e.g. so that the command in the message that
    reproduces an RTL simulation mismatch still works."""

    def __init__(self, message: str, keep: bool = False):
        super().__init__(message)
        self.keep = keep


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


def _finn_quietly(log_path: Path):
    """FINN prints progress chatter to stdout and warnings through logging: send both to a log."""
    stack = contextlib.ExitStack()
    stream = stack.enter_context(open(log_path, "a"))
    stack.enter_context(contextlib.redirect_stdout(stream))
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    stack.callback(root.removeHandler, handler)
    return stack


def run_build(opts: BuildOptions, workdir: Path, final_dir: Path, progress_stream=None) -> dict:
    model_dir, report_dir = workdir / "model", workdir / "report"
    model_dir.mkdir(parents=True)
    report_dir.mkdir(parents=True)
    finn_log = report_dir / "finn.log"
    if opts.backend == "finn-hls":
        from flow.vivado.finn_hls import FinnHlsError, require_vivado

        try:
            require_vivado()  # fail before any step, with FINN's message
        except FinnHlsError as exc:
            raise BuildError(str(exc)) from None
    progress = Progress(len(STEPS_BEFORE_COMPILE) + len(COMPILE_STEPS) + len(STEPS_AFTER_COMPILE), progress_stream)
    ctx = StepContext(
        board=opts.board,
        workdir=workdir,
        folding_file=opts.folding,
        target_fps=opts.target_fps if opts.target_fps or opts.folding else DEFAULT_TARGET_FPS,
    )

    with progress.step("export_qonnx"):
        net = load_network(opts)
        qonnx_path = model_dir / "qonnx.onnx"
        if net.torch_model is not None:
            with _finn_quietly(finn_log), contextlib.redirect_stderr(io.StringIO()):
                qonnx = export_model(net.torch_model, net.shape, qonnx_path)
        else:
            qonnx = _load_onnx(opts.onnx, qonnx_path)
        in_shape = tuple(qonnx.get_tensor_shape(qonnx.graph.input[0].name))

    model, graphs = qonnx, {}
    for name, step, filename in COMPILE_STEPS:
        with progress.step(name), _finn_quietly(finn_log):
            try:
                model = step(model, ctx)
            except FINNUserError as exc:
                raise BuildError(f"FINN step {name} failed: {exc}") from None
            model.save(str(model_dir / filename))
            if name == "streamline":
                graphs["streamlined"] = model
    # The parent graph points at the partition by absolute path: record the final location.
    ctx.parent.save(str(model_dir / "dataflow_parent.onnx"))

    with progress.step("verify"):
        images, labels, source = verification_images(net, in_shape, opts.verify_images)
        logits = torch_forward(net.torch_model, images) if net.torch_model is not None else None
        graphs["finn"] = generic_hw_model(model, ctx.parent, model_dir / "folded_generic.onnx")
        with _finn_quietly(finn_log):
            ties = None
            if net.torch_model is not None:
                ties = binary_margins(net.torch_model, images) < TIE_MARGIN
            result = verify_chain(images, labels, logits, qonnx, graphs, ties)
    # Fail before the long steps (RTL, synthesis, Vivado): nothing after can fix a wrong graph.
    if not result.ok():
        key = next(k for k, v in result.matches.items() if v is not None and v != result.images)
        raise BuildError(
            f"verification failed: {key} matched {result.matches[key]}/{result.images} images "
            f"(first differing image #{result.first_mismatch[key]})"
        )

    rtlsim, synth, rtl_failure = None, None, None
    with progress.step("rtl_generate"), _finn_quietly(finn_log):
        inputs = rtl_flow.accelerator_inputs(ctx.parent, images)
        try:
            design = rtl_flow.generate(model, ctx.parent, workdir, opts.board, inputs if opts.rtlsim else None)
        except (RtlGraphError, SimError) as exc:
            raise BuildError(f"RTL generation failed: {exc}") from None

    with progress.step("rtlsim") as record:
        if opts.rtlsim:
            try:
                rtlsim, rtl_failure = rtl_flow.simulate(
                    design, inputs, result.reference_labels, layers=model_dir / "folded_generic.onnx"
                )
            except SimError as exc:
                raise BuildError(str(exc), keep=True) from None
        else:
            record["status"] = "skipped"
    if rtl_failure is not None:  # keep the folder: the reproduce command and layer dumps live there
        raise BuildError(rtl_failure, keep=True)

    with progress.step("synth") as record:
        if opts.synth:
            try:
                synth = synthesize(design.rtl_dir, opts.board, report_dir / "synth")
            except SynthError as exc:  # keep the folder: the message points at the yosys log inside it
                raise BuildError(f"synthesis failed: {exc}", keep=True) from None
        else:
            record["status"] = "skipped"

    with progress.step("bitstream") as record:
        bitstream = _bitstream(opts, workdir, record)

    with progress.step("report"):
        verification = {
            "images": result.images,
            "source": source,
            "reference": result.reference,
            **result.matches,
            "brevitas_vs_rtl": rtlsim["matches"] if rtlsim else None,
            "float_ties": result.float_ties,
            "qonnx_logits_exact": result.qonnx_logits_exact,
            "accuracy": result.accuracy,
            "first_mismatch": {k: v for k, v in result.first_mismatch.items() if v >= 0},
        }
        summary = {
            "board": opts.board.name,
            "part": opts.board.part,
            "clock_mhz": opts.board.clock_mhz,
            "model": net.name,
            "shift": net.shift,
            "input_shape": list(in_shape),
            "verification": verification,
            "estimate": finn_estimates(report_dir),
            "folding": folding_of(model),
            "rtl": {"dir": "rtl", "top": design.top["top"], "fifo_depths": design.top["fifo_depths"]},
            "rtlsim": rtlsim,
            "synth": synth,
            "bitstream": bitstream,
            "steps": progress.steps,
        }
        write_json(report_dir / "summary.json", summary)

    with progress.step("deploy"):
        make_deploy_package(workdir, summary, images, labels)

    _relocate_partition_paths(model_dir, workdir, final_dir)
    if opts.require_bitstream and bitstream["status"] != "built":
        raise BuildError(f"--require-bitstream: bitstream {bitstream['status']} ({bitstream['reason']})")
    print(summary_table(summary), file=progress.stream)
    return summary


def _load_onnx(source: Path, target: Path):
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


def _bitstream(opts: BuildOptions, workdir: Path, record: dict) -> dict:
    """deploy/shiftbnn.bit + .hwh and Vivado's reports in report/ (flow/vivado), or FINN's backend."""
    if opts.backend == "finn-hls":
        from flow.vivado.finn_hls import FinnHlsError, run_finn_hls

        try:
            return run_finn_hls(workdir, opts.board)
        except FinnHlsError as exc:
            raise BuildError(str(exc), keep=True) from None
    from flow.vivado.build_bitstream import VivadoError, run_vivado

    try:
        result = run_vivado(workdir, opts.board)
    except VivadoError as exc:
        raise BuildError(f"bitstream: {exc}") from None
    if result["status"] == "failed":
        raise BuildError(f"bitstream: {result['reason']} (log: {result['log']})", keep=True)
    if result["status"] == "skipped":
        record["status"] = "skipped"
    return result


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
