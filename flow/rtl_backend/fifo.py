"""FIFO depths from simulation, so that no stage stalls the pipeline at steady state.

One Verilator build of the top with deep FIFOs (every inner FIFO holds a whole frame of its stream,
capped at DEEP_CAP beats except on a shortcut, see below) and the occupancy monitor: each FIFO reports
its ``maxcount`` and accepts a run-time occupancy limit (``+fifo_limit_<node>=N``), so every trial
below is a run, not a rebuild.
1. Free run: the interval II of the deep design is the best the layers allow (the target).
2. Run with image starts paced at II: ``maxcount`` + 1 of each FIFO is an upper bound on its need
   (a faster producer in front of a slower layer fills its FIFO without gaining throughput).
3. Shrink: for each FIFO off a shortcut, the most bits first, binary-search the smallest power of two
   below that bound that, with the others at their current limits, still reaches II (within 0.2 %)
   without deadlock (3-4 runs per FIFO). A time budget (``shrink_budget_s``) bounds this step for big
   networks: FIFOs not reached in time keep their bound (safe, only larger). So a network costs two
   sizing runs plus what the budget allows, whatever its number of FIFOs.
The graph's input and output FIFOs stay at FINN's shallow 2 (the source and sink set their rate).
The caller rebuilds with the chosen depths and reports the II the sized design reaches.

Fork/join (residual blocks): the shortcut FIFO must hold every beat the fork sends down the shortcut
while the other branch fills its sliding-window rows and pipelines before the join's first beat;
shallower, the fork stalls, the join starves and the design deadlocks. So the FIFOs on a shortcut
(a DuplicateStreams output to its add through FIFOs and data-width converters only) get a whole frame
of their stream, uncapped: a frame is the most the fork can send ahead, so the deep design cannot
deadlock on a join. The paced run measures the need, and the shortcut FIFOs keep that bound without
shrink trials: when the conv branch emits its first output beat of a frame, every beat the fork has sent
down the shortcut since is still waiting in the shortcut FIFO (the join needs both operands), so the
measured ``maxcount`` is at least the lead the data dependence needs (the sliding window's rows plus the
branch's pipeline); shrinking the branch's own FIFOs afterwards only lowers that lead. A shrink trial
that deadlocks (no beat moves for ``timeout`` cycles, SimDeadlock) is rejected; its timeout allows twice
the deep design's latency plus four intervals, so a healthy trial of a deep pipeline is not mistaken for
a deadlock.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from qonnx.core.modelwrapper import ModelWrapper

from flow.core import progress
from flow.core.hw_graph import ADD_OP, stream_shape
from flow.rtl_backend.emit import generate_rtl, set_fifo_depths
from flow.rtl_backend.sim import SimDeadlock, build_sim, run_sim

DEEP_CAP = 4096  # beats; deeper than any intra-frame imbalance of the supported layers off a shortcut
SHALLOW = 2
TOLERANCE = 1.002
SHRINK_BUDGET_S = 300.0  # wall time for shrink trials; FIFOs not reached keep their bound


def shortcut_fifos(model: ModelWrapper) -> set[str]:
    """Names of the FIFOs between a DuplicateStreams output and the add it feeds directly (through
    FIFOs and data-width converters only): the shortcut of a residual block."""
    names = set()
    for dup in model.graph.node:
        if not dup.op_type.startswith("DuplicateStreams"):
            continue
        for tensor in dup.output:
            path = []
            while True:
                consumers = model.find_consumers(tensor) or []
                if len(consumers) != 1:
                    break
                node = consumers[0]
                if node.op_type == ADD_OP:
                    names.update(n.name for n in path if n.op_type.startswith("StreamingFIFO"))
                    break
                if not node.op_type.startswith(("StreamingFIFO", "StreamingDataWidthConverter")):
                    break
                path.append(node)
                tensor = node.output[0]
    return names


def deep_depths(model: ModelWrapper) -> dict[str, int]:
    """Depths of the deep design: a frame of each FIFO's stream (+2), capped at DEEP_CAP except on a
    shortcut; the graph's input and output FIFOs stay SHALLOW."""
    ends = {model.graph.input[0].name, model.graph.output[0].name}
    shortcut = shortcut_fifos(model)
    depths = {}
    for node in model.graph.node:
        if not node.op_type.startswith("StreamingFIFO"):
            continue
        if node.input[0] in ends or node.output[0] in ends:
            depths[node.name] = SHALLOW
        else:
            beats, _ = stream_shape(model, node, output=False)
            cap = beats + 2 if node.name in shortcut else DEEP_CAP
            depths[node.name] = max(SHALLOW, min(beats + 2, cap))
    return depths


def size_fifos(
    model: ModelWrapper,
    work: Path,
    part: str,
    clock_mhz: float,
    in_shape_nhwc,
    inputs,
    shrink_budget_s: float = SHRINK_BUDGET_S,
) -> dict:
    """Set sized depths on ``model``'s FIFO nodes; returns the sizing report."""
    started = time.monotonic()
    deep = deep_depths(model)
    shortcut = shortcut_fifos(model)
    set_fifo_depths(model, deep)
    rtl_dir = work / "rtl"
    top = generate_rtl(model, rtl_dir, part, clock_mhz, in_shape_nhwc)
    trials = _Trials(build_sim(rtl_dir, work / "rtlsim", top, monitor=True), rtl_dir, top, inputs, work / "trial")
    free = trials.run({}).stats
    ii = free["cycles_per_frame"]
    # a trial that moves no beat for this long has deadlocked: a frame takes ii cycles, and the first
    # output beat comes latency cycles after the first input beat
    trials.timeout = max(20_000, 2 * int(free["latency_cycles"]) + 4 * math.ceil(ii))
    paced = trials.run({}, pace=math.ceil(ii))
    bound = {
        name: SHALLOW if depth == SHALLOW else max(SHALLOW, paced.fifo_maxcount.get(name, depth) + 1)
        for name, depth in deep.items()
    }
    widths = {n.name: stream_shape(model, n, False)[1] for n in model.graph.node if n.name in bound}
    limits = dict(bound)
    # Shortcut FIFOs keep their bound: it is at least the lead of the fork over the join (proof in the
    # module docstring), so they never deadlock. The others shrink, the most bits first, within the budget.
    order = sorted((n for n in bound if n not in shortcut and bound[n] > SHALLOW), key=lambda n: -bound[n] * widths[n])
    deadline, unsized = time.monotonic() + shrink_budget_s, []
    for name in progress.iterate(order, "FIFO sizing", "FIFOs"):
        if time.monotonic() > deadline:
            unsized.append(name)
            continue
        limits[name] = _smallest_power_of_two(lambda d, name=name: trials.reaches({**limits, name: d}, ii), bound[name])
    set_fifo_depths(model, limits)
    return {
        "method": "simulation: deep FIFOs, paced maxcount + 1 as bound (kept on shortcuts), then each other FIFO "
        "shrunk to the smallest power of two that keeps the interval (binary search, time budget)",
        "images": int(len(inputs)),
        "deep_cycles_per_frame": ii,
        "runs": trials.runs,
        "bound": bound,
        "depths": limits,
        "shortcut_fifos": sorted(shortcut),
        "kept_bound_by_budget": unsized,
        "total_bits": int(sum(limits[k] * widths[k] for k in limits)),
        "deadlocked_trials": trials.deadlocks,
        "seconds": round(time.monotonic() - started, 1),
    }


def _smallest_power_of_two(ok, bound: int) -> int:
    """The smallest depth 2^k < ``bound`` with ``ok(2^k)``, else ``bound``. ``ok`` is monotone in the depth
    (a deeper FIFO never lowers the throughput nor adds a deadlock), so a binary search suffices."""
    candidates = [2**k for k in range(1, 40) if 2**k < bound]
    lo, hi = 0, len(candidates)  # the answer's index; len(candidates) stands for ``bound``
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(candidates[mid]):
            hi = mid
        else:
            lo = mid + 1
    return candidates[lo] if lo < len(candidates) else bound


class _Trials:
    """Runs of the monitor build with per-FIFO occupancy limits; counts runs and deadlocks."""

    def __init__(self, exe: Path, rtl_dir: Path, top: dict, inputs, out: Path):
        self.exe, self.rtl_dir, self.top, self.inputs, self.out = exe, rtl_dir, top, inputs, out
        self.timeout, self.runs, self.deadlocks = 1_000_000, 0, 0

    def run(self, limits: dict[str, int], pace: int = 0):
        self.runs += 1
        plus = [f"+fifo_limit_{k}={v}" for k, v in limits.items()]
        return run_sim(
            self.exe, self.rtl_dir, self.top, self.inputs, self.out, in_interval=pace, plusargs=plus,
            timeout_cycles=self.timeout,
        )  # fmt: skip

    def reaches(self, limits: dict[str, int], ii: float) -> bool:
        try:
            return self.run(limits).stats["cycles_per_frame"] <= ii * TOLERANCE
        except SimDeadlock:
            self.deadlocks += 1
            return False
