"""FINN SetFolding with a wider MVAU weight stream when FINN's default cannot reach the target.

FINN's SetFolding raises an MVAU's SIMD only while SIMD x weight bits <= ``mvau_wwidth_max``
(``DataflowBuildConfig`` default 36: the width of the HLS weight stream of ``internal_decoupled`` memory).
A ResNet-18 then stops far from its target: binary convs at SIMD 36 (and their sliding windows at the
divisor of SIMD and the channel count, e.g. 4), the int8 stem at SIMD 3; ``bireal_resnet18_hw`` at
224 px reached 614,656 cycles/frame for a 100,000 target. shiftbnn's RTL reads a whole PE x SIMD weight
word from its own memory per cycle (bnn_mvau / int_mvau), so the limit is not ours. ``fold_for_target``
runs FINN's step as configured and, only if its estimate misses the target, again with
``WIDE_WWIDTH_MAX``: networks that meet the target keep FINN's folding unchanged.

Without a target (the default, or ``max``) the backend takes the fastest target whose FINN estimate
(``finn_cost``: FINN's own per-layer LUT/BRAM/URAM/DSP) fits the board, ``fold_fastest_fitting``.
"""

from __future__ import annotations

import copy
import dataclasses

import flow.core.finn_env  # noqa: F401  (must precede finn.builder imports)

# isort: split
import finn.builder.build_dataflow_steps as finn_steps
from finn.builder.build_dataflow_config import DataflowBuildConfig
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

WIDE_WWIDTH_MAX = 4096  # bits of one PE's weight word: SIMD 4096 binary, 512 int8 (bnn_mvau / int_mvau)


def max_cycles(model: ModelWrapper) -> int:
    """FINN's estimate of the slowest node's cycles per frame."""
    return max(int(getCustomOp(n).get_exp_cycles()) for n in model.graph.node)


def fold_for_target(model: ModelWrapper, cfg: DataflowBuildConfig) -> ModelWrapper:
    """FINN's step_target_fps_parallelization; retried with a wide weight stream if the target is missed."""
    target = cfg._resolve_cycles_per_frame()
    folded = finn_steps.step_target_fps_parallelization(copy.deepcopy(model), cfg)
    if target is None or max_cycles(folded) <= target or cfg.mvau_wwidth_max >= WIDE_WWIDTH_MAX:
        return folded
    wide = finn_steps.step_target_fps_parallelization(model, dataclasses.replace(cfg, mvau_wwidth_max=WIDE_WWIDTH_MAX))
    return wide if max_cycles(wide) < max_cycles(folded) else folded


def finn_cost(model: ModelWrapper, board) -> dict:
    """FINN's own resource estimate of the folded graph (its HLS layers) in the resource model's form
    (flow/analysis/cost.py ``design_cost``: totals, ``fits`` within the budget; FINN's numbers, no margin)."""
    from finn.analysis.fpgadataflow.res_estimation import res_estimation

    from flow.analysis.cost import RESOURCES, budget, over_budget

    per_node = res_estimation(model, board.part)
    keys = {"lut": ("LUT",), "bram36": ("BRAM_18K",), "uram": ("URAM",), "dsp": ("DSP", "DSP48", "DSP58")}
    totals = {r: float(sum(v.get(k, 0) for v in per_node.values() for k in keys[r])) for r in RESOURCES}
    totals["bram36"] /= 2  # FINN counts RAMB18
    over = over_budget(totals, board)  # uses the RTL model's margins: FINN's estimate gets none
    return {
        **{r: round(totals[r], 1) for r in RESOURCES},
        "fits": not over,
        "over_budget": {r: {"need": n, "budget": b} for r, (n, b) in over.items()},
        "budget_fraction": next(iter(budget(board).values())) / board.lut,
        "margin": dict.fromkeys(RESOURCES, 0.0),
        "source": "FINN estimate",
    }


def fold_fastest_fitting(model: ModelWrapper, cfg: DataflowBuildConfig, board, fps_cap: float) -> ModelWrapper:
    """The fastest ``fold_for_target`` whose FINN estimate fits ``board``: bisection on the target (log
    scale) between 1 img/s and ``fps_cap``; the fully folded graph when nothing fits."""
    lo, hi, best = 1.0, fps_cap, None
    while hi > lo * 1.03:
        target = (lo * hi) ** 0.5
        folded = fold_for_target(copy.deepcopy(model), dataclasses.replace(cfg, target_fps=max(1, int(target))))
        if finn_cost(folded, board)["fits"]:
            best, lo = folded, target
        else:
            hi = target
    return best if best is not None else fold_for_target(model, dataclasses.replace(cfg, target_fps=1))
