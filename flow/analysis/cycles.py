"""Cycle model of the generated RTL: cycles per frame of every block, from its RTL and FINN's folded shapes.

In a streaming pipeline with sized FIFOs every block works on a different frame, so the steady-state
interval is the slowest block's cycles per frame (``network_cycles``). Per block (``block_cycles``):

- ``bnn_mvau`` (MVAU_hls): one SIMD x PE tile per cycle (bnn_mvau.sv "Throughput"), so
  ``vectors * (MW / SIMD) * (MH / PE)``; the input vector is read during the first neuron fold.
- FINN's sliding-window generator (ConvolutionInputGenerator_rtl) and padding (FMPadding_rtl): FINN's
  own ``get_exp_cycles``, which models the finn-rtllib RTL we instantiate (FINN calibrated it
  against simulation). The "default" window style does not read while it emits a row of windows
  whose output (``OFM_w * K^2 * C / SIMD`` beats) is longer than its input row
  (``stride * IFM_w * C / SIMD``): the larger of the two per output row, plus the buffer fill. Part
  of that fill overlaps the previous frame in a pipeline, so this is an upper bound (measured: exact
  on CNV-W1A1's windows, 1.5 % above on a 10x10x8 window).
- a 1 x 1 window is hw/rtl/stream_subsample.sv (not FINN's generator): one input beat per cycle, kept
  or dropped, so its input beats ``H * W * C / SIMD``.
- ``bnn_pool`` (ShiftbnnPool): one position of the padded grid per cycle and channel fold, the
  op's ``get_exp_cycles`` (``Rows * Cols * C / PE``, bnn_pool.sv).
- ``bnn_labelselect``: one value per cycle, ``Labels``.
- the data-width converter (hw/rtl/stream_dwc.sv, IBITS-bit input and OBITS-bit output beats): its
  lane buffer holds ``PI + PO + min(PI, PO) - 1`` lanes of ``gcd(IBITS, OBITS)`` bits, enough that with
  registered ready/valid the faster side never waits for it (stream_dwc.sv derives the bound), so a
  frame takes ``max(in_beats, out_beats)`` cycles (finn-rtllib's vpc, which it replaces, moved an input
  and an output beat in one cycle only once per ``lcm(IBITS, OBITS)`` bits: ``in + out - frame/lcm``).
- FIFOs, stream_dup/add/requant, thresholding, global pool: one beat per cycle, ``max(in, out beats)``.

The model is checked against whole-network RTL simulation in tests/test_compile_any.py (and the
benchmarks: bench/rtl_backend.py, bench/compile_any.py record the modelled and the simulated cycles).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.core.hw_graph import generic_op_type, is_subsample_window, stream_shape

# generic op types whose get_exp_cycles models the RTL the backend instantiates: FINN's for finn-rtllib,
# ours (flow/core/ops) for our blocks
FINN_MODELLED = {"ConvolutionInputGenerator", "FMPadding", "ShiftbnnPool"}


def _beats(model: ModelWrapper, node) -> int:
    """The larger of the node's input and output beats per frame (one beat per cycle per stream)."""
    beats = [stream_shape(model, node, output=True, ind=k)[0] for k in range(len(node.output))]
    streams = [t for t in node.input if t and model.get_initializer(t) is None]
    beats += [stream_shape(model, node, output=False, ind=k)[0] for k in range(len(streams))]
    return max(beats)


def dwc_cycles(src: tuple[int, int], dst: tuple[int, int]) -> int:
    """Cycles per frame of the width converter between (beats, bits) ``src`` and ``dst`` (docstring)."""
    (in_beats, in_bits), (out_beats, out_bits) = src, dst
    if in_beats * in_bits != out_beats * out_bits:
        raise ValueError(f"a converter frame of {in_beats} x {in_bits} bits in, {out_beats} x {out_bits} bits out")
    return max(in_beats, out_beats)


def block_cycles(model: ModelWrapper, node) -> int:
    """Cycles per frame of one block of the RTL graph (module docstring)."""
    if not node.domain.startswith("finn"):
        return _beats(model, node)
    kind = generic_op_type(node.op_type)
    inst = getCustomOp(node)
    if kind == "StreamingDataWidthConverter":
        return dwc_cycles(stream_shape(model, node, False), stream_shape(model, node, True))
    if kind == "MVAU":
        g = inst.get_nodeattr
        return int(np.prod(g("numInputVectors"))) * (g("MW") // g("SIMD")) * (g("MH") // g("PE"))
    if is_subsample_window(node):
        return _beats(model, node)
    if kind in FINN_MODELLED:
        return int(inst.get_exp_cycles())
    if kind == "LabelSelect":
        return int(inst.get_nodeattr("Labels"))
    return _beats(model, node)


@dataclass
class CycleReport:
    cycles: int  # the pipeline's interval: the slowest block's cycles per frame
    bottleneck: str  # that block's node name
    per_node: dict[str, int]


def network_cycles(rtl_model: ModelWrapper) -> CycleReport:
    """Interval of the whole RTL graph (``rtl_graph`` output) and its slowest block."""
    per_node = {n.name: block_cycles(rtl_model, n) for n in rtl_model.graph.node}
    worst = max(per_node, key=per_node.get)
    return CycleReport(per_node[worst], worst, per_node)
