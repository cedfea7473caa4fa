"""Does the modelled design fit the board? Checked right after folding, before any RTL is generated, so
that a design too big for the part fails in seconds with the numbers and the largest target that fits.

``require_fit(cost, board, largest, allow)``: nothing when ``cost`` fits; else a ``BuildError`` whose one
line names each resource over budget (modelled need with the model's margin, the budget, the part's
total) and ``largest`` (the fastest folding that fits, or that none does); with ``allow``
(``--allow-oversize``) the same line comes back as a warning and the build goes on.
"""

from __future__ import annotations

from flow.analysis.cost import BOARD_FIELD, BUDGET_FRACTION
from flow.core.errors import BuildError

NAMES = {"lut": "LUT", "bram36": "BRAM36", "uram": "URAM", "dsp": "DSP"}


def over_text(cost: dict, board) -> str:
    """``LUT 67,357 > 47,880 (90 % of 53,200)`` for every resource over budget (need includes the margin)."""
    parts = []
    for resource, v in cost["over_budget"].items():
        total = getattr(board, BOARD_FIELD[resource])
        margin = cost["margin"].get(resource, 0.0)
        modelled = f"{cost[resource]:,g}" + (f" x {1 + margin:.2f} margin = {v['need']:,g}" if margin else "")
        parts.append(f"{NAMES[resource]} {modelled} > {v['budget']:,g} ({BUDGET_FRACTION:.0%} of the part's {total:,})")
    return "; ".join(parts)


def largest_text(largest, board) -> str:
    """What fits instead: the fastest folding's target, or that nothing does."""
    if largest is None:
        return ""
    if not largest.cost["fits"]:
        return f"; no folding fits: even the most folded design needs {over_text(largest.cost, board)}"
    return (
        f"; the largest target that fits is --target-fps {largest.fps:,.0f} (modelled {largest.cost['lut']:,} LUT, "
        f"{largest.cost['bram36']:g} BRAM36, {largest.cost['dsp']} DSP)"
    )


def require_fit(cost: dict, board, largest=None, allow: bool = False, what: str = "the design") -> str | None:
    """Raise (or, with ``allow``, return) the one-line oversize message; None when ``cost`` fits."""
    if cost["fits"]:
        return None
    message = (
        f"{what} does not fit the {board.name} ({board.part}) by the resource model: "
        f"{over_text(cost, board)}{largest_text(largest, board)}"
    )
    if allow:
        return message
    raise BuildError(message + " (--allow-oversize builds it anyway)")
