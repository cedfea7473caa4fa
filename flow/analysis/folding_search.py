"""Folding search on the cycle model of OUR RTL: ``--target-fps N`` as measured, or ``--target-fps max``.

FINN's SetFolding balances FINN's own cycle estimates of its HLS layers; our RTL differs (a fused
max-pool, bnn_mvau without SetFolding's 36-bit weight-width cap, data-width converters and FIFOs on
every edge), so its folding can miss the target in RTL simulation. This search evaluates a folding
on the graph the backend will emit (its ``lower``, e.g. ``rtl_graph``: DWCs, FIFOs, fused pools) with the cycle model
of every block (flow/analysis/cycles.py) and the resource model (flow/analysis/cost.py).

Greedy bottleneck relief, the loop SetFolding also runs but on our blocks:
1. every MVAU starts at the cheapest (PE, SIMD) whose own cycles meet the target (PE * SIMD minimal);
2. while the slowest block of the RTL graph misses the target, raise the parallelism of the folded
   node that owns it by one step (a data-width converter or FIFO is owned by the side of the stream
   with more beats; a fused max-pool by its Pool, whose sliding window follows its PE);
3. stop when the target is met, or when the owner cannot be unfolded further (the result names it).

``target_fps=None`` ("max"): the fastest folding whose resource model fits the board (LUT and
BRAM36 within ``BUDGET_FRACTION`` of the part): a bisection on the target over steps 1-3. Each step
of the greedy loop is the cheapest relief of the current bottleneck, so the designs on its path
are those with the best img/s per LUT the model can see; "max" takes the fastest that fits.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.analysis.cost import design_cost, set_weight_ram_styles
from flow.analysis.cycles import network_cycles
from flow.analysis.folding_rules import equalize_join_folding, folding_of
from flow.core.boards import Board
from flow.core.hw_graph import generic_op_type, stream_shape

# generic op -> (input-side attribute, output-side attribute, attribute bounding both)
FOLD_ATTRS = {
    "MVAU": ("SIMD", "PE", None),
    "ConvolutionInputGenerator": ("SIMD", "SIMD", "IFMChannels"),
    "Pool": ("PE", "PE", "Channels"),
    "Thresholding": ("PE", "PE", "NumChannels"),
    "FMPadding": ("SIMD", "SIMD", "NumChannels"),
    "DuplicateStreams": ("PE", "PE", "NumChannels"),
    "GlobalAccPool": ("PE", "PE", "NumChannels"),
    "StreamingMaxPool": ("PE", "PE", "NumChannels"),
    "ShiftbnnPool": ("PE", "PE", "Channels"),
    "ShiftbnnPosThreshold": ("PE", "PE", "NumChannels"),
}
PLUMBING = ("StreamingFIFO", "StreamingDataWidthConverter")
MAX_STEPS = 2000
# The backend's lowering: folded graph, FPGA part -> the graph it emits (data-width converters, FIFOs,
# fused blocks), on which the cycle and resource models run (flow/rtl_backend/graph.py ``rtl_graph``).
Lower = Callable[[ModelWrapper, str], ModelWrapper]


@dataclass
class SearchResult:
    target_fps: float | None  # None: "max"
    fps: float  # modelled img/s of the result at the board clock
    cycles: int
    bottleneck: str  # the slowest block of the RTL graph
    reached: bool
    limit: str | None  # why the target was not reached (the node that cannot be unfolded further)
    cost: dict = field(default_factory=dict)
    folding: dict = field(default_factory=dict)
    steps: int = 0

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def fold_bound(inst, kind: str, attr: str) -> int:
    """The largest value folding attribute ``attr`` (PE or SIMD) of a ``kind`` node can take."""
    if kind == "MVAU":
        return inst.get_nodeattr("MW" if attr == "SIMD" else "MH")
    name = FOLD_ATTRS[kind][2]
    size = inst.get_nodeattr(name)
    return int(size if isinstance(size, int) else max(size))


def _pool_window(model: ModelWrapper, pool):
    """The sliding-window generator feeding a Pool (its SIMD must equal the Pool's PE)."""
    producer = model.find_producer(pool.input[0])
    ok = producer is not None and generic_op_type(producer.op_type) == "ConvolutionInputGenerator"
    return producer if ok else None


def _set(model: ModelWrapper, node, attr: str, value: int) -> None:
    getCustomOp(node).set_nodeattr(attr, value)
    if generic_op_type(node.op_type) == "Pool":
        window = _pool_window(model, node)
        if window is not None:
            getCustomOp(window).set_nodeattr("SIMD", value)


def raise_parallelism(model: ModelWrapper, node, side: str) -> bool:
    """One step more parallelism on ``side`` ("in" or "out") of ``node``; False at the limit.
    An MVAU that cannot grow on the asked side grows on the other (its cycles fall either way)."""
    kind = generic_op_type(node.op_type)
    if kind not in FOLD_ATTRS:
        return False
    inst = getCustomOp(node)
    attrs = FOLD_ATTRS[kind][:2]
    order = ([attrs[0], attrs[1]] if side == "in" else [attrs[1], attrs[0]]) if kind == "MVAU" else [attrs[0]]
    for attr in order:
        current = inst.get_nodeattr(attr)
        bigger = [d for d in _divisors(fold_bound(inst, kind, attr)) if d > current]
        if bigger:
            _set(model, node, attr, bigger[0])
            return True
    return False


def _start(model: ModelWrapper, target_cycles: float) -> None:
    """Step 1: each MVAU at the cheapest (PE, SIMD) whose own cycles meet the target (fewest PE * SIMD,
    then the widest SIMD); every other folded node at the parallelism of the stream it reads where
    that divides its channels (no width converter in front of it), else fully folded; a sliding
    window that feeds an MVAU fully folded. Step 2 raises what is then too slow."""
    for node in model.graph.node:
        if generic_op_type(node.op_type) == "MVAU":
            _cheapest_mvau(getCustomOp(node), target_cycles)
    equalize_join_folding(model)
    for node in model.graph.node:
        kind = generic_op_type(node.op_type)
        if kind not in FOLD_ATTRS or kind == "MVAU":
            continue
        if kind == "ConvolutionInputGenerator":  # an MVAU's window starts at 1; a pool's follows its Pool
            if _feeds_mvau(model, node):
                getCustomOp(node).set_nodeattr("SIMD", 1)
            continue
        window = _pool_window(model, node) if kind == "Pool" else None
        producer = model.find_producer((window or node).input[0])
        width = getCustomOp(producer).get_folded_output_shape()[-1] if producer is not None else 1
        bound = fold_bound(getCustomOp(node), kind, FOLD_ATTRS[kind][0])
        _set(model, node, FOLD_ATTRS[kind][0], max(d for d in _divisors(bound) if width % d == 0))
    equalize_join_folding(model)


def _feeds_mvau(model: ModelWrapper, node) -> bool:
    consumers = model.find_consumers(node.output[0]) or []
    return any(generic_op_type(c.op_type) == "MVAU" for c in consumers)


def _cheapest_mvau(inst, target_cycles: float) -> None:
    mw, mh = inst.get_nodeattr("MW"), inst.get_nodeattr("MH")
    vectors = math.prod(inst.get_nodeattr("numInputVectors"))
    pairs = [(p * s, -s, p, s) for p in _divisors(mh) for s in _divisors(mw)]
    fitting = [c for c in pairs if vectors * (mw // c[3]) * (mh // c[2]) <= target_cycles]
    _, _, pe, simd = min(fitting) if fitting else max(pairs)
    inst.set_nodeattr("PE", pe)
    inst.set_nodeattr("SIMD", simd)


def _owner(rtl, folded: dict, node) -> tuple[object | None, str]:
    """The folded node (and its stream side) that sets the cycles of RTL-graph node ``node``."""
    if not node.op_type.startswith(PLUMBING):
        return folded.get(node.output[0]), "out"
    up, down = node, node
    while up is not None and up.op_type.startswith(PLUMBING):
        up = rtl.find_producer(up.input[0])
    while down is not None and down.op_type.startswith(PLUMBING):
        consumers = rtl.find_consumers(down.output[0]) or []
        down = consumers[0] if consumers else None
    up_beats, down_beats = _beats(rtl, up, out=True), _beats(rtl, down, out=False)
    if down is None or (up is not None and up_beats >= down_beats):
        return folded.get(up.output[0]) if up is not None else None, "out"
    return folded.get(down.output[0]), "in"


def _beats(rtl, node, out: bool) -> int:
    return -1 if node is None else stream_shape(rtl, node, output=out)[0]


def _evaluate(model: ModelWrapper, board: Board, lower: Lower):
    rtl = lower(model, board.part)
    return rtl, network_cycles(rtl)


def relieve(model: ModelWrapper, board: Board, target_cycles: float, lower: Lower) -> tuple[object, int, str | None]:
    """Steps 2-3: raise the bottleneck's owner until the RTL graph meets ``target_cycles``.
    Returns (cycle report, steps, limit message or None)."""
    for step in range(MAX_STEPS):
        rtl, report = _evaluate(model, board, lower)
        if report.cycles <= target_cycles:
            return report, step, None
        folded = {n.output[0]: n for n in model.graph.node}
        bottleneck = rtl.get_node_from_name(report.bottleneck)
        owner, side = _owner(rtl, folded, bottleneck)
        if owner is None or not raise_parallelism(model, owner, side):
            name = owner.name if owner is not None else report.bottleneck
            why = f"{report.bottleneck} ({report.cycles} cycles/frame) is set by {name}, which cannot unfold further"
            return report, step, why
        equalize_join_folding(model)
    return report, MAX_STEPS, f"no folding found in {MAX_STEPS} steps"


def search_target(model: ModelWrapper, board: Board, target_fps: float, lower: Lower) -> SearchResult:
    """Steps 1-3 for ``target_fps`` at the board clock; ``model`` is changed in place."""
    target_cycles = board.clock_mhz * 1e6 / target_fps
    _start(model, target_cycles)
    report, steps, limit = relieve(model, board, target_cycles, lower)
    set_weight_ram_styles(model)
    cost = design_cost(lower(model, board.part), board)
    fps = board.clock_mhz * 1e6 / report.cycles
    return SearchResult(
        target_fps, fps, report.cycles, report.bottleneck, limit is None, limit, cost, folding_of(model), steps
    )


def search_max(model: ModelWrapper, board: Board, lower: Lower, rounds: int = 12) -> SearchResult:
    """The fastest folding whose resource model fits ``board``: bisection (on a log scale) on the
    target img/s over ``search_target``; ``model`` gets the best folding found."""
    lo, hi = 1.0, board.clock_mhz * 1e6  # img/s: a fully folded design fits, one frame per cycle cannot
    best, best_model = None, None
    for _ in range(rounds):
        trial = copy.deepcopy(model)
        result = search_target(trial, board, math.sqrt(lo * hi), lower)
        if not result.cost["fits"]:
            hi = math.sqrt(lo * hi)
            continue
        if best is None or result.fps > best.fps:
            best, best_model = result, trial
        if not result.reached:  # a node that cannot unfold further: no faster folding exists
            break
        lo = max(lo, result.fps)
    if best is None:  # not even the fully folded design fits: report it as it is
        best_model = copy.deepcopy(model)
        best = search_target(best_model, board, 1.0, lower)
    _copy_folding(best_model, model)
    best.target_fps = None
    best.reached = bool(best.cost["fits"])
    return best


def _copy_folding(source: ModelWrapper, target: ModelWrapper) -> None:
    for node in source.graph.node:
        inst, dest = getCustomOp(node), getCustomOp(target.get_node_from_name(node.name))
        for attr in ("PE", "SIMD", "ram_style"):
            if attr in inst.get_nodeattr_types():
                dest.set_nodeattr(attr, inst.get_nodeattr(attr))
