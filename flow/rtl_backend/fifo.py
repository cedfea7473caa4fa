"""FIFO depths from simulation, so that no stage stalls the pipeline at steady state.

One Verilator build of the top with deep FIFOs (every inner FIFO holds a whole frame of its stream,
capped at DEEP_CAP beats except on a shortcut, see below) and the occupancy monitor: each FIFO reports
its ``maxcount`` and accepts a run-time occupancy limit (``+fifo_limit_<node>=N``), so every trial
below is a run, not a rebuild.
1. Free run: the interval II of the deep design is the best the layers allow (the target).
2. Run with image starts paced at II: ``maxcount`` + 1 of each FIFO is an upper bound on its need
   (a faster producer in front of a slower layer fills its FIFO without gaining throughput).
3. Shrink: for each FIFO, largest first, try limits 2, 4, 8, ... below that bound with the others at
   their current limits, and keep the first that still reaches II (within 0.2 %) without deadlock.
The graph's input and output FIFOs stay at FINN's shallow 2 (the source and sink set their rate).
The caller rebuilds with the chosen depths and reports the II the sized design reaches.

Fork/join (residual blocks): the shortcut FIFO must hold every beat the fork sends down the shortcut
while the other branch fills its sliding-window rows and pipelines before the join's first beat;
shallower, the fork stalls, the join starves and the design deadlocks. So the FIFOs on a shortcut
(a DuplicateStreams output to its add through FIFOs and data-width converters only) get a whole frame
of their stream, uncapped: a frame is the most the fork can send ahead, so the deep design cannot
deadlock on a join. The paced run measures the need, and a shrink trial that deadlocks (no beat moves
for ``timeout`` cycles, SimDeadlock) is simply rejected; its timeout allows twice the deep design's
latency plus four intervals, so a healthy trial of a deep pipeline is not mistaken for a deadlock.
"""

from __future__ import annotations

import math
from pathlib import Path

from qonnx.core.modelwrapper import ModelWrapper

from flow.compiler import progress
from flow.rtl_backend.emit import generate_rtl, set_fifo_depths
from flow.rtl_backend.graph import ADD_OP, stream_shape
from flow.rtl_backend.sim import SimDeadlock, build_sim, run_sim

DEEP_CAP = 4096  # beats; deeper than any intra-frame imbalance of the supported layers off a shortcut
SHALLOW = 2
TOLERANCE = 1.002


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


def size_fifos(model: ModelWrapper, work: Path, part: str, clock_mhz: float, in_shape_nhwc, inputs) -> dict:
    """Set sized depths on ``model``'s FIFO nodes; returns the sizing report."""
    deep = deep_depths(model)
    set_fifo_depths(model, deep)
    rtl_dir, sim_dir = work / "rtl", work / "rtlsim"
    top = generate_rtl(model, rtl_dir, part, clock_mhz, in_shape_nhwc)
    exe = build_sim(rtl_dir, sim_dir, top, monitor=True)
    runs = 0

    timeout = 1_000_000

    def interval(limits: dict[str, int], pace: int = 0):
        nonlocal runs
        runs += 1
        plus = [f"+fifo_limit_{k}={v}" for k, v in limits.items()]
        return run_sim(
            exe, rtl_dir, top, inputs, work / "trial", in_interval=pace, plusargs=plus, timeout_cycles=timeout
        )

    deadlocks = 0

    def reaches(limits: dict[str, int], ii: float) -> bool:
        nonlocal deadlocks
        try:
            return interval(limits).stats["cycles_per_frame"] <= ii * TOLERANCE
        except SimDeadlock:
            deadlocks += 1
            return False

    free = interval({}).stats
    ii = free["cycles_per_frame"]
    # a trial that moves no beat for this long has deadlocked: a frame takes ii cycles, and the first
    # output beat comes latency cycles after the first input beat
    timeout = max(20_000, 2 * int(free["latency_cycles"]) + 4 * math.ceil(ii))
    paced = interval({}, pace=math.ceil(ii))
    limits = {
        name: SHALLOW if depth == SHALLOW else max(SHALLOW, paced.fifo_maxcount.get(name, depth) + 1)
        for name, depth in deep.items()
    }
    bound = dict(limits)
    for name in progress.iterate(sorted(limits, key=limits.get, reverse=True), "FIFO sizing", "FIFOs"):
        cand = SHALLOW
        while cand < bound[name]:
            if reaches({**limits, name: cand}, ii):
                limits[name] = cand
                break
            cand *= 2
    set_fifo_depths(model, limits)
    widths = {n.name: stream_shape(model, n, False)[1] for n in model.graph.node if n.name in limits}
    return {
        "method": "simulation: deep FIFOs, paced maxcount + 1 as bound, then shrink while the interval holds",
        "images": int(len(inputs)),
        "deep_cycles_per_frame": ii,
        "runs": runs,
        "bound": bound,
        "depths": limits,
        "total_bits": int(sum(limits[k] * widths[k] for k in limits)),
        "deadlocked_trials": deadlocks,
    }
