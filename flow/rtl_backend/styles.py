"""Memory styles of FINN's RTL stream blocks for the part, set in the graph before the HDL is written.

``SetFifoRamStyle(part)``: a StreamingFIFO left at ``ram_style=auto`` gets the style of
``flow.analysis.memories.fifo_ram_style`` (fifo.sv's own choice, except block RAM for deep wide FIFOs and
never UltraRAM on a 7-series part; the rule and its reasons live there, beside the resource model that
assumes it). Explicit styles are kept.
"""

from __future__ import annotations

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation

from flow.analysis.memories import fifo_ram_style


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
