"""Resource model of the generated RTL: yosys ``synth_xilinx`` LUT, BRAM36, URAM and DSP, per block.

The folding search (flow/analysis/folding_search.py) keeps a folding within the board with it, and the
build refuses, before generating RTL, a design it models over the board (flow/analysis/fit.py).

Every block of the lowered graph (the backend's ``rtl_graph``) belongs to one family; its LUTs are a
linear function of the family's features plus the LUTs of its memories:

    LUT = sum_f coef[family][f] * feature[f] + memory LUTs

- ``mvau_xnor`` (bnn_mvau, XNOR popcount): features PE*SIMD, PE, 1 (and ``rom_features``);
  ``mvau_int`` (bnn_mvau on integer inputs, e.g. 8-bit pixels: an adder tree per PE): PE*SIMD*bits,
  PE, 1; ``int_mvau`` (integer weights): PE*SIMD*bits, PE, 1 and PE*SIMD DSPs (one multiplier each).
  Weight memory (``weight_memory``): ``MW*MH/(PE*SIMD)`` words of ``PE*SIMD*wbits`` bits, by ram_style:
  "block" in BRAM36; "distributed" in LUTs (bnn_mvau XNOR mode folds a ROM of <= 32 words into its
  XNOR-popcount LUTs, ``rom_features``; deeper ones are a LUT ROM); "auto" by depth (memories.py);
  "ultra" in URAM288, only for weights loaded at run time (a RAM: never folded into the XNOR LUTs).
- ``window`` / ``window_parallel`` (FINN's sliding window, default / parallel_window): in + out stream
  bits, 1; its line buffer (``get_buffer_depth`` x SIMD x bits; parallel: K_h - 1 row buffers) by depth.
  A 1 x 1 window is our stream_subsample (counters and a skid buffer): a ``stream`` block.
- ``dwc`` (FINN's width converter): in + out bits, 1. ``fifo``: bits, 1, and its storage (memories.py
  ``fifo_memory``) at the depth in the graph: before simulation sizes them, FINN's shallow 2, so
  the sized FIFOs of a finished design cost more (the LUT margin below covers it; the calibration
  designs' FIFOs are sized).
- ``thresholding`` (FINN's Thresholding_rtl): PE * ceil(log2(N+1)) * threshold bits, 1; its threshold
  memories (FINN's ``get_pe_mem_geometries``: one per PE and search stage) by depth.
- ``maxpool`` (bnn_pool, any pool): PE*bits, 1 and its column slots and row buffers (LUTRAM);
  ``labelselect``: input bits, 1; ``stream`` (add, fork, re-quantizer, position thresholds, padding,
  a stream reorder): in + out bits, 1; a reorder (stream_reorder) also its two frames of storage by depth.

The coefficients and the margins are fitted by bench/calibrate_cost.py on yosys' per-block counts of
whole generated designs and written to cost_coefficients.json beside this file (with the commit, date,
yosys version and the in-sample and out-of-sample errors; docs/rtl_backend.md has the table).
``fits``: modelled LUT * (1 + LUT margin) and BRAM36 * (1 + BRAM margin), URAM and DSP within
``BUDGET_FRACTION`` of the part; the margins are the model's worst out-of-sample underestimate.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.analysis.memories import BLOCK_MIN_DEPTH, bram36_count, fifo_memory, lut_memory, memory_cost, uram_count
from flow.core.hw_graph import (
    ADD_OP,
    binary_weights,
    generic_op_type,
    is_subsample_window,
    runtime_writeable,
    stream_shape,
)

COEFFICIENTS = Path(__file__).with_name("cost_coefficients.json")
BUDGET_FRACTION = 0.90  # of every resource of the part: place-and-route headroom (and the DMA beside it)
RESOURCES = ("lut", "bram36", "uram", "dsp")
BOARD_FIELD = {"lut": "lut", "bram36": "bram36", "uram": "uram288", "dsp": "dsp"}
WEIGHT_STYLES = ("distributed", "block")  # constant weights; "ultra" only loaded at run time (memories.py)


@cache
def coefficients() -> dict:
    return json.loads(COEFFICIENTS.read_text())


@dataclass
class Block:
    """One block's family, features and memories (LUT from the coefficients: ``lut``)."""

    family: str
    features: dict
    mem_lut: float = 0.0
    bram36: float = 0.0
    uram: float = 0.0
    dsp: float = 0.0
    parallelism: int = 0  # PE * SIMD of an MVAU

    @property
    def logic_lut(self) -> float:
        coef = coefficients()["families"][self.family]
        return sum(coef.get(name, 0.0) * value for name, value in self.features.items())

    @property
    def lut(self) -> float:
        return self.logic_lut + self.mem_lut

    def per_parallelism(self) -> dict[str, float]:
        """An MVAU block's LUT and DSP per unit of PE * SIMD (its ``pe_simd`` / ``pe_simd_bits`` term)."""
        coef = coefficients()["families"][self.family]
        term = sum(coef.get(k, 0.0) * self.features.get(k, 0.0) for k in ("pe_simd", "pe_simd_bits"))
        return {"lut": term / self.parallelism, "dsp": self.dsp / self.parallelism}


def _stream_bits(model: ModelWrapper, node) -> int:
    bits = [stream_shape(model, node, output=True, ind=k)[1] for k in range(len(node.output))]
    streams = [t for t in node.input if t and model.get_initializer(t) is None]
    return sum(bits) + sum(stream_shape(model, node, output=False, ind=k)[1] for k in range(len(streams)))


def weight_style(style: str, depth: int) -> str:
    """The style a weight memory gets: "auto" is the tool's choice, block RAM from BLOCK_MIN_DEPTH."""
    if style == "auto":
        return "block" if depth >= BLOCK_MIN_DEPTH else "distributed"
    return style


def weight_memory(style: str, depth: int, width: int, xnor: bool) -> tuple[float, float, float]:
    """(LUT, BRAM36, URAM) of an MVAU weight memory of ``depth`` words of ``width`` bits (module doc).
    An XNOR-mode ROM of <= 32 words is part of the MVAU's logic (``rom_features``), not a memory."""
    style = weight_style(style, depth)
    if style == "block":
        return 0.0, bram36_count(depth, width), 0.0
    if style == "ultra":
        return 0.0, 0.0, uram_count(depth, width)
    if xnor and depth <= 32:
        return 0.0, 0.0, 0.0
    return lut_memory(depth, width), 0.0, 0.0


def rom_features(style: str, depth: int, width: int) -> dict:
    """bnn_mvau XNOR mode with "distributed" weights reads a ROM of <= 8 words inside its XNOR LUTs (3
    address + 3 input pairs per LUT6: free); at 16 / 32 words the popcount's first level takes 2 / 1
    pairs per LUT (hw/rtl/bnn_mvau.sv GroupSize): ``rom16_bits`` / ``rom32_bits`` LUTs per weight bit."""
    if weight_style(style, depth) != "distributed" or depth <= 8 or depth > 32:
        return {}
    return {"rom16_bits" if depth <= 16 else "rom32_bits": width}


def mvau_block(model: ModelWrapper, node, style: str | None = None, runtime: bool | None = None) -> Block:
    """``style``/``runtime``: the weight memory's ram_style and run-time loading (default: the node's).
    Run-time weights are a RAM: never folded into the XNOR LUTs; a constant "ultra" memory is emitted
    as block RAM (emitters/mvau.py ``weight_memory_params``)."""
    inst = getCustomOp(node)
    g = inst.get_nodeattr
    pe, simd = g("PE"), g("SIMD")
    depth = g("MW") * g("MH") // (pe * simd)
    runtime = runtime_writeable(inst) if runtime is None else runtime
    style = style or g("ram_style")
    style = "block" if style == "ultra" and not runtime else style
    if binary_weights(model, node):
        xnor = bool(g("binaryXnorMode"))
        bits = 1 if xnor else inst.get_input_datatype(0).bitwidth()
        mem = weight_memory(style, depth, pe * simd, xnor and not runtime)
        if xnor:
            rom = {} if runtime else rom_features(style, depth, pe * simd)
            feats = {"pe_simd": pe * simd, "pe": pe, "one": 1, **rom}
            return Block("mvau_xnor", feats, *mem, parallelism=pe * simd)
        return Block("mvau_int", {"pe_simd_bits": pe * simd * bits, "pe": pe, "one": 1}, *mem, parallelism=pe * simd)
    ibits, wbits = inst.get_input_datatype(0).bitwidth(), inst.get_input_datatype(1).bitwidth()
    mem = weight_memory(style, depth, pe * simd * wbits, False)
    feats = {"pe_simd_bits": pe * simd * max(ibits, wbits), "pe": pe, "one": 1}
    return Block("int_mvau", feats, *mem, dsp=pe * simd, parallelism=pe * simd)


def window_block(model: ModelWrapper, node) -> Block:
    inst = getCustomOp(node)
    width = inst.get_nodeattr("SIMD") * inst.get_input_datatype(0).bitwidth()
    feats = {"bits": _stream_bits(model, node), "one": 1}
    if is_subsample_window(node):  # stream_subsample: counters and a skid buffer, no line buffer
        return Block("stream", feats)
    if inst.select_impl_style() == "parallel":
        (k_h, k_w), (_, w) = inst.get_nodeattr("ConvKernelDim"), inst.get_nodeattr("IFMDim")
        if k_h == 1 or w <= k_w:
            return Block("window_parallel", feats)
        lut, bram = memory_cost(w - k_w, width)
        return Block("window_parallel", feats, (k_h - 1) * lut, (k_h - 1) * bram)
    lut, bram = memory_cost(int(inst.get_buffer_depth()), width)
    return Block("window", feats, lut, bram)


def thresholding_block(model: ModelWrapper, node) -> Block:
    inst = getCustomOp(node)
    g = inst.get_nodeattr
    stages = math.ceil(math.log2(g("numSteps") + 1))
    tbits = inst.get_input_datatype(1).bitwidth() if len(node.input) > 1 else inst.get_input_datatype(0).bitwidth()
    lut = bram = 0.0
    for width, depth in inst.get_pe_mem_geometries():  # FINN's per-PE threshold memories (one per stage)
        mem_lut, mem_bram = memory_cost(int(depth), int(width))
        lut, bram = lut + g("PE") * mem_lut, bram + g("PE") * mem_bram
    return Block("thresholding", {"pe_stages_bits": g("PE") * stages * tbits, "one": 1}, lut, bram)


def pool_block(node) -> Block:
    """bnn_pool.sv: ceil(KW/SW) column slots per channel fold and ceil(KH/SH) row buffers of OutW slots
    each, every slot PE values of the reduction's width, in LUTRAM (asynchronous read)."""
    inst = getCustomOp(node)
    g = inst.get_nodeattr
    (kh, kw), (sh, sw), out_w = g("Kernel"), g("Stride"), g("OutDim")[1]
    folds = g("Channels") // g("PE")
    bits = g("PE") * inst.get_output_datatype(0).bitwidth()  # max: the element; sum: the wider sum
    words = math.ceil(kw / sw) * folds + math.ceil(kh / sh) * out_w * folds
    return Block("maxpool", {"bits": bits, "one": 1}, lut_memory(words, bits), 0.0)


def block_of(model: ModelWrapper, node, part: str) -> Block:
    """Family, features and memories of one block of the RTL graph (module docstring)."""
    if generic_op_type(node.op_type) == "ShiftbnnPool":
        return pool_block(node)
    if node.op_type == ADD_OP or not node.domain.startswith("finn"):
        return Block("stream", {"bits": _stream_bits(model, node), "one": 1})
    kind = generic_op_type(node.op_type)
    if kind == "MVAU":
        return mvau_block(model, node)
    if kind == "ConvolutionInputGenerator":
        return window_block(model, node)
    if kind == "Thresholding":
        return thresholding_block(model, node)
    if kind == "StreamingFIFO":
        inst = getCustomOp(node)
        width = inst.get_instream_width()
        return Block("fifo", {"bits": width, "one": 1}, *fifo_memory(int(inst.get_nodeattr("depth")), width, part))
    if kind == "StreamingDataWidthConverter":
        return Block("dwc", {"bits": _stream_bits(model, node), "one": 1})
    if kind == "LabelSelect":
        return Block("labelselect", {"bits": stream_shape(model, node, output=False)[1], "one": 1})
    if kind in ("Shuffle", "InnerShuffle", "OuterShuffle"):  # stream_reorder: two frames of memory
        inst = getCustomOp(node)
        frame = math.prod(inst.get_normal_input_shape())
        storage = fifo_memory(2 * frame, inst.get_input_datatype(0).bitwidth(), part)
        return Block("stream", {"bits": _stream_bits(model, node), "one": 1}, *storage)
    return Block("stream", {"bits": _stream_bits(model, node), "one": 1})


def budget(board) -> dict:
    """Per resource, what a design may use on ``board`` (``BUDGET_FRACTION`` of the part)."""
    return {r: BUDGET_FRACTION * getattr(board, BOARD_FIELD[r]) for r in RESOURCES}


def margins() -> dict:
    return {r: coefficients()["margin"].get(r, 0.0) for r in RESOURCES}


def over_budget(totals: dict, board) -> dict:
    """Resources whose modelled use (times its margin) exceeds the budget: {resource: (need, budget)}."""
    limit, margin = budget(board), margins()
    need = {r: totals[r] * (1 + margin[r]) for r in RESOURCES}
    return {r: (round(need[r], 1), round(limit[r], 1)) for r in RESOURCES if need[r] > limit[r] + 1e-9}


SHALLOW_FIFO = 2  # FINN's InsertFIFO(create_shallow_fifos=True) depth before simulation sizes it


def fifo_block(width: int, depth: int, part: str) -> Block:
    return Block("fifo", {"bits": width, "one": 1}, *fifo_memory(depth, width, part))


def stream_fifos(rtl_model: ModelWrapper, part: str) -> dict[str, Block]:
    """The shallow FIFO the backend puts on every stream (the graph's input and outputs included), for a
    lowering that leaves them out (flow/rtl_backend/graph.py ``search_graph``)."""
    fifos = {}
    for node in rtl_model.graph.node:
        for k, tensor in enumerate(node.output):
            fifos[f"fifo:{tensor}"] = fifo_block(
                stream_shape(rtl_model, node, output=True, ind=k)[1], SHALLOW_FIFO, part
            )
    name = rtl_model.graph.input[0].name
    for node in rtl_model.find_consumers(name) or []:
        width = stream_shape(rtl_model, node, output=False, ind=list(node.input).index(name))[1]
        fifos[f"fifo:{name}"] = fifo_block(width, SHALLOW_FIFO, part)
    return fifos


def design_blocks(rtl_model: ModelWrapper, part: str) -> dict[str, Block]:
    """Every block of the RTL graph by node name (plus a shallow FIFO per stream where the lowering left
    the FIFOs out)."""
    blocks = {node.name: block_of(rtl_model, node, part) for node in rtl_model.graph.node}
    if not any(generic_op_type(n.op_type) == "StreamingFIFO" for n in rtl_model.graph.node):
        blocks.update(stream_fifos(rtl_model, part))
    return blocks


def summarize(blocks: dict[str, Block], board) -> dict:
    """Modelled LUT / BRAM36 / URAM / DSP of a design's blocks, per family, and whether it fits ``board``."""
    totals = {r: sum(getattr(b, r) for b in blocks.values()) for r in RESOURCES}
    families: dict[str, float] = {}
    for b in blocks.values():
        families[b.family] = families.get(b.family, 0.0) + b.lut
    over = over_budget(totals, board)
    return {
        "lut": round(totals["lut"]),
        "bram36": round(totals["bram36"], 1),
        "uram": round(totals["uram"], 1),
        "dsp": round(totals["dsp"]),
        "lut_by_family": {f: round(v) for f, v in sorted(families.items(), key=lambda kv: -kv[1])},
        "fits": not over,
        "over_budget": {r: {"need": n, "budget": b} for r, (n, b) in over.items()},
        "budget_fraction": BUDGET_FRACTION,
        "margin": margins(),
    }


def design_cost(rtl_model: ModelWrapper, board) -> dict:
    """``summarize`` of every block of the RTL graph."""
    return summarize(design_blocks(rtl_model, board.part), board)
