"""Folding configuration (FINN's JSON: ``{"Defaults": {...}, "<node name>": {"PE": p, "SIMD": s}}``)
validated against the graph before FINN applies it.

FINN's ApplyConfig silently ignores keys that match no node and only fails deep inside a later step
when PE/SIMD do not divide the layer; we reject both up front with one clear line.
Folding maths (FINN MVAU): an MW x MH matrix takes (MW / SIMD) * (MH / PE) cycles per vector, so
SIMD must divide MW and PE must divide MH; likewise for the channel-parallel layers below.
"""

from __future__ import annotations

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp


class FoldingError(ValueError):
    """A folding JSON that does not fit the graph."""


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
            size = inst.get_nodeattr(rules[attr])
            size = size if isinstance(size, int) else int(max(size))
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
