"""shiftbnn's own hardware ops, registered in qonnx's custom-op registry under FINN's HW domains so that
every FINN and qonnx transformation (partitioning, folding, data-width converters, FIFOs, execution)
treats them like FINN's layers. The generic op lives in ``finn.custom_op.fpgadataflow``, its RTL
variant (what our conversions create directly: FINN has no HLS/RTL variant to specialize to) in
``finn.custom_op.fpgadataflow.rtl``. Importing ``flow.core.hw_graph`` registers them.
"""

from __future__ import annotations

import flow.core.finn_env  # noqa: F401  (must precede finn imports)

# isort: split
from qonnx.custom_op.registry import add_op_to_domain

from flow.core.ops.pool import ShiftbnnPool, ShiftbnnPool_rtl
from flow.core.ops.pos_threshold import ShiftbnnPosThreshold, ShiftbnnPosThreshold_rtl

GENERIC_DOMAIN = "finn.custom_op.fpgadataflow"  # = hw_graph.HW_DOMAIN (FINN's)
OPS = [(ShiftbnnPool, ShiftbnnPool_rtl), (ShiftbnnPosThreshold, ShiftbnnPosThreshold_rtl)]

for generic, rtl in OPS:
    add_op_to_domain(GENERIC_DOMAIN, generic)
    add_op_to_domain(GENERIC_DOMAIN + ".rtl", rtl)


def specialize(model):
    """Every generic shiftbnn op of ``model`` as its RTL variant (after FINN's conversion to HW layers;
    FINN's SpecializeLayers knows only its own variants)."""
    for node in model.graph.node:
        if node.domain == GENERIC_DOMAIN and any(node.op_type == g.__name__ for g, _ in OPS):
            node.op_type += "_rtl"
            node.domain = GENERIC_DOMAIN + ".rtl"
    return model
