"""Folding search on the cycle and resource models of OUR RTL: ``--target-fps N``, ``max`` and the default.

FINN's SetFolding balances FINN's own cycle estimates of its HLS layers; our RTL differs (a fused
max-pool, bnn_mvau without SetFolding's 36-bit weight-width cap, data-width converters and FIFOs on
every edge), so its folding can miss the target in RTL simulation. This search evaluates a folding on
the graph the backend will emit (its ``lower``, e.g. ``rtl_graph``: DWCs, FIFOs, fused pools) with the
cycle model of every block (flow/analysis/cycles.py) and the resource model (flow/analysis/cost.py).

The knobs, each a FINN node attribute the RTL backend honours: MVAU PE and SIMD; the sliding window's
SIMD and then ``parallel_window`` (a whole K x K window per cycle: one input pixel per cycle instead of
one channel group per window tap); a max pool's PE (its window follows); PE/SIMD of the stream blocks;
each MVAU's weight memory (LUTs, block RAM, or URAM loaded at run time: weight_memory.py). FIFOs and
width converters are costed and timed on the lowered graph (a converter's cycles are often what a
folding misses). The moves on one node (steps 1 and 2 below) are flow/analysis/folding_steps.py's.

``search_target`` (``--target-fps N``), greedy bottleneck relief as SetFolding runs it, on our blocks:
1. every MVAU at the cheapest (PE, SIMD) whose own cycles meet the target (PE * SIMD minimal, then the
   widest SIMD), every sliding window in front of one at its cheapest setting that meets the target and
   divides (or is divided by) the MVAU's SIMD, then the PE a join shares (folding_rules.py) with the
   least SIMD that meets the target at that PE, the other blocks at the least parallelism dividing
   their input's lanes that meets the target;
2. while the slowest block of the lowered graph misses the target, one step more parallelism for the
   folded node that owns it (a width converter or FIFO is owned by the side of the stream with more
   beats; a fused max pool by its Pool, whose window follows its PE);
3. stop at the target, or when the owner cannot unfold further (the result names it); then the weight
   memories (weight_memory.py) and the resource model of the result.
Each step relieves the current bottleneck at its cheapest, so the designs on the path are those with
the best img/s per LUT the model can see.

``search_max`` (``max``, and the default with a cap): the fastest target whose result fits the board,
a bisection on a log scale over ``search_target`` between the fully folded design and ``fps_cap``
(default: one frame per clock cycle) to within ``PRECISION``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.analysis.cost import budget, design_blocks, margins, mvau_block, summarize
from flow.analysis.cycles import network_cycles
from flow.analysis.folding_rules import equalize_join_folding, folding_of
from flow.analysis.folding_steps import raise_parallelism, start_folding
from flow.analysis.weight_memory import assign_weight_memories, set_weight_memory
from flow.core.boards import Board
from flow.core.hw_graph import generic_op_type, stream_shape

# what a folding sets on a node (an MVAU's weight memory: its style, and whether it loads at run time)
FOLDING_ATTRS = ("PE", "SIMD", "ram_style", "runtime_writeable_weights", "parallel_window")
PLUMBING = ("StreamingFIFO", "StreamingDataWidthConverter")
MAX_STEPS = 2000
PRECISION = 1.03  # search_max stops when the fastest fitting and the slowest failing target are this close
# The backend's lowering: folded graph, FPGA part -> the graph it emits (data-width converters, FIFOs,
# fused blocks), on which the cycle and resource models run (flow/rtl_backend/graph.py ``rtl_graph``).
Lower = Callable[[ModelWrapper, str], ModelWrapper]


@dataclass
class SearchResult:
    target_fps: float | None  # None: the fastest that fits ("max")
    fps: float  # modelled img/s of the result at the board clock
    cycles: int
    bottleneck: str  # the slowest block of the RTL graph
    reached: bool
    limit: str | None  # why the target was not reached (the node that cannot be unfolded further)
    cost: dict = field(default_factory=dict)
    folding: dict = field(default_factory=dict)
    steps: int = 0
    fps_cap: float | None = None  # search_max's upper bound (the input interface's rate for the default)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


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


def folding_key(model: ModelWrapper) -> tuple:
    """The folding of ``model`` as a hashable value (two graphs with the same key lower alike)."""
    return tuple((name, tuple(sorted(f.items()))) for name, f in folding_of(model).items())


def lowered(model: ModelWrapper, board: Board, lower: Lower, memo: dict | None):
    """(lowered graph, cycle report) of ``model``'s folding, from ``memo`` when it was lowered before
    (search_max's targets often land on the same folding)."""
    key = folding_key(model) if memo is not None else None
    if key is None or key not in memo:
        rtl = lower(model, board.part)
        result = (rtl, network_cycles(rtl))
        if key is None:
            return result
        memo[key] = result
    return memo[key]


def relieve(model: ModelWrapper, board: Board, target_cycles: float, lower: Lower, memo: dict | None = None):
    """Steps 2-3: raise the bottleneck's owner until the RTL graph meets ``target_cycles``.
    Returns (lowered graph, cycle report, steps, limit message or None)."""
    for step in range(MAX_STEPS):
        rtl, report = lowered(model, board, lower, memo)
        if report.cycles <= target_cycles:
            return rtl, report, step, None
        folded = {n.output[0]: n for n in model.graph.node}
        owner, side = _owner(rtl, folded, rtl.get_node_from_name(report.bottleneck))
        if owner is None or not raise_parallelism(model, owner, side):
            name = owner.name if owner is not None else report.bottleneck
            why = f"{report.bottleneck} ({report.cycles} cycles/frame) is set by {name}, which cannot unfold further"
            return rtl, report, step, why
        equalize_join_folding(model)
    return rtl, report, MAX_STEPS, f"no folding found in {MAX_STEPS} steps"


def place_memories(model: ModelWrapper, rtl: ModelWrapper, board: Board) -> dict:
    """Weight memories for the whole design (weight_memory.py), then the resource model of ``rtl``
    (the lowered graph of ``model``'s PE/SIMD) with those memories."""
    blocks = design_blocks(rtl, board.part)
    mvaus = {n.name for n in model.graph.node if generic_op_type(n.op_type) == "MVAU"}
    other = {r: sum(getattr(b, r) for name, b in blocks.items() if name not in mvaus) for r in ("bram36", "uram")}
    memories = assign_weight_memories(model, other, board)
    for node in rtl.graph.node:
        if node.name in memories:
            set_weight_memory(getCustomOp(node), *memories[node.name])
            blocks[node.name] = mvau_block(rtl, node)
    return summarize(blocks, board)


def search_target(
    model: ModelWrapper, board: Board, target_fps: float, lower: Lower, memo: dict | None = None
) -> SearchResult:
    """Steps 1-3 for ``target_fps`` at the board clock; ``model`` is changed in place. ``memo``: lowered
    graphs by folding, shared between the calls of one search."""
    target_cycles = board.clock_mhz * 1e6 / target_fps
    start_folding(model, target_cycles)
    rtl, report, steps, limit = relieve(model, board, target_cycles, lower, memo)
    cost = place_memories(model, rtl, board)
    fps = board.clock_mhz * 1e6 / report.cycles
    return SearchResult(
        target_fps, fps, report.cycles, report.bottleneck, limit is None, limit, cost, folding_of(model), steps
    )


def search_max(model: ModelWrapper, board: Board, lower: Lower, fps_cap: float | None = None) -> SearchResult:
    """The fastest folding whose resource model fits ``board`` and whose img/s is at most ``fps_cap``:
    bisection (on a log scale) on the target over ``search_target``; ``model`` gets that folding. When
    not even the fully folded design fits, ``model`` gets that one and the result says it does not fit."""
    memo: dict = {}
    best_model = copy.deepcopy(model)
    best = search_target(best_model, board, 1.0, lower, memo)  # fully folded (or as folded as the graph allows)
    cap = min(fps_cap or math.inf, board.clock_mhz * 1e6, resource_bound_fps(model, board))
    lo, hi = best.fps, cap  # lo: a target known to fit; hi: one known not to (or the cap)
    while best.cost["fits"] and hi > lo * PRECISION:
        target = math.sqrt(lo * hi)
        trial_model = copy.deepcopy(model)
        trial = search_target(trial_model, board, target, lower, memo)
        if not trial.cost["fits"] or (fps_cap is not None and trial.fps > fps_cap):
            hi = target
            continue
        if trial.fps > best.fps:
            best, best_model = trial, trial_model
        if not trial.reached:  # a node that cannot unfold further: no target gives more
            break
        lo = max(lo, target)
    copy_folding(best_model, model)
    best.target_fps, best.fps_cap = None, fps_cap
    best.reached = bool(best.cost["fits"])
    return best


def resource_bound_fps(model: ModelWrapper, board: Board) -> float:
    """An upper bound on the img/s of any folding that fits: per img/s the MVAUs alone need at least
    ``MW * MH * vectors / clock`` units of PE * SIMD each, at their LUT (and DSP) per unit (the
    PE * SIMD term of the model; every other term is >= 0), within the LUT (and DSP) budget."""
    need = {"lut": 0.0, "dsp": 0.0}
    for node in model.graph.node:
        if generic_op_type(node.op_type) == "MVAU":
            inst = getCustomOp(node)
            work = inst.get_nodeattr("MW") * inst.get_nodeattr("MH") * math.prod(inst.get_nodeattr("numInputVectors"))
            for resource, per_unit in mvau_block(model, node).per_parallelism().items():
                need[resource] += per_unit * work / (board.clock_mhz * 1e6)
    limit, margin = budget(board), margins()
    bounds = [limit[r] / (1 + margin[r]) / need[r] for r in need if need[r] > 0]
    return min(bounds, default=math.inf)


def copy_folding(source: ModelWrapper, target: ModelWrapper) -> None:
    """The folding attributes of every node of ``source`` onto the same-named nodes of ``target``."""
    for node in source.graph.node:
        inst, dest = getCustomOp(node), getCustomOp(target.get_node_from_name(node.name))
        for attr in FOLDING_ATTRS:
            if attr in inst.get_nodeattr_types():
                dest.set_nodeattr(attr, inst.get_nodeattr(attr))


def input_fps_cap(model: ModelWrapper, board: Board) -> float:
    """img/s at which the DMA port delivers the accelerator's input: ``board.dma_bits`` per clock cycle."""
    name = model.graph.input[0].name
    bits = math.prod(model.get_tensor_shape(name)[1:]) * model.get_tensor_datatype(name).bitwidth()
    return board.clock_mhz * 1e6 / math.ceil(bits / board.dma_bits)
