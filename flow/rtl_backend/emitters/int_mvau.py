"""An MVAU with integer (non-binary) weights -> hw/rtl/int_mvau.sv; binary weights stay with bnn_mvau.

FINN specializes such a node to ``MVAU_rtl`` (its DSP-based MVU) when it has no activation, else keeps
``MVAU_hls``; ``split_thresholds.SplitMvauThresholds`` has already moved any activation into a
Thresholding_rtl, so the node outputs its accumulator. Weights go to ``<node>_w.dat``
(hw/golden/int_mvau.py); the accumulator width is int_mvau's default (``hw.golden.int_mvau.rtl_acc_bits``),
the same the graph's ``WidenAccumulatorStreams`` gives the stream.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.core.hw_graph import binary_weights, mvau_acc_bits, runtime_writeable
from flow.rtl_backend.emitters import mvau
from flow.rtl_backend.emitters.common import Edge, Instance, check_widths, hw_instance, io, wgt_ports
from flow.rtl_backend.graph import RtlGraphError
from hw.golden.int_mvau import write_weight_mem
from hw.sources import RTL_DEPENDENCIES, RTL_DIR

# FINN ram_style -> int_mvau RamStyle. yosys 0.70 cannot map a ROM (no write port) forced to LUTRAM, and
# URAM has no initial contents in a bitstream: both are left to the tool ("auto": LUT ROM or BRAM).
RAM_STYLE = {"block": "block", "distributed": "auto", "ultra": "auto", "auto": "auto"}


def emit_any_mvau(
    model: ModelWrapper, node, rtl_dir: Path, ins: list[Edge], outs: list[Edge], clk_ns: float = 10.0
) -> Instance:
    """bnn_mvau for binary weights (its pipeline depth set by the clock ``clk_ns``), int_mvau for integer
    weights."""
    if binary_weights(model, node):
        return mvau.emit_mvau(model, node, rtl_dir, ins, outs, clk_ns)
    return emit_int_mvau(model, node, rtl_dir, ins, outs)


def emit_int_mvau(model: ModelWrapper, node, rtl_dir: Path, ins: list[Edge], outs: list[Edge]) -> Instance:
    (src,), (dst,) = ins, outs
    inst = getCustomOp(node)
    g = inst.get_nodeattr
    mw, mh, pe, simd = g("MW"), g("MH"), g("PE"), g("SIMD")
    idt, wdt = inst.get_input_datatype(0), inst.get_input_datatype(1)
    if g("mem_mode") == "external":
        raise RtlGraphError(f"node {node.name!r}: mem_mode=external (streamed weights) has no RTL here")
    if not g("noActivation"):
        raise RtlGraphError(f"node {node.name!r}: int_mvau has no activation (run SplitMvauThresholds first)")
    if not idt.is_integer() or not wdt.is_integer() or DataType["BIPOLAR"] in (idt, wdt):
        raise RtlGraphError(f"node {node.name!r}: int_mvau needs integer inputs and weights ({idt.name} x {wdt.name})")
    W = model.get_initializer(node.input[1])
    if W is None or tuple(W.shape) != (mw, mh) or not np.array_equal(W, np.round(W)):
        raise RtlGraphError(f"node {node.name!r}: expected a constant integer {mw}x{mh} weight matrix")
    bits = wdt.bitwidth() + (0 if wdt.signed() else 1)  # int_mvau weights are signed
    acc_bits = mvau_acc_bits(inst)
    wfile = f"{node.name}_w.dat"
    write_weight_mem(W, pe, simd, bits, rtl_dir / wfile)
    in_bits = idt.bitwidth()
    params = {
        "MW": mw,
        "MH": mh,
        "PE": pe,
        "SIMD": simd,
        "WeightBits": bits,
        "InputBits": in_bits,
        "InputSigned": int(idt.signed()),
        "AccBits": acc_bits,
        "WeightFile": wfile,
        "RamStyle": RAM_STYLE.get(g("ram_style") if "ram_style" in inst.get_nodeattr_types() else "auto", "auto"),
    }
    runtime = runtime_writeable(inst)
    if runtime:  # loaded at run time: the style may be URAM (which starts empty) or LUTRAM (a RAM, not a ROM)
        style = g("ram_style") if "ram_style" in inst.get_nodeattr_types() else "auto"
        params.update(RuntimeWeights=1, RamStyle=style, WeightFile="" if style == "ultra" else wfile)
    check_widths(node, src, dst, simd * in_bits, pe * acc_bits)
    sources = [RTL_DIR / f for f in (*RTL_DEPENDENCIES["int_mvau"], "int_mvau.sv")]
    text = hw_instance("int_mvau", node.name, params, io(src, dst), wgt_ports(node.name, runtime))
    loaded = {"node": node.name, "file": wfile, "width": pe * simd * bits, "words": (mw // simd) * (mh // pe)}
    return Instance(text, sources, [wfile], runtime_weights=loaded if runtime else None)
