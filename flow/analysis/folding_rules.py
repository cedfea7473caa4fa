"""Folding rules of FINN's HW nodes: which attribute each folding factor must divide, the folding a graph
carries, and one PE around every residual join.

Folding maths (FINN MVAU): an MW x MH matrix takes (MW / SIMD) * (MH / PE) cycles per vector, so
SIMD must divide MW and PE must divide MH; likewise for the channel-parallel layers below.

Residual graphs: an ``ElementwiseAdd`` (finn-plus 1.6.1's two-stream add) takes both operands with
one PE. ``equalize_join_folding`` (after SetFolding or the folding search) gives the add, the producers
of both operands, its single Thresholding consumer (the re-quantization the RTL backend fuses into the
add at equal PE) and the producer of a DuplicateStreams operand one PE, so no data-width converter sits
at the fork, between the fork and the add, or between the add and its re-quantizer.
"""

from __future__ import annotations

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.core.hw_graph import RUNTIME_WEIGHTS, generic_op_type, runtime_writeable


class FoldingError(ValueError):
    """A folding that does not fit the graph."""


CHANNELS = "channels"  # no attribute: the last dimension of the node's output (ElementwiseAdd)


def _size(inst, name: str) -> int:
    if name == CHANNELS:
        return int(inst.get_normal_output_shape()[-1])
    size = inst.get_nodeattr(name)
    return size if isinstance(size, int) else int(max(size))


# generic op type -> {folding attribute: node attribute it must divide}
DIVISIBILITY = {
    "MVAU": {"SIMD": "MW", "PE": "MH"},
    "VVAU": {"SIMD": "Kernel", "PE": "Channels"},
    "ConvolutionInputGenerator": {"SIMD": "IFMChannels"},
    "Pool": {"PE": "Channels"},
    "StreamingMaxPool": {"PE": "NumChannels"},
    "LabelSelect": {"PE": "Labels"},
    "Thresholding": {"PE": "NumChannels"},
    "FMPadding": {"SIMD": "NumChannels"},
    "DuplicateStreams": {"PE": "NumChannels"},
    "GlobalAccPool": {"PE": "NumChannels"},
    "ElementwiseAdd": {"PE": CHANNELS},
    "ShiftbnnPool": {"PE": "Channels"},
    "ShiftbnnPosThreshold": {"PE": "NumChannels"},
}
# PE-folded ops whose output PE equalize_join_folding may raise (attribute bounding PE).
PE_PRODUCERS = {
    "MVAU": "MH",
    "Thresholding": "NumChannels",
    "DuplicateStreams": "NumChannels",
    "ElementwiseAdd": CHANNELS,
}


def folding_of(model: ModelWrapper) -> dict:
    """The folding actually set on each HW node (for the report): PE/SIMD, an MVAU's weight memory
    (``ram_style``, and ``runtime_writeable_weights`` where loaded at run time), a sliding window's
    ``parallel_window`` where set."""
    out = {}
    for node in model.graph.node:
        inst = getCustomOp(node)
        types = inst.get_nodeattr_types()
        attrs = {a: inst.get_nodeattr(a) for a in ("PE", "SIMD") if a in types}
        if "parallel_window" in types and inst.get_nodeattr("parallel_window"):
            attrs["parallel_window"] = 1
        if generic_op_type(node.op_type) == "MVAU":
            attrs["ram_style"] = inst.get_nodeattr("ram_style")
            if runtime_writeable(inst):
                attrs[RUNTIME_WEIGHTS] = 1
        if attrs:
            out[node.name] = attrs
    return out


def _join_group(model: ModelWrapper, add) -> list:
    """The add, the PE-folded producers of its operands (and of a DuplicateStreams operand's input)
    and its single Thresholding consumer: the nodes that must share the add's PE."""
    channels = _size(getCustomOp(add), CHANNELS)

    def folded(node) -> bool:
        kind = None if node is None else generic_op_type(node.op_type)
        return kind in PE_PRODUCERS and _size(getCustomOp(node), PE_PRODUCERS[kind]) == channels

    group = [add]
    for name in add.input:
        producer = model.find_producer(name)
        if not folded(producer):
            continue
        group.append(producer)
        if generic_op_type(producer.op_type) == "DuplicateStreams":
            before = model.find_producer(producer.input[0])
            if folded(before):
                group.append(before)
    consumers = model.find_consumers(add.output[0]) or []
    if len(consumers) == 1 and generic_op_type(consumers[0].op_type) == "Thresholding" and folded(consumers[0]):
        group.append(consumers[0])
    return group


def equalize_join_folding(model: ModelWrapper) -> ModelWrapper:
    """Give every ElementwiseAdd and the nodes around it (``_join_group``) one PE: the largest of theirs.

    Groups of consecutive residual blocks overlap (a block's re-quantizer feeds the next fork), so
    this repeats until no PE changes. A group holds only nodes of the add's channel count C and each
    PE divides C (SetFolding picks divisors), so the largest does too; raising a PE only shortens a
    node's cycles, so the pipeline's bottleneck does not get slower."""
    changed = True
    while changed:
        changed = False
        for node in model.graph.node:
            if generic_op_type(node.op_type) != "ElementwiseAdd":
                continue
            nodes = _join_group(model, node)
            insts = [getCustomOp(n) for n in nodes]
            pe = max(inst.get_nodeattr("PE") for inst in insts)
            for inst in insts:
                if inst.get_nodeattr("PE") != pe:
                    inst.set_nodeattr("PE", pe)
                    changed = True
    return model
