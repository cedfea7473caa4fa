"""The compiler steps: QONNX -> FINN streamlined XNOR-popcount-threshold graph -> folded HW graph.

Same shape as FINN's builder: each step is ``step_x(model, ctx) -> model`` in an editable list, and
the flow saves the ONNX after every step. Where FINN's own step function does the job we call it
(with a FINN ``DataflowBuildConfig`` made from ours); our own steps add what the builder lacks:
a clear error naming an unmappable node (zero padding of a bipolar map included), thresholds clamped
to the reachable accumulator range (transforms/clamp_thresholds.py), folding JSON validation, the
folding search on our RTL's cycle and resource model (folding_search.py), and keeping the dataflow
parent graph (the software prefix, e.g. NCHW->NHWC Transpose) for verification.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import flow.core.finn_env  # noqa: F401  (must precede finn.builder imports)

# isort: split
import finn.builder.build_dataflow_config as finn_config
import finn.builder.build_dataflow_steps as finn_steps
from finn.transformation.fpgadataflow.create_dataflow_partition import CreateDataflowPartition
from finn.util.exception import FINNUserError
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.general import GiveUniqueNodeNames
from qonnx.transformation.insert_topk import InsertTopK

from flow.analysis.folding_rules import FoldingError, equalize_join_folding
from flow.compiler.folding_config import validate_folding
from flow.compiler.transforms.clamp_thresholds import ClampMvauThresholds
from flow.compiler.transforms.fast_streamline import fast_step_streamline
from flow.compiler.transforms.residual import StreamlineResidual, needs_residual_streamline
from flow.compiler.wide_folding import fold_for_target
from flow.core.boards import Board
from flow.core.hw_graph import HW_DOMAIN

# Nodes FINN may leave in software at the graph boundary (layout changes of the input/output).
SOFTWARE_BOUNDARY_OPS = {"Transpose", "Flatten", "Reshape"}


class MappingError(RuntimeError):
    """The network contains a node FINN cannot turn into a hardware layer."""


@dataclass
class StepContext:
    """What the steps share: the board, the build folder, the folding request and FINN's config."""

    board: Board
    workdir: Path
    folding_file: Path | None = None
    target_fps: float | None = None  # math.inf: the fastest folding that fits the board ("max")
    rtl_folding: bool = True  # fold on the cycle/resource model of our RTL (False: FINN's SetFolding)
    parent: ModelWrapper | None = None  # dataflow parent graph (software prefix + partition node)
    search: object | None = None  # folding_search.SearchResult (report/summary.json)
    finn_cfg: finn_config.DataflowBuildConfig = field(init=False)

    def __post_init__(self):
        self.finn_cfg = finn_config.DataflowBuildConfig(
            output_dir=str(self.workdir),
            synth_clk_period_ns=1000.0 / self.board.clock_mhz,
            board=self.board.finn_board,
            fpga_part=self.board.part,
            shell_flow_type=finn_config.ShellFlowType.VIVADO_ZYNQ,
            target_fps=int(self.target_fps) if self.target_fps and math.isfinite(self.target_fps) else None,
            generate_outputs=[finn_config.DataflowOutputType.ESTIMATE_REPORTS],
            save_intermediate_models=False,
        )


def step_qonnx_to_finn(model: ModelWrapper, ctx: StepContext) -> ModelWrapper:
    """Append TopK (the accelerator outputs the label), then convert QONNX quantizers to FINN's
    MultiThreshold (BipolarQuant after Sub(x, t) becomes thresholds that include the shift)."""
    if not model.get_nodes_by_op_type("TopK"):
        model = model.transform(InsertTopK(k=1))
    return finn_steps.step_qonnx_to_finn(model, ctx.finn_cfg)


def step_tidy_up(model: ModelWrapper, ctx: StepContext) -> ModelWrapper:
    model = finn_steps.step_tidy_up(model, ctx.finn_cfg)
    check_bipolar_padding(model)
    return model


def check_bipolar_padding(model: ModelWrapper) -> None:
    """Zero padding of a bipolar (+-1) map cannot be mapped: 0 is no bipolar value, and FINN's XNOR
    layers re-encode the map as bits (-1 -> 0), which turns a padded 0 into -1 silently. Pad such a
    map with -1 or +1 (an explicit Pad, e.g. Bi-Real's BinaryPad) or pad the integer input only."""
    for node in model.graph.node:
        if node.op_type not in ("Conv", "Pad") or model.get_tensor_datatype(node.input[0]).name != "BIPOLAR":
            continue
        if node.op_type == "Conv":
            pads = next((list(a.ints) for a in node.attribute if a.name == "pads"), [])
            padded = any(pads)
        else:
            value = model.get_initializer(node.input[2]) if len(node.input) > 2 and node.input[2] else None
            padded = value is None or float(value) not in (-1.0, 1.0)
        if padded:
            raise MappingError(
                f"node {node.name!r} ({node.op_type}) pads a bipolar (+-1) tensor with 0, which binary hardware "
                "cannot represent; pad with -1/+1 (an explicit Pad) or drop the padding"
            )


def step_streamline(model: ModelWrapper, ctx: StepContext) -> ModelWrapper:
    """BatchNorm, the 1/255 input scale and the shift t collapse into integer thresholds; bipolar
    MatMuls become XnorPopcountMatMul; the final positive scale is absorbed into TopK.
    Residual graphs (Bi-Real) then go through ``StreamlineResidual`` (flow/compiler/transforms/residual.py);
    chain networks never reach it."""
    model = fast_step_streamline(model)  # FINN's step_streamline, fewer whole-graph passes
    if needs_residual_streamline(model):
        model = model.transform(StreamlineResidual())
    return model


def step_convert_to_hw(model: ModelWrapper, ctx: StepContext) -> ModelWrapper:
    try:
        model = finn_steps.step_convert_to_hw(model, ctx.finn_cfg)
    except FINNUserError as exc:  # FINN's message starts with the offending node's name
        raise MappingError(f"FINN cannot map this network to hardware: {exc}") from None
    check_mappable(model)
    # thresholds outside the reachable accumulator range -> always on/off (clamp_thresholds.py)
    return model.transform(ClampMvauThresholds())


def check_mappable(model: ModelWrapper) -> None:
    """Every node must be a HW layer, except layout ops at the graph's input/output boundary."""
    nodes = list(model.graph.node)
    hw = [i for i, n in enumerate(nodes) if n.domain.startswith(HW_DOMAIN)]
    if not hw:
        raise MappingError("FINN mapped no node of this network to hardware (is it a binary network?)")
    first, last = hw[0], hw[-1]
    for i, node in enumerate(nodes):
        if node.domain.startswith(HW_DOMAIN):
            continue
        boundary = i < first or i > last
        if not (boundary and node.op_type in SOFTWARE_BOUNDARY_OPS):
            raise MappingError(f"FINN cannot map node {node.name!r} (op {node.op_type}) to a hardware layer")


def step_create_dataflow_partition(model: ModelWrapper, ctx: StepContext) -> ModelWrapper:
    """Split off the HW layers; keep the parent graph (software prefix) for whole-network checks."""
    partition_dir = ctx.workdir / "model" / "partitions"
    parent = model.transform(CreateDataflowPartition(partition_model_dir=str(partition_dir)))
    sdp = parent.get_nodes_by_op_type("StreamingDataflowPartition")
    if len(sdp) != 1:
        raise MappingError(f"expected one dataflow partition, FINN made {len(sdp)}")
    ctx.parent = parent
    child_path = next(a.s.decode() for a in sdp[0].attribute if a.name == "model")
    return ModelWrapper(child_path)


def step_specialize_layers(model: ModelWrapper, ctx: StepContext) -> ModelWrapper:
    """Choose HLS/RTL variants as FINN does (binary MVAU, Pool and LabelSelect are HLS-only in
    FINN; shiftbnn's RTL backend implements them)."""
    return finn_steps.step_specialize_layers(model, ctx.finn_cfg)


def step_folding(model: ModelWrapper, ctx: StepContext) -> ModelWrapper:
    """Set PE/SIMD: from a folding JSON (validated against the graph first), else by the folding
    search on our RTL's cycle and resource model for ``target_fps`` (folding_search.py; inf: the
    fastest that fits the board), or FINN's SetFolding for FINN's own HLS backend (residual adds:
    both operands at the add's PE, see ``equalize_join_folding``); then FINN's bit-width minimisation."""
    model = model.transform(GiveUniqueNodeNames())
    if ctx.folding_file is not None:
        try:
            config = json.loads(Path(ctx.folding_file).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise FoldingError(f"cannot read folding JSON {ctx.folding_file}: {exc}") from None
        validate_folding(model, config)
        ctx.finn_cfg.folding_config_file = str(ctx.folding_file)
        model = finn_steps.step_apply_folding_config(model, ctx.finn_cfg)
    elif ctx.rtl_folding:
        from flow.analysis.folding_search import search_max, search_target
        from flow.rtl_backend.graph import rtl_graph

        maximum = ctx.target_fps is None or math.isinf(ctx.target_fps)
        ctx.search = (
            search_max(model, ctx.board, rtl_graph)
            if maximum
            else search_target(model, ctx.board, ctx.target_fps, rtl_graph)
        )
    else:
        model = fold_for_target(model, ctx.finn_cfg)  # SetFolding; a wider weight stream if it misses
        model = equalize_join_folding(model)
    model = finn_steps.step_minimize_bit_width(model, ctx.finn_cfg)
    return finn_steps.step_transpose_decomposition(model, ctx.finn_cfg)


def step_generate_estimate_reports(model: ModelWrapper, ctx: StepContext) -> ModelWrapper:
    """FINN's analytical per-layer cycles and LUT/BRAM/DSP estimates (report/estimate_*.json)."""
    return finn_steps.step_generate_estimate_reports(model, ctx.finn_cfg)


Step = Callable[[ModelWrapper, StepContext], ModelWrapper]

# (name, function, file the resulting graph is saved to under model/)
COMPILE_STEPS: list[tuple[str, Step, str]] = [
    ("qonnx_to_finn", step_qonnx_to_finn, "finn.onnx"),
    ("tidy_up", step_tidy_up, "tidy.onnx"),
    ("streamline", step_streamline, "streamlined.onnx"),
    ("convert_to_hw", step_convert_to_hw, "hw.onnx"),
    ("dataflow_partition", step_create_dataflow_partition, "dataflow.onnx"),
    ("specialize_layers", step_specialize_layers, "specialized.onnx"),
    ("folding", step_folding, "folded.onnx"),
    ("estimate_reports", step_generate_estimate_reports, "folded.onnx"),
]
