"""The compiler steps: QONNX -> FINN streamlined XNOR-popcount-threshold graph -> folded HW graph.

Same shape as FINN's builder, with one signature for every step of a build: ``step_x(state, cfg)``
rewrites ``state.model`` (flow/core/config.py); the pipeline saves the ONNX after each step of
``COMPILE_STEPS``. Where FINN's own step function does the job we call it (with a FINN
``DataflowBuildConfig`` made from ours, ``finn_config``); our own steps add what the builder lacks:
a clear error naming an unmappable node (zero padding of a bipolar map included), thresholds clamped
to the reachable accumulator range (transforms/clamp_thresholds.py), folding JSON validation
(folding_config.py), the backend's own folding (``cfg.backend.fold``: the RTL backend's search on its
cycle and resource model), and the dataflow parent graph (the software prefix, e.g. NCHW->NHWC
Transpose) kept for verification.
"""

from __future__ import annotations

import copy
import functools
import math

import flow.core.finn_env  # noqa: F401  (must precede finn.builder imports)

# isort: split
import finn.builder.build_dataflow_config as finn_config_module
import finn.builder.build_dataflow_steps as finn_steps
from finn.transformation.fpgadataflow.create_dataflow_partition import CreateDataflowPartition
from finn.transformation.fpgadataflow.minimize_accumulator_width import MinimizeAccumulatorWidth
from finn.transformation.fpgadataflow.minimize_weight_bit_width import MinimizeWeightBitWidth
from finn.transformation.streamline.absorb import AbsorbScalarMulAddIntoTopK
from finn.transformation.streamline.round_thresholds import RoundAndClipThresholds
from finn.util.exception import FINNUserError
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.general import GiveUniqueNodeNames
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.transformation.insert_topk import InsertTopK

from flow.analysis.folding_rules import FoldingError
from flow.analysis.weight_memory import mark_runtime_weights
from flow.compiler.checks import check_finite_graph
from flow.compiler.folding_config import validate_folding
from flow.compiler.refusals import carry_origins, origins_by_tensor, refuse_unscaled_adds, transform_carrying_origins
from flow.compiler.transforms.bipolar_int_matmul import BipolarInputAsBinary
from flow.compiler.transforms.bipolar_pad import ExplicitBipolarPadding
from flow.compiler.transforms.border_threshold import (
    AbsorbBorderAddIntoThreshold,
    IntegerBiasBeforeTopK,
    refuse_position_offsets,
)
from flow.compiler.transforms.clamp_thresholds import ClampMvauThresholds, XnorAccumulatorType
from flow.compiler.transforms.fast_streamline import fast_step_streamline
from flow.compiler.transforms.input_layout import ChannelsLastAtInput
from flow.compiler.transforms.pool_order import MoveMaxPoolPastMonotoneOps
from flow.compiler.transforms.pool_streamline import streamline_pools
from flow.compiler.transforms.pools import ConvertPoolsToShiftbnn
from flow.compiler.transforms.residual import StreamlineResidual, needs_residual_streamline
from flow.compiler.transforms.row_strides import PoolRowStridesAsOwnWindow, RowStridesAsOwnWindow
from flow.compiler.transforms.thin_maps import PadThinMaps, SingleWindowStrides
from flow.core import ops as shiftbnn_ops
from flow.core.config import BuildConfig, BuildState, Step
from flow.core.hw_graph import HW_DOMAIN
from flow.core.inputs import InputError, read_json

# Nodes FINN may leave in software at the graph boundary (layout changes of the input/output).
SOFTWARE_BOUNDARY_OPS = {"Transpose", "Flatten", "Reshape"}


class MappingError(RuntimeError):
    """The network contains a node FINN cannot turn into a hardware layer."""


def finn_config(cfg: BuildConfig) -> finn_config_module.DataflowBuildConfig:
    """FINN's builder configuration for its step functions, made from ours."""
    fps = cfg.target_fps
    return finn_config_module.DataflowBuildConfig(
        output_dir=str(cfg.workdir),
        synth_clk_period_ns=1000.0 / cfg.board.clock_mhz,
        board=cfg.board.finn_board,
        fpga_part=cfg.board.part,
        shell_flow_type=finn_config_module.ShellFlowType.VIVADO_ZYNQ,
        target_fps=int(fps) if fps and math.isfinite(fps) else None,
        folding_config_file=None if cfg.folding is None else str(cfg.folding),
        generate_outputs=[finn_config_module.DataflowOutputType.ESTIMATE_REPORTS],
        save_intermediate_models=False,
    )


def step_qonnx_to_finn(state: BuildState, cfg: BuildConfig) -> None:
    """Append TopK (the accelerator outputs the label), then convert QONNX quantizers to FINN's
    MultiThreshold (BipolarQuant after Sub(x, t) becomes thresholds that include the shift)."""
    model = state.model
    if not model.get_nodes_by_op_type("TopK"):
        model = model.transform(InsertTopK(k=1))
    state.model = reinfer_unknown_shapes(finn_steps.step_qonnx_to_finn(model, finn_config(cfg)))


def reinfer_unknown_shapes(model: ModelWrapper) -> ModelWrapper:
    """Shapes that a conversion recorded as unknown (rank 0) inferred again: qonnx's GemmToMatMul writes
    the MatMul of a Gemm whose weight shape it could not read without dimensions, which InferShapes then
    keeps as a scalar (and FINN's MVAU conversion fails on it)."""
    unknown = [vi for vi in model.graph.value_info if not vi.type.tensor_type.shape.dim]
    for vi in unknown:
        model.graph.value_info.remove(vi)
    return model.transform(InferShapes()) if unknown else model


def step_tidy_up(state: BuildState, cfg: BuildConfig) -> None:
    """FINN's tidy-up, then our rewrites that FINN's streamlining builds on: a Conv's own padding of a
    bipolar map as an explicit Pad (corrected after streamlining, transforms/bipolar_pad.py), max pools
    moved behind the monotone functions between them and the next quantizer (XNOR-Net's order,
    transforms/pool_order.py), every pool as one ShiftbnnPool (transforms/pools.py)."""
    model = finn_steps.step_tidy_up(state.model, finn_config(cfg))
    model = transform_carrying_origins(model, ExplicitBipolarPadding())
    model = transform_carrying_origins(model, MoveMaxPoolPastMonotoneOps())
    state.model = transform_carrying_origins(model, ConvertPoolsToShiftbnn())


def step_streamline(state: BuildState, cfg: BuildConfig) -> None:
    """BatchNorm, the 1/255 input scale and the shift t collapse into integer thresholds; bipolar
    MatMuls become XnorPopcountMatMul; the final positive scale is absorbed into TopK.
    Residual graphs (Bi-Real) then go through ``StreamlineResidual`` (flow/compiler/transforms/residual.py);
    chain networks never reach it. Thresholds exist from here on: none may be NaN/inf (FINN loops on them)."""
    model = fast_step_streamline(state.model)  # FINN's step_streamline, fewer whole-graph passes
    first = model.find_consumers(model.graph.input[0].name)
    model = transform_carrying_origins(model, ChannelsLastAtInput())
    rewritten = len(model.graph.node)
    model = transform_carrying_origins(model, BipolarInputAsBinary())  # its Mul / Add go into the next thresholds below
    restreamline = model.find_consumers(model.graph.input[0].name) != first or len(model.graph.node) != rewritten
    if needs_residual_streamline(model):
        model = transform_carrying_origins(model, StreamlineResidual())
    model = transform_carrying_origins(streamline_pools(model, restreamline), RowStridesAsOwnWindow())
    model = transform_carrying_origins(model, PoolRowStridesAsOwnWindow())
    model = transform_carrying_origins(transform_carrying_origins(model, PadThinMaps()), SingleWindowStrides())
    refuse_unscaled_adds(model)
    check_finite_graph(model, "streamlined graph")
    state.model = model
    # the verification's reference of this stage is a snapshot: later steps rewrite nodes in place
    # (``bipolar_code_for_standalone_thresholds`` changes a MultiThreshold's output code from +-1 to 0/1)
    state.graphs["streamlined"] = ModelWrapper(copy.deepcopy(model.model))


def bipolar_code_for_standalone_thresholds(model: ModelWrapper) -> None:
    """A binary activation that no matrix product produces (XNOR-Net's order puts it after a pool) is a
    MultiThreshold with a BIPOLAR output ``2 * count - 1``, which FINN's Thresholding conversion takes
    only with ``out_scale`` 1. FINN's convention for a bipolar activation (its MVAU conversion does the
    same): the count itself, 0 or 1, with the BIPOLAR output type, whose code reads 0 as -1; so
    ``out_scale`` 1 and ``out_bias`` 0, and the Thresholding (or, after a zero-padded XNOR layer,
    ShiftbnnPosThreshold) node made right after executes to +-1."""
    for node in model.get_nodes_by_op_type("MultiThreshold"):
        inst = getCustomOp(node)
        producer = model.find_producer(node.input[0])
        if producer is not None and producer.op_type in ("MatMul", "XnorPopcountMatMul"):
            continue
        bipolar = model.get_tensor_datatype(node.output[0]) == DataType["BIPOLAR"]
        if bipolar and inst.get_nodeattr("out_scale") == 2.0 and inst.get_nodeattr("out_bias") == -1.0:
            inst.set_nodeattr("out_scale", 1.0)
            inst.set_nodeattr("out_bias", 0.0)


def step_convert_to_hw(state: BuildState, cfg: BuildConfig) -> None:
    """FINN's conversion to HW layers, after ours (transforms/border_threshold.py): the border correction
    of zero-padded binary convs into position-indexed thresholds, a classifier's integer bias into a
    per-channel offset before TopK."""
    model = state.model
    bipolar_code_for_standalone_thresholds(model)
    model = model.transform(AbsorbBorderAddIntoThreshold())
    refuse_position_offsets(model)  # what no threshold took: no exact hardware (refusals.py)
    model = model.transform(IntegerBiasBeforeTopK()).transform(AbsorbScalarMulAddIntoTopK())
    try:
        model = finn_steps.step_convert_to_hw(model, finn_config(cfg))
    except FINNUserError as exc:  # FINN's message starts with the offending node's name
        raise MappingError(f"FINN cannot map this network to hardware: {exc}") from None
    check_mappable(model)
    model = shiftbnn_ops.specialize(model)
    # thresholds outside the reachable accumulator range -> always on/off (clamp_thresholds.py)
    state.model = model.transform(ClampMvauThresholds())


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


def step_create_dataflow_partition(state: BuildState, cfg: BuildConfig) -> None:
    """Split off the HW layers; keep the parent graph (software prefix) for whole-network checks."""
    partition_dir = cfg.model_dir / "partitions"
    parent = state.model.transform(CreateDataflowPartition(partition_model_dir=str(partition_dir)))
    sdp = parent.get_nodes_by_op_type("StreamingDataflowPartition")
    if len(sdp) != 1:
        raise MappingError(f"expected one dataflow partition, FINN made {len(sdp)}")
    state.parent = parent
    child_path = next(a.s.decode() for a in sdp[0].attribute if a.name == "model")
    state.model = ModelWrapper(child_path)


def step_specialize_layers(state: BuildState, cfg: BuildConfig) -> None:
    """Choose HLS/RTL variants as FINN does (binary MVAU, Pool and LabelSelect are HLS-only in
    FINN; shiftbnn's RTL backend implements them)."""
    state.model = finn_steps.step_specialize_layers(state.model, finn_config(cfg))


def step_folding(state: BuildState, cfg: BuildConfig) -> None:
    """Set PE/SIMD (and with ``--runtime-weights`` every MVAU's run-time weight mark): from a folding
    JSON (validated against the graph first), else the backend's own folding for ``cfg.target_fps``
    (inf or None: the fastest that fits the board); the backend's fit check of the result; then FINN's
    bit-width minimisation."""
    state.model = state.model.transform(GiveUniqueNodeNames())
    if cfg.runtime_weights:  # before the folding JSON (which may unmark a layer) and the search (which costs it)
        mark_runtime_weights(state.model)
    if cfg.folding is not None:
        try:
            config = read_json(cfg.folding, "folding JSON")
        except InputError as exc:
            raise FoldingError(str(exc)) from None
        validate_folding(state.model, config, cfg.backend.folding_attributes(cfg.board), cfg.backend.name)
        state.model = finn_steps.step_apply_folding_config(state.model, finn_config(cfg))
    else:
        cfg.backend.fold(state, cfg)
    cfg.backend.check_fit(state, cfg)  # before any RTL: a design over the board fails here, with the numbers
    state.model = minimize_bit_width(state.model)
    state.model = finn_steps.step_transpose_decomposition(state.model, finn_config(cfg))


def minimize_bit_width(model: ModelWrapper) -> ModelWrapper:
    """FINN's step_minimize_bit_width (weights, accumulators, thresholds rounded and clipped to them),
    with the accumulator of XNOR layers corrected to the popcount's range before the clip
    (transforms/clamp_thresholds.py ``XnorAccumulatorType``: FINN's clip changes their function)."""
    for transformation in (
        MinimizeWeightBitWidth(),
        MinimizeAccumulatorWidth(),
        XnorAccumulatorType(),
        InferDataTypes(),
        RoundAndClipThresholds(),
        InferDataTypes(),
        MinimizeWeightBitWidth(),
        InferDataTypes(),
    ):
        model = model.transform(transformation)
    return model


def step_generate_estimate_reports(state: BuildState, cfg: BuildConfig) -> None:
    """FINN's analytical per-layer cycles and LUT/BRAM/DSP estimates (report/estimate_*.json)."""
    state.model = finn_steps.step_generate_estimate_reports(state.model, finn_config(cfg))


def carrying_origins(step: Step) -> Step:
    """``step`` with the user's layer names carried to the nodes it makes (refusals.py ``carry_origins``;
    the transformations composed inside streamlining carry them one by one, fast_streamline.py)."""

    @functools.wraps(step)
    def carrying(state: BuildState, cfg: BuildConfig) -> None:
        before = origins_by_tensor(state.model)
        step(state, cfg)
        carry_origins(state.model, before)

    return carrying


# (name, step, file under model/ that the graph is saved to after the step)
COMPILE_STEPS: list[tuple[str, Step, str]] = [
    ("qonnx_to_finn", carrying_origins(step_qonnx_to_finn), "finn.onnx"),
    ("tidy_up", carrying_origins(step_tidy_up), "tidy.onnx"),
    ("streamline", carrying_origins(step_streamline), "streamlined.onnx"),
    ("convert_to_hw", step_convert_to_hw, "hw.onnx"),
    ("dataflow_partition", step_create_dataflow_partition, "dataflow.onnx"),
    ("specialize_layers", step_specialize_layers, "specialized.onnx"),
    ("folding", step_folding, "folded.onnx"),
    ("estimate_reports", step_generate_estimate_reports, "folded.onnx"),
]
