"""A user's folding configuration (FINN's JSON: ``{"Defaults": {...}, "<node name>": {"PE": p, "SIMD": s}}``)
validated against the graph before FINN applies it.

FINN's ApplyConfig silently ignores keys that match no node and only fails deep inside a later step
when PE/SIMD do not divide the layer; we reject both up front with one clear line (the divisibility
rules: flow/analysis/folding_rules.py). A user's folding is not changed, but one that gives the two
operands of a residual add different PEs is rejected.
"""

from __future__ import annotations

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.analysis.folding_rules import DIVISIBILITY, PE_PRODUCERS, FoldingError, _size
from flow.core.hw_graph import generic_op_type


def validate_folding(model: ModelWrapper, config: dict, allowed: dict | None = None, backend: str = "") -> None:
    """Raise FoldingError for unknown keys, non-positive values or factors that do not divide, and for
    attributes (or values) the backend does not read (``allowed``: its ``folding_attributes``)."""
    if not isinstance(config, dict):
        raise FoldingError("folding JSON must be an object keyed by layer name")
    nodes = {n.name: n for n in model.graph.node}
    for key, attrs in config.items():
        check_backend_reads(key, attrs, allowed, backend)
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
            if attr not in inst.get_nodeattr_types():  # FINN's ApplyConfig would fail with a traceback
                raise FoldingError(f"{key}: {node.op_type} has no attribute {attr!r}")
            if attr not in rules:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise FoldingError(f"{key}: {attr} must be a positive integer, got {value!r}")
            size = _size(inst, rules[attr])
            if size % value:
                raise FoldingError(f"{key}: {attr}={value} does not divide {rules[attr]}={size}")
    _check_join_pes(model, config)


def check_backend_reads(key: str, attrs: dict, allowed: dict | None, backend: str) -> None:
    """An attribute the backend ignores would be accepted and do nothing: refused instead (``allowed``:
    the backend's ``folding_attributes``; None: it reads every attribute)."""
    if allowed is None or not isinstance(attrs, dict):
        return
    for attr, value in attrs.items():
        if attr not in allowed:
            raise FoldingError(
                f"{key}: the {backend} backend does not read {attr!r} (it takes {', '.join(allowed)}); remove it"
            )
        values = value[0::2] if key == "Defaults" and isinstance(value, list) else [value]  # FINN's pairs
        choices = allowed[attr]
        for v in values:
            if choices is not None and v not in choices:
                raise FoldingError(f"{key}: {attr} {v!r} is not available here (choose {', '.join(map(str, choices))})")


def _configured_pe(node, config: dict) -> int:
    """The PE ``node`` gets from ``config``: its own entry, else a FINN ``Defaults`` entry
    (``"PE": [value, op types or "all", value, ...]``), else its current PE."""
    entry = config.get(node.name, {})
    if "PE" in entry:
        return entry["PE"]
    default = config.get("Defaults", {}).get("PE")
    if isinstance(default, list):
        for value, ops in zip(default[::2], default[1::2], strict=False):
            if ops == "all" or node.op_type in ops:
                return value
    return getCustomOp(node).get_nodeattr("PE")


def _check_join_pes(model: ModelWrapper, config: dict) -> None:
    """Both operand streams of every ElementwiseAdd must come with one PE."""
    for node in model.graph.node:
        if generic_op_type(node.op_type) != "ElementwiseAdd":
            continue
        producers = [model.find_producer(name) for name in node.input]
        producers = [p for p in producers if p is not None and generic_op_type(p.op_type) in PE_PRODUCERS]
        pes = {p.name: _configured_pe(p, config) for p in producers}
        if len(set(pes.values())) > 1:
            found = ", ".join(f"{name} PE={pe}" for name, pe in pes.items())
            raise FoldingError(f"{node.name}: both operands of the residual add need one PE, got {found}")
