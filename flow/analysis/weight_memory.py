"""Where each MVAU keeps its weights: LUTs or block RAM (URAM where a style for it exists), chosen for the
whole design at once.

Each style of an MVAU's weight memory costs LUTs, BRAM36 or URAM (cost.py ``weight_memory``): a shallow
memory in LUTs is nearly free in XNOR mode (the ROM folds into the popcount LUTs), a deep one costs
``width * depth / 64`` LUTs, while block RAM costs BRAM36 by the RAMB18 aspect ratios whatever the LUTs.
LUTs are what a BNN runs out of first, so the rule is a knapsack on the BRAM budget: every memory starts
in LUTs, then memories move to block RAM in the order of LUTs saved per BRAM36 spent, as long as the
BRAM budget (with the model's margin) holds and a move saves LUTs. The greedy order is the knapsack's
fractional optimum; for memories of similar size it is the optimum.
"""

from __future__ import annotations

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.analysis.cost import WEIGHT_STYLES, budget, margins, mvau_block
from flow.core.hw_graph import generic_op_type


def _memory(model: ModelWrapper, node, style: str) -> tuple[float, float, float]:
    b = mvau_block(model, node, style)
    return b.mem_lut, b.bram36, b.uram


def assign_weight_memories(model: ModelWrapper, other_bram36: float, board) -> dict[str, str]:
    """Set every MVAU's ``ram_style`` (module docstring); ``other_bram36``: the BRAM36 the rest of the
    design needs. Returns {node name: style}."""
    mvaus = [n for n in model.graph.node if generic_op_type(n.op_type) == "MVAU"]
    options = {n.name: {s: _memory(model, n, s) for s in WEIGHT_STYLES} for n in mvaus}
    styles = dict.fromkeys(options, "distributed")
    limit = budget(board)["bram36"] / (1 + margins()["bram36"])
    used = other_bram36 + sum(options[n]["distributed"][1] for n in options)
    moves = []
    for name, opt in options.items():
        if "block" not in opt:
            continue
        saved = opt["distributed"][0] - opt["block"][0]
        spent = opt["block"][1] - opt["distributed"][1]
        if saved > 0:
            moves.append((saved / max(spent, 1e-9), saved, spent, name))
    for _, _, spent, name in sorted(moves, reverse=True):
        if used + spent <= limit:
            styles[name], used = "block", used + spent
    for node in mvaus:
        getCustomOp(node).set_nodeattr("ram_style", styles[node.name])
    return styles
