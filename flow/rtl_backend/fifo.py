"""FIFO depths from simulation, so that no stage stalls the pipeline at steady state.

1. Build the top with deep FIFOs (every inner FIFO holds a whole frame of its stream, capped) and
   the occupancy monitor (each FINN FIFO's ``maxcount``).
2. Free-running run: the initiation interval II of the deep design is the best the layers allow.
3. Run again with image starts paced at that II: the FIFOs then only absorb the burstiness inside a
   frame (e.g. an MVAU that reads its input only during its first neuron fold), and each FIFO's
   ``maxcount`` + 1 is its depth. The graph's input and output FIFOs stay at FINN's shallow 2 (the
   source and sink set their rate).
The caller rebuilds with the chosen depths and reports the II it reaches next to the deep II.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper

from flow.rtl_backend.emit import generate_rtl, set_fifo_depths
from flow.rtl_backend.graph import stream_shape
from flow.rtl_backend.sim import build_sim, run_sim

DEEP_CAP = 4096  # beats; deeper than any intra-frame imbalance of the supported layers
SHALLOW = 2


def deep_depths(model: ModelWrapper) -> dict[str, int]:
    nodes = list(model.graph.node)
    depths = {}
    for i, node in enumerate(nodes):
        if not node.op_type.startswith("StreamingFIFO"):
            continue
        if i in (0, len(nodes) - 1):
            depths[node.name] = SHALLOW
        else:
            beats, _ = stream_shape(model, node, output=False)
            depths[node.name] = max(SHALLOW, min(beats + 2, DEEP_CAP))
    return depths


def size_fifos(model: ModelWrapper, work: Path, part: str, clock_mhz: float, in_shape_nhwc, inputs) -> dict:
    """Set sized depths on ``model``'s FIFO nodes; returns the sizing report."""
    deep = deep_depths(model)
    set_fifo_depths(model, deep)
    rtl_dir, sim_dir = work / "rtl", work / "rtlsim"
    top = generate_rtl(model, rtl_dir, part, clock_mhz, in_shape_nhwc)
    exe = build_sim(rtl_dir, sim_dir, top, monitor=True)
    free = run_sim(exe, rtl_dir, top, inputs, work / "free")
    ii = free.stats["cycles_per_frame"]
    paced = run_sim(exe, rtl_dir, top, inputs, work / "paced", in_interval=math.ceil(ii))
    sized = {}
    for name, depth in deep.items():
        if depth == SHALLOW:
            sized[name] = SHALLOW
        else:
            sized[name] = max(SHALLOW, paced.fifo_maxcount.get(name, depth) + 1)
    set_fifo_depths(model, sized)
    return {
        "method": "simulation (deep FIFOs, inputs paced at the deep design's interval, maxcount + 1)",
        "images": int(len(inputs)),
        "deep_cycles_per_frame": ii,
        "depths": sized,
        "total_bits": int(
            np.sum([sized[n.name] * stream_shape(model, n, False)[1] for n in model.graph.node if n.name in sized])
        ),
    }
