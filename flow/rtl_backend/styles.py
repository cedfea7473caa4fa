"""Memory styles of FINN's RTL stream blocks for the part, set in the graph before the HDL is written.

``SetFifoRamStyle(part)``: a StreamingFIFO left at ``ram_style=auto`` gets FINN's fifo.sv choice, except
- 7-series parts have no UltraRAM, but fifo.sv's ``auto`` picks its UltraRAM pipeline (a free-running
  read pipeline with an output queue) above 2,028 words: ``block`` instead (BRAM, stallable pipeline);
- a FIFO deeper than 64 words and at least 18 bits wide goes to block RAM: as LUTRAM it would cost
  ~4/3 LUT per bit per 64 words (RAM64M: 3 data bits per 4 LUTs), i.e. >= 48 LUTs per RAMB18 it saves.
FIFOs of <= 33 words stay shift registers (SRL, fifo.sv's own rule). Explicit styles are kept.
"""

from __future__ import annotations

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation

SRL_MAX_DEPTH = 33  # fifo.sv implements every FIFO up to this depth as a shift register


def has_ultraram(part: str) -> bool:
    """UltraRAM exists on UltraScale+ parts only (xczu*, xcvu*p, xcku*p, ...), not on 7-series (xc7*)."""
    return not part.lower().startswith("xc7")


def fifo_ram_style(depth: int, width: int, part: str) -> str:
    if depth <= SRL_MAX_DEPTH:
        return "auto"
    if depth > 64 and width >= 18:
        return "block"
    if depth > 2028 and not has_ultraram(part):
        return "block"
    return "auto"


class SetFifoRamStyle(Transformation):
    """ram_style of every StreamingFIFO left at ``auto``, by depth, width and part (see module doc)."""

    def __init__(self, part: str):
        super().__init__()
        self.part = part

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node in model.graph.node:
            if not node.op_type.startswith("StreamingFIFO"):
                continue
            inst = getCustomOp(node)
            if inst.get_nodeattr("ram_style") != "auto":
                continue
            depth, width = int(inst.get_nodeattr("depth")), int(inst.get_instream_width())
            inst.set_nodeattr("ram_style", fifo_ram_style(depth, width, self.part))
        return model, False
