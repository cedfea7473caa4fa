"""Prepare the folded FINN graph for RTL generation: the stream plumbing FINN adds before stitching.

``rtl_graph(folded, part, fifo_depths)`` returns a new graph in which FINN has inserted data-width
converters (InsertDWC; their RTL is our stream_dwc, any pair of widths, once ``check_converter_types``
has made sure that both sides of each converter agree on the element type) and a FIFO on every stream
(InsertFIFO, shallow ones included, so each edge has one whose depth the backend can size),
specialized to their RTL variants, with unique names.

The graph may fork and join (Bi-Real residual blocks): streams are tensors, a ``DuplicateStreams``
node has two outputs and an ``ElementwiseAdd`` two inputs; InsertFIFO puts a FIFO on
each branch, so the shortcut FIFO can be sized (fifo.py).

shiftbnn-specific adjustments, each a qonnx Transformation applied by ``rtl_graph`` (the maths is unchanged):
- A ``noActivation`` MVAU outputs its accumulator. FINN's minimized accumulator type can be one bit
  short of the popcount range (MW=256 XNOR: INT9 holds -256..255, the popcount reaches 256), so the
  accumulator stream is widened to the range the RTL computes exactly (bnn_mvau's AccBits).
- Pools are already one node (``ShiftbnnPool``, flow/compiler/transforms/pools.py): bnn_pool keeps its own
  line buffers, no sliding-window generator in front.
- Every two-stream add becomes one ``ShiftbnnAdd`` node (stream_add): ``clamp(a + b + Offset, OutMin,
  OutMax)``. Alone it is FINN's add (Offset 0, the full range of a + b); when its sole consumer is a
  Thresholding whose thresholds are one unit staircase for every channel (the re-quantization of the
  residual sum), that Thresholding is the clamp and is fused into it (``staircase``).
- ``Thresholding_hls`` becomes ``Thresholding_rtl`` (same attributes and maths; FINN has its RTL).
- A wide threshold table (e.g. an INT8 re-quantization, 255 thresholds per channel) becomes one
  ``ShiftbnnRequant`` node, ``clamp((x * M + A) >> S)`` per channel, where that is exact on the input's
  reachable range (requant.py).
- Layout-only nodes (a Reshape, a Shuffle that keeps the stream order) are wires; a Shuffle that
  reorders the stream goes to one element per beat (layout.py).
"""

from __future__ import annotations

import copy

import flow.core.finn_env  # noqa: F401  (must precede finn imports)

# isort: split
from finn.transformation.fpgadataflow.insert_dwc import InsertDWC
from finn.transformation.fpgadataflow.insert_fifo import InsertFIFO
from finn.transformation.fpgadataflow.specialize_layers import SpecializeLayers
from onnx import helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation
from qonnx.transformation.general import GiveUniqueNodeNames

from flow.core.hw_graph import (
    ADD_OP,
    ADD_OPS,
    HW_DOMAIN,
    SHIFTBNN_DOMAIN,
    generic_op_type,
    mvau_acc_bits,
    stream_shape,
)
from flow.rtl_backend.layout import FuseReorderChains, SerialReorders, WireThroughLayoutNodes
from flow.rtl_backend.requant import ThresholdsToMulAdd, staircase
from flow.rtl_backend.split_thresholds import SplitMvauThresholds
from hw.golden.stream import int_range


class RtlGraphError(RuntimeError):
    """The folded graph cannot be turned into RTL; the message names the node."""


class WidenAccumulatorStreams(Transformation):
    """Give each noActivation MVAU the output type INT<AccBits> (and its consumers that input type)."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node in model.graph.node:
            if not node.op_type.startswith("MVAU"):
                continue
            inst = getCustomOp(node)
            if not inst.get_nodeattr("noActivation"):
                continue
            dt = DataType[f"INT{mvau_acc_bits(inst)}"]
            inst.set_nodeattr("outputDataType", dt.name)
            model.set_tensor_datatype(node.output[0], dt)
            _retype_consumers(model, node.output[0], dt)
        return model, False


# Nodes that copy their input elements to the output unchanged: their output type is their input type.
ELEMENT_COPYING = {
    "ConvolutionInputGenerator", "FMPadding", "StreamingFIFO", "StreamingDataWidthConverter", "DuplicateStreams",
    "Shuffle", "InnerShuffle", "OuterShuffle",
}  # fmt: skip


def _retype_consumers(model: ModelWrapper, tensor: str, dt: DataType) -> None:
    """The consumers of ``tensor`` read ``dt``; a node that copies its elements (``ELEMENT_COPYING``: a
    sliding window, a padding) outputs ``dt`` too and a pool (``InputDataType``, its output type follows
    from it: a sum pool adds bits) its new output type: both pass it on to their own consumers. Before
    FINN's bit-width minimisation (the memory check and the folding search lower the unfolded graph) a
    window's output type otherwise stays the wide accumulator's, and FINN's width converter after it
    asserts (its width is no multiple of the element's)."""
    for consumer in model.find_consumers(tensor) or []:
        cinst = getCustomOp(consumer)
        if generic_op_type(consumer.op_type) in ELEMENT_COPYING:
            for attr in ("inputDataType", "outputDataType", "dataType"):
                if attr in cinst.get_nodeattr_types():
                    cinst.set_nodeattr(attr, dt.name)
            for out in consumer.output:
                model.set_tensor_datatype(out, dt)
                _retype_consumers(model, out, dt)
        elif "inputDataType" in cinst.get_nodeattr_types():
            cinst.set_nodeattr("inputDataType", dt.name)
        elif consumer.op_type.startswith("ShiftbnnPool"):
            cinst.set_nodeattr("InputDataType", dt.name)
            odt = cinst.get_output_datatype()
            cinst.set_nodeattr("OutputDataType", odt.name)
            model.set_tensor_datatype(consumer.output[0], odt)
            _retype_consumers(model, consumer.output[0], odt)


def _skip_fifos(model: ModelWrapper, tensor: str) -> tuple[object | None, list]:
    """The single consumer of ``tensor`` behind any StreamingFIFOs, and those FIFOs."""
    fifos = []
    while True:
        consumers = model.find_consumers(tensor) or []
        if len(consumers) != 1:
            return None, fifos
        if not consumers[0].op_type.startswith("StreamingFIFO"):
            return consumers[0], fifos
        fifos.append(consumers[0])
        tensor = consumers[0].output[0]


class FuseAdds(Transformation):
    """Every two-stream add -> one ShiftbnnAdd node, fused with a staircase Thresholding behind it
    (``fuse_requant=False`` keeps the Thresholding separate)."""

    def __init__(self, fuse_requant: bool = True):
        super().__init__()
        self.fuse_requant = fuse_requant

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        fuse_requant = self.fuse_requant
        for add in list(model.graph.node):
            if add.op_type not in ADD_OPS:
                continue
            inst = getCustomOp(add)
            g = inst.get_nodeattr
            shapes = [list(g(k)) for k in ("lhs_shape", "rhs_shape", "out_shape")]
            styles = [g("lhs_style"), g("rhs_style")]
            if shapes[0] != shapes[1] or shapes[1] != shapes[2] or styles != ["input", "input"]:
                raise RtlGraphError(
                    f"node {add.name!r}: only the add of two streams of one shape has RTL "
                    f"(shapes {shapes[0]} + {shapes[1]}, inputs {styles})"
                )
            a_dt, b_dt, o_dt = inst.get_input_datatype(0), inst.get_input_datatype(1), inst.get_output_datatype(0)
            for dt in (a_dt, b_dt):
                if not dt.is_integer() or dt == DataType["BIPOLAR"]:
                    raise RtlGraphError(f"node {add.name!r}: input type {dt.name} has no RTL add")
            (a_lo, a_hi), (b_lo, b_hi) = (int_range(dt.bitwidth(), dt.signed()) for dt in (a_dt, b_dt))
            lo, hi = a_lo + b_lo, a_hi + b_hi
            if lo < o_dt.min() or hi > o_dt.max():
                raise RtlGraphError(f"node {add.name!r}: the sum range [{lo}, {hi}] does not fit {o_dt.name}")
            offset, out_bits, output, drop = 0, o_dt.bitwidth(), add.output[0], []
            thr, fifos = _skip_fifos(model, add.output[0])
            clamp = staircase(model, thr) if thr is not None and fuse_requant else None
            if clamp is not None and getCustomOp(thr).get_nodeattr("PE") == g("PE"):
                offset, lo, hi = clamp
                out_bits, output, drop = (
                    getCustomOp(thr).get_output_datatype(0).bitwidth(),
                    thr.output[0],
                    [thr, *fifos],
                )
            beats, _ = stream_shape(model, add, output=True)
            fused = helper.make_node(
                ADD_OP,
                [add.input[0], add.input[1]],
                [output],
                domain=SHIFTBNN_DOMAIN,
                name=f"Add_{add.name}" + (f"_{thr.name}" if drop else ""),
                PE=int(g("PE")),
                ABits=int(a_dt.bitwidth()),
                ASigned=int(a_dt.signed()),
                BBits=int(b_dt.bitwidth()),
                BSigned=int(b_dt.signed()),
                OutBits=int(out_bits),
                Offset=int(offset),
                OutMin=int(lo),
                OutMax=int(hi),
                Beats=int(beats),
            )
            index = list(model.graph.node).index(add)
            for node in [add, *drop]:
                model.graph.node.remove(node)
            model.graph.node.insert(index, fused)
        return model, False


def check_converter_types(model: ModelWrapper) -> None:
    """Where InsertDWC will put a width converter (the folded widths of a stream's producer and consumer
    differ), both sides must agree on the element type: a converter only regroups bits. FINN's
    InsertDWC would stop there with a bare assertion ("DWC stream width must be divisible by input
    element bitwidth"); this names the stream, the nodes and the two types."""
    for node in model.graph.node:
        inst = getCustomOp(node)
        for k, tensor in enumerate(node.output):
            for consumer in model.find_consumers(tensor) or []:
                idx, cinst = list(consumer.input).index(tensor), getCustomOp(consumer)
                if inst.get_folded_output_shape(k)[-1] == cinst.get_folded_input_shape(idx)[-1]:
                    continue
                out_dt, in_dt = inst.get_output_datatype(k), cinst.get_input_datatype(idx)
                if out_dt.bitwidth() != in_dt.bitwidth() or out_dt.signed() != in_dt.signed():
                    raise RtlGraphError(
                        f"stream {tensor!r}: node {node.name!r} writes {out_dt.name} elements but node "
                        f"{consumer.name!r} reads them as {in_dt.name}; a width converter cannot join them"
                    )


class ThresholdingToRtl(Transformation):
    """Thresholding_hls -> Thresholding_rtl (the generic attributes are the same)."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node in model.graph.node:
            if node.op_type == "Thresholding_hls":
                node.op_type, node.domain = "Thresholding_rtl", HW_DOMAIN + ".rtl"
                keep = set(getCustomOp(node).get_nodeattr_types())
                for attr in [a for a in node.attribute if a.name not in keep]:
                    node.attribute.remove(attr)
        return model, False


CLEANUP = object()  # rtl_graph's marker: sort the graph here


def search_graph(folded: ModelWrapper, part: str) -> ModelWrapper:
    """The lowering the folding search evaluates (flow/analysis/folding_search.py ``Lower``): ``rtl_graph``
    without its FIFOs, which never set a stream's rate (one beat per cycle, as many beats as the
    stream) and whose cost the resource model adds per stream (cost.py ``design_blocks``): the FIFO
    insertion is half the time of a lowering, and the search lowers once per step it takes."""
    return rtl_graph(folded, part, fifos=False)


def rtl_graph(folded: ModelWrapper, part: str, fuse_requant: bool = True, fifos: bool = True) -> ModelWrapper:
    """Folded graph -> graph with DWCs and a FIFO on every edge, FINN RTL variants, unique names,
    fused adds (``fuse_requant=False`` keeps staircase Thresholdings separate), wide threshold tables as
    multiply-add re-quantizers. ``fifos=False``: without the FIFOs (``search_graph``)."""
    model = copy.deepcopy(folded)
    for node in model.graph.node:
        if not node.domain.startswith(HW_DOMAIN):
            raise RtlGraphError(f"node {node.name!r} (op {node.op_type}) is not a hardware layer")
        if node.op_type.startswith("DuplicateStreams") and len(node.output) != 2:
            raise RtlGraphError(f"node {node.name!r}: stream_dup has 2 outputs, the node {len(node.output)}")
    # One copy above, no copy per step; the graph is sorted (cleanup) where the order matters: before
    # GiveUniqueNodeNames numbers the nodes, and at the end. Half the time of a cleanup after every step
    # (the folding search lowers a graph once per step it takes).
    for transformation in (
        FuseReorderChains(),  # FINN's decomposition of a Shuffle, undone: one frame memory, not three
        WireThroughLayoutNodes(),
        SerialReorders(),
        SplitMvauThresholds(),
        WidenAccumulatorStreams(),
        ThresholdingToRtl(),
    ):
        model = model.transform(transformation, make_deepcopy=False)  # a private copy already
    check_converter_types(model)
    for transformation in (
        InsertDWC(),
        InsertFIFO(create_shallow_fifos=True) if fifos else None,
        SpecializeLayers(part),
        CLEANUP,
        GiveUniqueNodeNames(),
        FuseAdds(fuse_requant),
        ThresholdsToMulAdd(),
    ):
        if transformation is CLEANUP:
            model = model.cleanup()
        elif transformation is not None:
            model = model.transform(transformation, make_deepcopy=False, cleanup=False)
    return model.cleanup()
