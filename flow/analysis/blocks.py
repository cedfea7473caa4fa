"""One row per block of the RTL graph (the build report's per-block table): our cycle model
(flow/analysis/cycles.py), our resource model (flow/analysis/cost.py), the folding and whether it
can unfold further; and which block each layer of the folded FINN graph became, so that FINN's
per-layer estimates can stand beside the block that implements the layer."""

from __future__ import annotations

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.analysis.cost import block_of
from flow.analysis.cycles import block_cycles
from flow.analysis.folding_steps import FOLD_ATTRS, fold_bound
from flow.core.hw_graph import HW_DOMAIN, generic_op_type


def folding(node) -> dict:
    """``{"folding": "PE 2/256, SIMD 112/784", "can_unfold": True}`` of a foldable node (ShiftbnnPool
    too: its PE of its channels); ``{}`` for FIFOs, width converters and other fixed blocks."""
    kind = generic_op_type(node.op_type)
    if not node.domain.startswith(HW_DOMAIN) or kind not in FOLD_ATTRS:
        return {}
    inst = getCustomOp(node)
    parts, more = [], False
    for attr in dict.fromkeys(FOLD_ATTRS[kind][:2]):  # SIMD, PE (once each)
        current, bound = int(inst.get_nodeattr(attr)), fold_bound(inst, kind, attr)
        parts.append(f"{attr} {current}/{bound}")
        more = more or current < bound
    return {"folding": ", ".join(parts), "can_unfold": more}


def block_rows(rtl_model: ModelWrapper, part: str) -> list[dict]:
    """Every block in stream order: name, op type, modelled cycles per frame, LUT and BRAM36, folding."""
    rows = []
    for node in rtl_model.graph.node:
        block = block_of(rtl_model, node, part)  # the resource model the search and the fit check use
        lut, bram = block.lut, block.bram36
        row = {"name": node.name, "op_type": node.op_type, "cycles": int(block_cycles(rtl_model, node))}
        rows.append({**row, "lut": round(lut), "bram36": round(bram, 2), **folding(node)})
    return rows


def layer_blocks(folded: ModelWrapper, rtl_model: ModelWrapper) -> dict[str, str]:
    """Folded-graph node name -> the RTL block that implements it: the block of the same name, else
    the block producing the first tensor downstream of the node's output that the RTL graph still has
    (a sliding window fused into the max pool after it, an add fused with its clamp). Nodes whose
    stream ends without reaching such a tensor are left out."""
    producer = {t: n.name for n in rtl_model.graph.node for t in n.output}
    names = {n.name for n in rtl_model.graph.node}
    owner = {}
    for node in folded.graph.node:
        if node.name in names:
            owner[node.name] = node.name
            continue
        tensor = node.output[0]
        for _ in range(len(folded.graph.node)):
            if tensor in producer:
                owner[node.name] = producer[tensor]
                break
            consumers = folded.find_consumers(tensor) or []
            if not consumers:
                break
            tensor = consumers[0].output[0]
    return owner
