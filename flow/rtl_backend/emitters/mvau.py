"""``MVAU_hls`` (binary weights; XNOR or integer input) -> hw/rtl/bnn_mvau.sv.

The weights go to ``<node>_w.dat`` and the thresholds to ``<node>_t.dat`` (hw/golden/mem_files.py; the
formats are documented in bnn_mvau.sv). The accumulator width is bnn_mvau's own default
(``hw.golden.bnn_mvau.rtl_acc_bits``, via ``graph.mvau_acc_bits``); thresholds are clipped to the
reachable accumulator range ``acc_range`` (which leaves every comparison unchanged).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.core.hw_graph import mvau_acc_bits, runtime_writeable
from flow.rtl_backend.emitters.common import Edge, Instance, check_widths, hw_instance, io, wgt_ports
from flow.rtl_backend.graph import RtlGraphError
from flow.rtl_backend.timing import CARRY_PS, LUT_PS, START_PS
from hw.golden.bnn_mvau import acc_range
from hw.golden.mem_files import write_threshold_mem, write_weight_mem
from hw.sources import RTL_DEPENDENCIES, RTL_DIR


def emit_mvau(
    model: ModelWrapper, node, rtl_dir: Path, ins: list[Edge], outs: list[Edge], clk_ns: float = 10.0
) -> Instance:
    """bnn_mvau for one node; ``clk_ns``: the fabric clock, which sets the compressor's pipeline depth."""
    (src,), (dst,) = ins, outs
    inst = getCustomOp(node)
    g = inst.get_nodeattr
    mw, mh, pe, simd = g("MW"), g("MH"), g("PE"), g("SIMD")
    if g("mem_mode") == "external":
        raise RtlGraphError(f"node {node.name!r}: mem_mode=external (streamed weights) has no RTL here")
    W = model.get_initializer(node.input[1])
    if W is None or tuple(W.shape) != (mw, mh):
        raise RtlGraphError(f"node {node.name!r}: expected a constant {mw}x{mh} weight matrix")
    mode, in_bits, in_signed = input_mode(node, inst, W)
    acc_bits = mvau_acc_bits(inst)
    wfile = f"{node.name}_w.dat"
    write_weight_mem(W, pe, simd, rtl_dir / wfile)
    params = {
        "MW": mw,
        "MH": mh,
        "PE": pe,
        "SIMD": simd,
        "XnorMode": int(mode == "xnor"),
        "InputBits": in_bits,
        "InputSigned": int(in_signed),
        "AccBits": acc_bits,
        "LevelsPerStage": levels_per_stage(clk_ns),
    }
    params["WeightOutReg"] = int(weight_out_reg((mw // simd) * (mh // pe), g("ram_style"), clk_ns))
    elem_bits, tfiles = threshold_params(model, node, inst, rtl_dir, params, (mode, in_bits, in_signed))
    runtime = runtime_writeable(inst)
    params.update(weight_memory_params(g("ram_style"), wfile, runtime))
    check_widths(node, src, dst, simd * in_bits, pe * elem_bits)
    sources = [RTL_DIR / f for f in (*RTL_DEPENDENCIES["bnn_mvau"], "bnn_mvau.sv")]
    text = hw_instance("bnn_mvau", node.name, params, io(src, dst), wgt_ports(node.name, runtime))
    loaded = {"node": node.name, "file": wfile, "width": pe * simd, "words": (mw // simd) * (mh // pe)}
    return Instance(text, sources, [wfile, *tfiles], runtime_weights=loaded if runtime else None)


def levels_per_stage(clk_ns: float) -> int:
    """bnn_popcount's compressor levels between registers for a clock period: as many as fit, at most 4.
    The slowest stage is the first, from the weight memory: block RAM clock-to-out, level 0 and the
    inverter of the integer mode's singles (two LUTs), then a LUT and a carry chain per further level
    (flow/rtl_backend/timing.py's delays; measured: 4.15 ns for 2 levels, the CNV's first layer). Fewer
    registers cost fewer FFs (a 384-input lane: 170 FF at 2 levels, 40 at 4); beyond 4 levels the lane's
    registers are few (its final adder keeps its own)."""
    free_ps = clk_ns * 1000 - START_PS["RAMB"] - 2 * LUT_PS
    return max(1, min(4, 1 + int(free_ps // (LUT_PS + CARRY_PS))))


def weight_out_reg(depth: int, style: str, clk_ns: float) -> bool:
    """bnn_mvau's WeightOutReg: a block-RAM weight memory deeper than one RAM holds at full width (1024
    words) is a cascade whose read multiplexer is LUT logic (two levels); register its word when block
    RAM, the multiplexer and the first compressor stage (``levels_per_stage``) exceed the period (the
    CNV-20k folding's 4608-word layer: 5.25 ns by the delay model at 2 levels per stage)."""
    if depth <= 1024 or style not in ("block", "auto"):
        return False
    stage_ps = START_PS["RAMB"] + 4 * LUT_PS + (levels_per_stage(clk_ns) - 1) * (LUT_PS + CARRY_PS)
    return stage_ps > clk_ns * 1000


def input_mode(node, inst, W: np.ndarray) -> tuple[str, int, bool]:
    """(mode, input bits, signed): "xnor" for binary inputs and weights (FINN's binaryXnorMode), "int"
    for integer inputs times bipolar weights; anything else has no RTL."""
    idt = inst.get_input_datatype(0)
    values = set(np.unique(W).tolist())
    if inst.get_nodeattr("binaryXnorMode"):
        if idt != DataType["BINARY"] or not values <= {0.0, 1.0}:
            raise RtlGraphError(f"node {node.name!r}: XNOR mode needs binary inputs and weights")
        return "xnor", 1, False
    if not values <= {-1.0, 1.0}:
        raise RtlGraphError(
            f"node {node.name!r}: weights are not bipolar ({idt.name} x {inst.get_nodeattr('weightDataType')}); "
            "bnn_mvau implements binary weights only"
        )
    if not idt.is_integer() or idt in (DataType["BIPOLAR"], DataType["BINARY"]):
        raise RtlGraphError(f"node {node.name!r}: input type {idt.name} has no RTL mode")
    return "int", idt.bitwidth(), idt.signed()


def threshold_params(model: ModelWrapper, node, inst, rtl_dir: Path, params: dict, mode: tuple) -> tuple[int, list]:
    """The threshold memory (``<node>_t.dat``) and its parameters, added to ``params``; returns the output
    element's bits and the files written. ``mode``: (mode, input bits, signed) of ``input_mode``."""
    acc_bits = params["AccBits"]
    if inst.get_nodeattr("noActivation"):
        params["NumThresholds"] = 0
        return acc_bits, []
    mh, pe = params["MH"], params["PE"]
    T = model.get_initializer(node.input[2])
    if T is None or T.ndim != 2:
        raise RtlGraphError(f"node {node.name!r}: expected a constant 2-D threshold tensor")
    T = np.broadcast_to(T, (mh, T.shape[1]))
    lo, hi = acc_range(params["MW"], *mode)
    tfile = f"{node.name}_t.dat"
    write_threshold_mem(T, pe, acc_bits + 1, rtl_dir / tfile, acc_lo=lo, acc_hi=hi)
    odt = inst.get_output_datatype(0)
    bipolar_out = odt == DataType["BIPOLAR"]
    elem_bits = 1 if bipolar_out else odt.bitwidth()
    params.update(
        NumThresholds=int(T.shape[1]),
        ThresholdBits=acc_bits + 1,
        OutBits=elem_bits,
        OutBias=0 if bipolar_out else int(inst.get_nodeattr("ActVal")),
        ThresholdFile=tfile,
    )
    return elem_bits, [tfile]


def weight_memory_params(style: str, wfile: str, runtime: bool) -> dict:
    """ "distributed": bnn_mvau builds the ROM from LUT logic read through a registered address (<= 8
    words: every weight bit one of <= 256 functions of the address, shared by all lanes); "auto": the
    tool's choice; "ultra" (no bitstream contents) only with the weights loaded at run time, else block
    RAM. Run-time weights into URAM start empty: the load is their only source, in simulation too."""
    params = {"WeightFile": wfile, "WeightRamStyle": style if runtime or style != "ultra" else "block"}
    if runtime:
        params.update(RuntimeWeights=1, WeightFile="" if style == "ultra" else wfile)
    return params
