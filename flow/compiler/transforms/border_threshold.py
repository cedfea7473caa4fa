"""The zero-padding correction into position-indexed thresholds: ``Add(C[y, x, c]) -> MultiThreshold``
on an integer map becomes one ``ShiftbnnPosThreshold`` (flow/core/ops/pos_threshold.py).

``C`` is the border correction ``AbsorbBipolarPadIntoIm2Col`` adds after a padded XNOR layer
(transforms/bipolar_pad.py): one value per border class and channel (``border_classes``). For an
integer accumulator ``a`` and a threshold ``T``

    a + C[k, c] >= T   <=>   a >= ceil(T - C[k, c])

so with up to ``MAX_EMBEDDED`` thresholds per channel the pair becomes position-indexed thresholds
(the MVAU before it then runs without activation: FINN's InferBinaryMatrixVectorActivation sees no
MultiThreshold after it). A multi-level re-quantization (Bi-Real's INT8 after BatchNorm) would need
classes x C x 255 of them; there the Add alone becomes the offset mode ``s * a + s * C`` (s = 2 when
C holds halves, so the sum stays an integer) and the MultiThreshold keeps per-channel thresholds
``s * T``, which FINN maps to its Thresholding. Runs before FINN's conversion to HW layers.
"""

from __future__ import annotations

import numpy as np
from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation

from flow.compiler.refusals import refusal
from flow.core.graph_edit import replace_nodes
from flow.core.hw_graph import HW_DOMAIN, MAX_EMBEDDED, int_type
from hw.golden.pos_threshold import border_classes

OP = "ShiftbnnPosThreshold"


def _border_add(model: ModelWrapper, node):
    """(streamed input, constant (H, W, C)) of an Add of a position-dependent constant, else None."""
    if node.op_type != "Add" or len(node.input) != 2:
        return None
    consts = [model.get_initializer(i) for i in node.input]
    if (consts[0] is None) == (consts[1] is None):
        return None
    x, const = (node.input[0], consts[1]) if consts[1] is not None else (node.input[1], consts[0])
    shape = model.get_tensor_shape(x)
    if const.ndim != 4 or shape is None or len(shape) != 4 or list(const.shape) != list(shape):
        return None
    if not model.get_tensor_datatype(x).is_integer():
        return None
    return x, const[0]


def _threshold_consumer(model: ModelWrapper, add):
    """The add's single MultiThreshold consumer with unit output scale, or None."""
    mt = model.find_consumer(add.output[0])
    if mt is None or mt.op_type != "MultiThreshold" or model.is_fork_node(add):
        return None
    return mt if getCustomOp(mt).get_nodeattr("out_scale") == 1.0 else None


def _make_node(inp, table_name, out, shape, rows, cols, steps, idt, odt, act_val=0, scale=1):
    _, h, w, c = shape
    return helper.make_node(
        OP,
        [inp, table_name],
        [out],
        domain=HW_DOMAIN,
        backend="fpgadataflow",
        NumChannels=int(c),
        PE=1,
        ImgDim=[int(h), int(w)],
        RowBorders=[int(r) for r in rows],
        ColBorders=[int(q) for q in cols],
        numSteps=int(steps),
        ActVal=int(act_val),
        AccScale=int(scale),
        inputDataType=idt.name,
        outputDataType=odt.name,
    )


class AbsorbBorderAddIntoThreshold(Transformation):
    """See the module docstring."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for add in model.graph.node:
            found = _border_add(model, add)
            mt = _threshold_consumer(model, add) if found is not None else None
            if mt is None:
                continue
            x, const = found
            rows, cols, table = border_classes(const)
            T = model.get_initializer(mt.input[1])
            channels = const.shape[-1]
            T = np.broadcast_to(T, (channels, T.shape[1])).astype(np.float64)
            idt = model.get_tensor_datatype(x)
            shape = model.get_tensor_shape(x)
            name = model.make_new_valueinfo_name()
            if T.shape[1] <= MAX_EMBEDDED:
                # a + C >= T  <=>  a >= ceil(T - C); clipped to the input's range + 1 (same comparisons)
                pos = np.ceil(T[None] - table.astype(np.float64)[:, :, None])
                pos = np.clip(pos, idt.min(), idt.max() + 1)
                model.set_initializer(name, pos.astype(np.float32))
                inst = getCustomOp(mt)
                odt = model.get_tensor_datatype(mt.output[0])
                node = _make_node(
                    x, name, mt.output[0], shape, rows, cols, T.shape[1], idt, odt, inst.get_nodeattr("out_bias")
                )
                drop = [add, mt]
            else:
                scale = 1 if np.array_equal(table, np.round(table)) else 2
                if not np.array_equal(scale * table, np.round(scale * table)):
                    continue
                offsets = np.rint(scale * table)
                odt = int_type(scale * idt.min() + offsets.min(), scale * idt.max() + offsets.max())
                model.set_initializer(name, offsets.astype(np.float32))
                model.set_initializer(mt.input[1], (scale * T).astype(np.float32))
                node = _make_node(x, name, add.output[0], shape, rows, cols, 0, idt, odt, scale=scale)
                model.set_tensor_datatype(add.output[0], odt)
                drop = [add]
            replace_nodes(model.graph, drop, [node])
            return model, True
        return model, False


def _logit_affine(model: ModelWrapper, topk):
    """The Mul / Add nodes between an integer tensor and TopK, composed to ``a * x + b`` per class:
    (x, a, b, nodes), or None when the input of TopK is no such chain."""
    nodes, tensor = [], topk.input[0]
    while True:
        node = model.find_producer(tensor)
        if node is None or node.op_type not in ("Mul", "Add") or model.is_fork_node(node):
            break
        const = model.get_initializer(node.input[1])
        if const is None or model.get_initializer(node.input[0]) is not None:
            break
        nodes.insert(0, node)
        tensor = node.input[0]
    shape = model.get_tensor_shape(tensor)
    if not nodes or shape is None or len(shape) != 2 or not model.get_tensor_datatype(tensor).is_integer():
        return None
    a, b = np.ones(shape[1]), np.zeros(shape[1])
    for node in nodes:
        const = np.broadcast_to(model.get_initializer(node.input[1]).astype(np.float64).reshape(-1), (shape[1],))
        if node.op_type == "Mul":
            a, b = a * const, b * const
        else:
            b = b + const
    return tensor, a, b, nodes


class IntegerBiasBeforeTopK(Transformation):
    """The classifier's scale and bias before TopK, ``a * x + b`` on an integer accumulator ``x``: with
    one positive ``a`` and ``b / a`` integers (k = 1) or halves (k = 2, an XNOR popcount counts half the
    +-1 dot), ``x -> ShiftbnnPosThreshold(offset mode: k * x + k * b / a, one class) -> Mul(a / k) ->
    TopK``; the positive Mul then goes into TopK. That is a bias quantized in the accumulator's scale
    (Brevitas' Int32Bias). Any other scale or bias changes the label by amounts no integer hardware
    computes exactly: refused (flow/compiler/refusals.py)."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for topk in model.get_nodes_by_op_type("TopK"):
            found = _logit_affine(model, topk)
            if found is None:
                continue
            x, a, b, nodes = found
            if not np.all(a == a[0]):
                raise refusal(model, nodes[0], "channel-scale-logits")
            if a[0] <= 0:
                raise refusal(model, nodes[0], "negative-scale-logits")
            if not np.any(b):
                continue  # a positive scalar: FINN's AbsorbScalarMulAddIntoTopK
            units = b / a[0]
            k = next((k for k in (1, 2) if np.allclose(k * units, np.rint(k * units), rtol=0, atol=1e-4)), None)
            if k is None:
                add = next(n for n in nodes if n.op_type == "Add")
                raise refusal(model, add, "float-bias-logits")
            self._rewrite(model, topk, x, np.rint(k * units), k, a[0], nodes)
            return model, True
        return model, False

    @staticmethod
    def _rewrite(model: ModelWrapper, topk, x: str, offsets: np.ndarray, k: int, scale: float, nodes) -> None:
        idt = model.get_tensor_datatype(x)
        odt = int_type(k * idt.min() + offsets.min(), k * idt.max() + offsets.max())
        table, out, factor = (model.make_new_valueinfo_name() for _ in range(3))
        model.set_initializer(table, offsets[None].astype(np.float32))
        model.set_initializer(factor, np.asarray(scale / k, dtype=np.float32))
        channels = len(offsets)
        node = _make_node(x, table, out, [1, 1, 1, channels], (0, 0), (0, 0), 0, idt, odt, scale=k)
        node.attribute.append(helper.make_attribute("Flat", 1))
        model.set_tensor_shape(out, [1, channels])
        model.set_tensor_datatype(out, odt)
        mul = helper.make_node("Mul", [out, factor], [topk.input[0]])
        replace_nodes(model.graph, nodes, [node, mul])
