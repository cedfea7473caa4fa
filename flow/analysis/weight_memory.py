"""Where each MVAU keeps its weights: LUTs, block RAM, or URAM loaded at run time, chosen for the whole
design at once.

Each style of an MVAU's weight memory costs LUTs, BRAM36 or URAM (cost.py ``weight_memory``): a shallow
memory in LUTs is nearly free in XNOR mode (the ROM folds into the popcount LUTs), a deep one costs
``width * depth / 64`` LUTs, while block RAM costs BRAM36 by the RAMB18 aspect ratios whatever the LUTs.
LUTs are what a BNN runs out of first, so the rule is a knapsack on the BRAM budget: every memory starts
in LUTs, then memories move to block RAM in the order of LUTs saved per BRAM36 spent, as long as the
BRAM budget (with the model's margin) holds and a move saves LUTs. The greedy order is the knapsack's
fractional optimum; for memories of similar size it is the optimum.

URAM (UltraScale+ parts: ZCU104 96 URAM288, KV260 64) has no initial contents in a bitstream, so weights
there are written at run time (FINN's ``runtime_writeable_weights``: the top's s_axis_wgt, filled by the
driver from the deploy package before the first image). That costs a start-up load, so URAM is used only
when block RAM runs out: when a move to block RAM that would save LUTs did not fit its budget. Then the
same greedy fills both memories, in both orders (block RAM first, URAM first: URAM's 4096-word blocks
suit deep memories, block RAM's aspect ratios shallow ones), and the plan with fewer LUTs (then fewer
URAM) wins. A node already marked run-time (a folding JSON, ``--runtime-weights all``) keeps its mark and
may take any of the three memories.
"""

from __future__ import annotations

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.analysis.cost import WEIGHT_STYLES, budget, margins, mvau_block
from flow.core.hw_graph import RUNTIME_WEIGHTS, generic_op_type, runtime_writeable

RESOURCE = {"block": 1, "ultra": 2}  # index of the resource a style spends in (LUT, BRAM36, URAM)
BUDGET = {"block": "bram36", "ultra": "uram"}


def _options(model: ModelWrapper, node, forced: bool, uram: bool) -> dict[str, tuple[float, float, float]]:
    """(LUT, BRAM36, URAM) of each memory the node may take: constant styles, or any as a run-time RAM."""
    styles = (*WEIGHT_STYLES, *(("ultra",) if uram else ()))
    costs = {}
    for style in styles:
        b = mvau_block(model, node, style, runtime=forced or style == "ultra")
        costs[style] = (b.mem_lut, b.bram36, b.uram)
    return costs


def _fill(options: dict, styles: dict, used: dict, limits: dict, target: str) -> bool:
    """Move memories still in LUTs to ``target`` by LUTs saved per unit spent while its budget holds;
    True when a move that saves LUTs did not fit (the budget ran out)."""
    k, moves, short = RESOURCE[target], [], False
    for name, opt in options.items():
        if styles[name] != "distributed" or target not in opt:
            continue
        saved, spent = opt["distributed"][0] - opt[target][0], opt[target][k] - opt["distributed"][k]
        if saved > 0:
            moves.append((saved / max(spent, 1e-9), saved, spent, name))
    for _, _, spent, name in sorted(moves, reverse=True):
        if used[target] + spent <= limits[target]:
            styles[name], used[target] = target, used[target] + spent
        else:
            short = True
    return short


def _plan(options: dict, used: dict, limits: dict, order: tuple[str, ...]) -> dict[str, str]:
    styles, used = dict.fromkeys(options, "distributed"), dict(used)
    for target in order:
        _fill(options, styles, used, limits, target)
    return styles


def _lut_uram(options: dict, styles: dict) -> tuple[float, float]:
    return sum(options[n][s][0] for n, s in styles.items()), sum(options[n][s][2] for n, s in styles.items())


def assign_weight_memories(model: ModelWrapper, other: dict, board) -> dict[str, tuple[str, bool]]:
    """Set every MVAU's ``ram_style`` and run-time mark (module docstring); ``other``: the BRAM36 and
    URAM the rest of the design needs ({"bram36": ..., "uram": ...}). Returns {node: (style, run-time)}."""
    mvaus = [n for n in model.graph.node if generic_op_type(n.op_type) == "MVAU"]
    forced = {n.name for n in mvaus if runtime_writeable(getCustomOp(n))}
    options = {n.name: _options(model, n, n.name in forced, board.uram288 > 0) for n in mvaus}
    limit, margin = budget(board), margins()
    limits = {style: limit[res] / (1 + margin[res]) for style, res in BUDGET.items()}
    used = {style: other.get(res, 0.0) + sum(o["distributed"][RESOURCE[style]] for o in options.values())
            for style, res in BUDGET.items()}  # fmt: skip
    styles = dict.fromkeys(options, "distributed")
    short = _fill(options, styles, dict(used), limits, "block")
    if short and board.uram288 > 0:  # block RAM ran out: URAM too, in the better of the two orders
        plans = [_plan(options, used, limits, order) for order in (("block", "ultra"), ("ultra", "block"))]
        styles = min(plans, key=lambda p: _lut_uram(options, p))
    chosen = {name: (style, name in forced or style == "ultra") for name, style in styles.items()}
    for node in mvaus:
        set_weight_memory(getCustomOp(node), *chosen[node.name])
    return chosen


def set_weight_memory(inst, style: str, runtime: bool) -> None:
    inst.set_nodeattr("ram_style", style)
    inst.set_nodeattr(RUNTIME_WEIGHTS, int(runtime))


def mark_runtime_weights(model: ModelWrapper) -> int:
    """``--runtime-weights all``: every MVAU loads its weights at run time (its memory style is still the
    rule's). Returns how many were marked."""
    mvaus = [n for n in model.graph.node if generic_op_type(n.op_type) == "MVAU"]
    for node in mvaus:
        getCustomOp(node).set_nodeattr(RUNTIME_WEIGHTS, 1)
    return len(mvaus)
