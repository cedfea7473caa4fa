"""Folding configuration (FINN's JSON: ``{"Defaults": {...}, "<node name>": {"PE": p, "SIMD": s}}``)
validated against the graph before FINN applies it.

FINN's ApplyConfig silently ignores keys that match no node and only fails deep inside a later step
when PE/SIMD do not divide the layer; we reject both up front with one clear line.
Folding maths (FINN MVAU): an MW x MH matrix takes (MW / SIMD) * (MH / PE) cycles per vector, so
SIMD must divide MW and PE must divide MH; likewise for the channel-parallel layers below.

Residual graphs: an ``ElementwiseAdd`` (finn-plus' AddStreams) takes both operands with one PE.
``equalize_join_folding`` gives the producers of both operands that same PE, so the two streams
meet the add at equal width without data-width converters.
"""

from __future__ import annotations

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp


class FoldingError(ValueError):
    """A folding JSON that does not fit the graph."""


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
}
# PE-folded ops whose output PE equalize_join_folding may raise (attribute bounding PE).
PE_PRODUCERS = {
    "MVAU": "MH",
    "Thresholding": "NumChannels",
    "DuplicateStreams": "NumChannels",
    "ElementwiseAdd": CHANNELS,
}


def generic_op_type(op_type: str) -> str:
    """``MVAU_hls`` -> ``MVAU`` (specialized FINN nodes carry an _hls/_rtl suffix)."""
    for suffix in ("_hls", "_rtl"):
        if op_type.endswith(suffix):
            return op_type[: -len(suffix)]
    return op_type


def validate_folding(model: ModelWrapper, config: dict) -> None:
    """Raise FoldingError for unknown keys, non-positive values or factors that do not divide."""
    if not isinstance(config, dict):
        raise FoldingError("folding JSON must be an object keyed by layer name")
    nodes = {n.name: n for n in model.graph.node}
    for key, attrs in config.items():
        if key == "Defaults":
            continue
        if key not in nodes:
            raise FoldingError(f"folding key {key!r} matches no layer; layers are: {', '.join(nodes)}")
        if not isinstance(attrs, dict):
            raise FoldingError(f"folding entry {key!r} must be an object of attributes")
        node = nodes[key]
        rules = DIVISIBILITY.get(generic_op_type(node.op_type), {})
        inst = getCustomOp(node)
        for attr, value in attrs.items():
            if attr not in rules:
                continue
            if not isinstance(value, int) or value < 1:
                raise FoldingError(f"{key}: {attr} must be a positive integer, got {value!r}")
            size = _size(inst, rules[attr])
            if size % value:
                raise FoldingError(f"{key}: {attr}={value} does not divide {rules[attr]}={size}")


def folding_of(model: ModelWrapper) -> dict:
    """The PE/SIMD actually set on each HW node (for the report)."""
    out = {}
    for node in model.graph.node:
        inst = getCustomOp(node)
        attrs = {a: inst.get_nodeattr(a) for a in ("PE", "SIMD") if a in inst.get_nodeattr_types()}
        if attrs:
            out[node.name] = attrs
    return out


def equalize_join_folding(model: ModelWrapper) -> ModelWrapper:
    """Give every ElementwiseAdd and the producers of its two operands one PE: the largest of theirs.

    Each PE divides the channel count C (FINN picks divisors), so the largest does too; raising a PE
    only shortens a node's cycles, so the pipeline's bottleneck does not get slower."""
    for node in model.graph.node:
        if generic_op_type(node.op_type) != "ElementwiseAdd":
            continue
        nodes = [node]
        for name in node.input:
            producer = model.find_producer(name)
            if producer is not None and generic_op_type(producer.op_type) in PE_PRODUCERS:
                nodes.append(producer)
        insts = [getCustomOp(n) for n in nodes]
        pe = max(inst.get_nodeattr("PE") for inst in insts)
        for n, inst in zip(nodes, insts, strict=True):
            if _size(inst, PE_PRODUCERS[generic_op_type(n.op_type)]) % pe:
                raise FoldingError(f"{n.name}: PE={pe} of the residual add does not divide its channels")
            inst.set_nodeattr("PE", pe)
    return model
