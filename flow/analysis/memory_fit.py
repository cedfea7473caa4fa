"""Does the folded network's parameter memory fit the board? Checked before the folding search (and again
as a build step), so a network too big for a part fails in seconds with the numbers.

Parameter memory = every MVAU's weights (MW * MH * weight bits) + every threshold table (channels *
steps * threshold bits; an MVAU's embedded thresholds at its accumulator width + 1) + every multiply-add
re-quantizer's (M, A, extra shift) per channel (``ShiftbnnRequant``, the RTL backend's exact form of a
wide table), counted on the graph the backend emits (``lower``: the RTL backend's ``rtl_graph``) and on the
folded graph as FINN holds them (``folded_graph_mbit``). The RTL keeps them
in ROMs initialised from the bitstream: block RAM (BRAM36 = 36 Kibit) or LUTs (a LUT6 holds 64 bits).
URAM (UltraScale+, 288 Kibit each) cannot be initialised from a bitstream (yosys refuses a ROM forced to
ram_style "ultra": "no valid mapping found"), so weights there are written at run time (s_axis_wgt, the
weight memory rule of flow/analysis/weight_memory.py); thresholds stay in ROMs. The check fails when
the parameters alone exceed all of the part's BRAM, its URAM (weights only) and every LUT of the part
used as ROM (nothing could hold them); a network that fits only with URAM or LUT ROMs passes with
``fits_bram: false`` (the resource model, flow/analysis/cost.py, then places the rest and says whether
that fits). Weights grow with ``width**2`` and thresholds with ``width``: the message says which width
would fit the BRAM.
"""

from __future__ import annotations

import math

from onnx import helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.core.boards import Board
from flow.core.errors import BuildError
from flow.core.hw_graph import REQUANT_OP, mvau_acc_bits

BRAM36_BITS = 36 * 1024
URAM_BITS = 288 * 1024
LUT_ROM_BITS = 64  # a LUT6 as a 64 x 1 ROM


def parameter_bits(model: ModelWrapper) -> dict[str, tuple[int, int]]:
    """On-chip parameter bits per node: (weight bits, threshold or re-quantization bits)."""

    bits = {}
    for node in model.graph.node:
        if node.op_type == REQUANT_OP:
            a = {x.name: helper.get_attribute_value(x) for x in node.attribute}
            bits[node.name] = (0, a["Channels"] * (a["MulBits"] + a["AddBits"] + a["ShiftBits"]))
            continue
        if not node.domain.startswith("finn"):
            continue
        inst = getCustomOp(node)
        if node.op_type.startswith("MVAU"):
            wbits = DataType[inst.get_nodeattr("weightDataType")].bitwidth()
            weights, thresholds = inst.get_nodeattr("MW") * inst.get_nodeattr("MH") * wbits, 0
            if not inst.get_nodeattr("noActivation") and len(node.input) > 2:
                steps = model.get_tensor_shape(node.input[2])[-1]
                thresholds = inst.get_nodeattr("MH") * steps * (mvau_acc_bits(inst) + 1)
            bits[node.name] = (weights, thresholds)
        elif node.op_type.startswith("Thresholding"):
            # a threshold beyond the input's range acts as one at its edge: input bits + 1 hold every one
            # (before FINN's bit-width minimisation the type may still be a wide default)
            width = min(
                DataType[inst.get_nodeattr("weightDataType")].bitwidth(), inst.get_input_datatype(0).bitwidth() + 1
            )
            bits[node.name] = (0, inst.get_nodeattr("NumChannels") * inst.get_nodeattr("numSteps") * width)
    return bits


def fitting_width(width: float, weights: int, thresholds: int, capacity: int) -> float:
    """The width multiplier at which the parameters fill ``capacity``: weights grow with width^2 (in x out
    channels), thresholds with width (one row per output channel): solve a w^2 + b w = capacity."""
    a, b = weights / width**2, thresholds / width
    return (-b + math.sqrt(b * b + 4 * a * capacity)) / (2 * a) if a else capacity / b


def check_memory_fit(model: ModelWrapper, board: Board, width: float | None = None, lower=None) -> dict:
    """The fit report; raises BuildError when the parameters exceed the board's BRAM and LUT ROM together.
    ``lower(model, part)``: the graph the backend emits, whose parameters are counted (None: ``model``)."""
    folded = sum(sum(v) for v in parameter_bits(model).values())
    emitted = lower(model, board.part) if lower else model
    per_node = parameter_bits(emitted)
    weights, thresholds = (sum(v[i] for v in per_node.values()) for i in (0, 1))
    need = weights + thresholds
    bram = board.bram36 * BRAM36_BITS
    lut_rom = board.lut * LUT_ROM_BITS
    uram = board.uram288 * URAM_BITS
    report = {
        "parameter_mbit": round(need / 1e6, 3),
        "weight_mbit": round(weights / 1e6, 3),
        "threshold_mbit": round(thresholds / 1e6, 3),
        "folded_graph_mbit": round(folded / 1e6, 3),
        "requant_nodes": sum(n.op_type == REQUANT_OP for n in emitted.graph.node),
        "bram_mbit": round(bram / 1e6, 3),
        "lut_rom_mbit": round(lut_rom / 1e6, 3),
        "uram_mbit": round(uram / 1e6, 3),
        "fits_bram": need <= bram,
        "needs_uram": bram < need and bool(uram),  # weights loaded at run time (weight_memory.py)
        "needs_lut_rom": bram + min(uram, weights) < need <= bram + min(uram, weights) + lut_rom,
        "largest": sorted(per_node, key=lambda n: -sum(per_node[n]))[:3],
    }
    if need > bram + min(uram, weights) + lut_rom:
        hint = ""
        if width:
            fitting = fitting_width(width, weights, thresholds, bram)
            hint = f"; width <= {fitting:.3g} would fit the BRAM (weights grow with width^2, thresholds with width)"
        uram_note = f", {uram / 1e6:.2f} Mbit of URAM (weights loaded at run time)" if uram else ""
        raise BuildError(
            f"the network does not fit {board.name} ({board.part}): its weights and thresholds need "
            f"{need / 1e6:.2f} Mbit of on-chip memory, the part has {bram / 1e6:.2f} Mbit of BRAM "
            f"({board.bram36} BRAM36){uram_note} and {lut_rom / 1e6:.2f} Mbit if every LUT were a ROM; weights "
            f"{weights / 1e6:.2f} Mbit, thresholds {thresholds / 1e6:.2f} Mbit{hint}"
        )
    return report
