"""Resource model of the generated RTL (yosys ``synth_xilinx -family xc7`` LUT and BRAM36), per block.

Used by the folding search (flow/analysis/folding_search.py) to keep a folding within the board.
Coefficients come from the calibration data below, fitted by least squares at import: update the
data (new yosys runs, e.g. after a cheaper bnn_mvau) and the model follows.

- ``bnn_mvau``: ``LUT = a * PE * SIMD * InputBits + b * PE + c`` (the XNOR/popcount/accumulate tiles
  and per-PE compare), fitted on ``MVAU_POINTS`` (results/bench/mvau_synth.json, block weights; ``a``
  of integer mode from ``MVAU_INT_POINTS``), times
  ``MVAU_SCALE`` inside a whole design;
  plus its weight memory: ``WMEM = MW*MH/(PE*SIMD)`` words of ``PE*SIMD`` bits in block RAM when at
  least ``BLOCK_MIN_DEPTH`` deep (RAMB18 aspect ratios: 512x36 ... 16Kx1), else LUT ROM (64x1 per LUT).
- every other block (sliding window, width converter, FIFO, thresholding, pools, label select,
  stream fork/join): ``LUT = STREAM_LUT_PER_BIT * (input + output stream bits) + BLOCK_LUT``, and
  a sliding window's line buffer (FINN's ``get_buffer_depth`` x SIMD x bits) as memory like the
  weights. FIFO depths are only known after simulation sizing: they are taken at their minimum.
  ``MVAU_SCALE``, ``STREAM_LUT_PER_BIT`` and ``BLOCK_LUT`` are fitted on ``NETWORK_POINTS`` (whole
  designs: yosys LUT = MVAU_SCALE * MVAU model + STREAM_LUT_PER_BIT * bits + BLOCK_LUT * blocks;
  relative error within about 20 % on the six calibration designs, 5 % on CNV-W1A1).
"""

from __future__ import annotations

import math

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.core.hw_graph import generic_op_type, stream_shape

BUDGET_FRACTION = 0.85  # of the part's LUT and BRAM36: place-and-route headroom and deep FIFOs
BLOCK_MIN_DEPTH = 128  # memories at least this deep go to block RAM, shallower ones to LUTs

# bnn_mvau alone (LUT6 compressor-tree popcount, issue 19), yosys 0.70 (results/bench/mvau_synth.json,
# block weights): (PE, SIMD, InputBits, LUT without memory)
MVAU_POINTS = [
    (4, 64, 1, 436),
    (16, 32, 1, 1184),
    (4, 256, 1, 1506),
    (8, 128, 1, 1553),
    (16, 64, 1, 1891),
    (4, 256, 1, 1368),
]
# bnn_mvau in integer mode (a first layer's 8-bit pixels: an adder tree per PE, no popcount), measured
# alone like the points above: (PE, SIMD, InputBits, LUT without the weight ROM's model LUTs); the CNV
# first layer at 16/27 with distributed weights: 8,703 LUT, of which 432 are its ROM in this model
MVAU_INT_POINTS = [(16, 27, 8, 8703 - 432)]
# whole designs, yosys 0.70 (bench/calibrate_cost.py prints these rows from builds made with --synth):
# (MVAU model LUTs, stream bits of the other blocks, number of other blocks, yosys LUT). Measured with the
# previous bnn_mvau (adder-tree popcount, 2.3-5.6 LUT per XNOR bit) and its MVAU model: MVAU_SCALE is
# what a design adds around its MVAUs; refit on builds with the current bnn_mvau when there are some.
NETWORK_POINTS = [
    (773.8, 319.0, 20, 1477),  # odd-pad-stride (bench/compile_any.py)
    (485.5, 227.0, 17, 1215),  # odd-even-kernel
    (268.9, 60.0, 8, 396),  # odd-mlp-big-shift
    (531.4, 551.0, 17, 1307),  # Brevitas TFC-W1A1, 200k img/s
    (1338.9, 1210.0, 17, 2839),  # Brevitas SFC-W1A1, 100k img/s
    (27121.5, 5810.0, 54, 42893),  # Brevitas CNV-W1A1, 10k img/s
]


def fit_mvau(points=MVAU_POINTS) -> tuple[float, float, float]:
    """``(a, b, c)`` of the bnn_mvau LUT model, least squares on ``points``."""
    a = np.array([[pe * simd * bits, pe, 1.0] for pe, simd, bits, _ in points])
    y = np.array([lut for *_, lut in points], dtype=float)
    return tuple(float(c) for c in np.linalg.lstsq(a, y, rcond=None)[0])


def fit_network(points=NETWORK_POINTS) -> tuple[float, float, float]:
    """``(MVAU scale, LUT per stream bit, LUT per block)`` of whole designs, least squares on the
    relative error (small and large designs weigh alike)."""
    a = np.array([[mvau, bits, blocks] for mvau, bits, blocks, _ in points], dtype=float)
    y = np.array([lut for *_, lut in points], dtype=float)
    return tuple(float(c) for c in np.linalg.lstsq(a / y[:, None], np.ones(len(y)), rcond=None)[0])


def fit_mvau_int(points=MVAU_INT_POINTS, xnor=None) -> float:
    """LUT per PE * SIMD * InputBits of an integer-mode bnn_mvau, beside the XNOR fit's b * PE + c."""
    _, b, c = xnor or fit_mvau()
    return float(np.mean([(lut - b * pe - c) / (pe * simd * bits) for pe, simd, bits, lut in points]))


MVAU_LUT = fit_mvau()  # (a, b, c)
MVAU_INT_A = fit_mvau_int(xnor=MVAU_LUT)
MVAU_SCALE, STREAM_LUT_PER_BIT, BLOCK_LUT = fit_network()


def memory_cost(depth: int, width: int) -> tuple[float, float]:
    """(LUT, BRAM36) of a ROM/RAM of ``depth`` words of ``width`` bits (module docstring)."""
    if depth < BLOCK_MIN_DEPTH:
        return width * math.ceil(depth / 64), 0.0
    for max_depth, aspect in ((512, 36), (1024, 18), (2048, 9), (4096, 4), (8192, 2), (16384, 1)):
        if depth <= max_depth:
            return 0.0, math.ceil(width / aspect) / 2
    return 0.0, math.ceil(depth / 16384) * width / 2


def weight_ram_style(depth: int) -> str:
    return "block" if depth >= BLOCK_MIN_DEPTH else "distributed"


def set_weight_ram_styles(model: ModelWrapper) -> None:
    """Each MVAU's weight memory in block RAM or LUTs as the cost model assumes."""
    for node in model.graph.node:
        if generic_op_type(node.op_type) == "MVAU":
            inst = getCustomOp(node)
            g = inst.get_nodeattr
            inst.set_nodeattr("ram_style", weight_ram_style(g("MW") * g("MH") // (g("PE") * g("SIMD"))))


def mvau_cost(inst) -> tuple[float, float]:
    g = inst.get_nodeattr
    bits = 1 if g("binaryXnorMode") else inst.get_input_datatype(0).bitwidth()
    a, b, c = MVAU_LUT
    a = a if g("binaryXnorMode") else MVAU_INT_A
    depth = g("MW") * g("MH") // (g("PE") * g("SIMD"))
    mem_lut, mem_bram = memory_cost(depth, g("PE") * g("SIMD"))
    return a * g("PE") * g("SIMD") * bits + b * g("PE") + c + mem_lut, mem_bram


def mvau_design_lut(inst) -> float:
    """An MVAU's LUTs inside a whole design (``MVAU_SCALE``: what a design adds around it, fitted)."""
    return MVAU_SCALE * mvau_cost(inst)[0]


def _stream_bits(model: ModelWrapper, node) -> int:
    bits = [stream_shape(model, node, output=True, ind=k)[1] for k in range(len(node.output))]
    streams = [t for t in node.input if t and model.get_initializer(t) is None]
    return sum(bits) + sum(stream_shape(model, node, output=False, ind=k)[1] for k in range(len(streams)))


def block_cost(model: ModelWrapper, node) -> tuple[float, float]:
    """(LUT, BRAM36) of one block of the RTL graph."""
    kind = generic_op_type(node.op_type) if node.domain.startswith("finn") else node.op_type
    if kind == "MVAU":
        return mvau_design_lut(getCustomOp(node)), mvau_cost(getCustomOp(node))[1]
    lut, bram = STREAM_LUT_PER_BIT * _stream_bits(model, node) + BLOCK_LUT, 0.0
    if kind == "ConvolutionInputGenerator":
        inst = getCustomOp(node)
        width = inst.get_nodeattr("SIMD") * inst.get_input_datatype(0).bitwidth()
        mem_lut, bram = memory_cost(int(inst.get_buffer_depth()), width)
        lut += mem_lut
    return lut, bram


def design_cost(rtl_model: ModelWrapper, board) -> dict:
    """Modelled LUT / BRAM36 of the whole RTL graph and whether it fits ``board`` (BUDGET_FRACTION)."""
    lut = bram = mvau_lut = 0.0
    for node in rtl_model.graph.node:
        node_lut, node_bram = block_cost(rtl_model, node)
        lut, bram = lut + node_lut, bram + node_bram
        if node.op_type.startswith("MVAU"):
            mvau_lut += node_lut
    fits = lut <= BUDGET_FRACTION * board.lut and bram <= BUDGET_FRACTION * board.bram36
    return {"lut": round(lut), "bram36": round(bram, 1), "mvau_lut": round(mvau_lut), "fits": bool(fits),
            "budget_fraction": BUDGET_FRACTION}  # fmt: skip


def network_features(rtl_model: ModelWrapper) -> tuple[float, float, int]:
    """(MVAU model LUTs, stream bits of the other blocks, number of other blocks): a NETWORK_POINTS row
    without its measured LUT (bench scripts add yosys' number)."""
    mvau = bits = 0.0
    blocks = 0
    for node in rtl_model.graph.node:
        if node.op_type.startswith("MVAU"):
            mvau += mvau_cost(getCustomOp(node))[0]
        else:
            bits += _stream_bits(rtl_model, node)
            blocks += 1
    return mvau, bits, blocks
