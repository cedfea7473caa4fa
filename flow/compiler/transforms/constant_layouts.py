"""Every constant operand of an elementwise op annotated with the data layout of the tensor it meets.

FINN's absorptions find a constant's channel axis from its layout annotation and, without one, guess it
from the rank (``AbsorbAddIntoMultiThreshold``: rank 4 is NCHW). A constant that a transformation makes
anew (FINN's MoveAddPastMul and CollapseRepeatedAdd, our pool and padding rewrites) carries none, so on an
NHWC map a position-dependent (1, H, 1, 1) offset reads as H per-channel ones (fuzz seed 31337 net 7).
``AnnotateConstantLayouts`` runs in the settle step after every transformation that changed the graph
(fast_streamline.py): ONNX broadcasting aligns trailing axes, so a rank-r constant's axes are the last r
of the other operand's layout, whatever made the constant. A constant that two ops share on tensors of
different layouts gets a private copy per layout, so each annotation is true.
"""

from __future__ import annotations

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation
from qonnx.transformation.infer_data_layouts import InferDataLayouts

# ops whose constant operand broadcasts against the streamed one (numpy rules)
ELEMENTWISE = {"Add", "Sub", "Mul", "Div"}


def constant_operand(model: ModelWrapper, node) -> tuple[int, str] | None:
    """(input index, name) of the one non-scalar constant of an elementwise ``node`` with a streamed other
    operand, else None. A first operand only of the streamed rank: InferDataLayouts gives the output the
    first input's layout, which must keep the output's rank."""
    if node.op_type not in ELEMENTWISE or len(node.input) != 2:
        return None
    consts = [model.get_initializer(i) for i in node.input]
    if (consts[0] is None) == (consts[1] is None):
        return None
    index = 0 if consts[0] is not None else 1
    const, streamed = np.asarray(consts[index]), model.get_tensor_shape(node.input[1 - index])
    if const.size == 1 or (index == 0 and (streamed is None or const.ndim != len(streamed))):
        return None
    return index, node.input[index]


def broadcast_layout(model: ModelWrapper, streamed: str, const_rank: int) -> list[str] | None:
    """The layout of a rank-``const_rank`` constant broadcast against ``streamed``: its trailing axes."""
    layout, shape = model.get_tensor_layout(streamed), model.get_tensor_shape(streamed)
    if not layout or shape is None or len(layout) != len(shape) or const_rank > len(layout):
        return None
    return list(layout[len(layout) - const_rank :])


class AnnotateConstantLayouts(Transformation):
    """Layouts of the streamed tensors inferred (qonnx ``InferDataLayouts``), then each non-scalar
    constant operand of an Add / Sub / Mul / Div annotated with its broadcast layout (module docstring)."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        model = model.transform(InferDataLayouts(), make_deepcopy=False, cleanup=False)
        given: dict[str, list[str]] = {}  # constant -> the layout this pass gave it
        for node in model.graph.node:
            found = constant_operand(model, node)
            if found is None:
                continue
            index, name = found
            const = model.get_initializer(name)
            layout = broadcast_layout(model, node.input[1 - index], const.ndim)
            if layout is None:
                continue
            if name in given and given[name] != layout:  # shared by maps of other layouts: a copy each
                name = model.make_new_valueinfo_name()
                model.set_initializer(name, const)
                node.input[index] = name
            given[name] = layout
            if model.get_tensor_layout(name) != layout:
                model.set_tensor_layout(name, layout)
        return model, False
