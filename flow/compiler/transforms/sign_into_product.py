"""A per-channel Mul with negative factors, separated from its layer's product by a pool, absorbed into
that product's weights.

FINN absorbs the sign of a BatchNorm scale into the binary weights of the conv right before it
(``FactorOutMulSignMagnitude`` + ``Absorb1BitMulIntoConv``); XNOR-Net's order puts a pool between
them (conv -> pool -> BatchNorm -> sign). A max pool moves past the threshold (pool_order.py); an
average (sum) pool does not, so the sign ``s_c = -1`` stays as a Mul in front of the threshold, which
FINN's ``AbsorbMulIntoMultiThreshold`` refuses (and the hardware cannot run it on a popcount stream).

Everything between the product and the Mul is linear per channel, so channel ``c`` of the whole chain
can be negated at its start instead of its end. An XNOR popcount ``p_c`` over K inputs negates by
complementing its weight column: ``xnor(x, 1 - w) = 1 - xnor(x, w)``, so ``p'_c = K - p_c`` and
``-p_c = p'_c - K`` (an integer Add right after the product); an integer-weight MatMul negates by
negating its column. Then, channel by channel, ``-y`` passes each node of the chain:

    sum pool:      sum(-y) = -sum(y)   (zero padding too: a pad adds 0 either way)
    max pool:      max(-y) = -min(y)   (the channel pools with the min: ``MinChannels`` toggled)
    Mul(m):        m (-y) = -(m y)     (unchanged)
    Add(b):        -y + (-b) = -(y + b) (b_c negated; a position-dependent b[y, x, c] likewise)
    Transpose:     moves the channel axis, nothing else

and the Mul's factor becomes ``|s_c|``. Bit-exact for every input (integer arithmetic before the first
float constant; the float steps after it see the same values with the sign moved).
"""

from __future__ import annotations

import numpy as np
from onnx import helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.util.basic import get_by_name

from flow.compiler.transforms.pools import POOL_OP, channel_vector

CHAIN_OPS = (POOL_OP, "Transpose", "Mul", "Add")


def _streamed_const(model: ModelWrapper, node) -> tuple[str, np.ndarray | None]:
    """(streamed input, constant operand) of a Mul / Add with one constant input."""
    a, b = node.input[0], node.input[1]
    if model.get_initializer(a) is not None:
        a, b = b, a
    return a, model.get_initializer(b)


def _is_product(model: ModelWrapper, node) -> bool:
    if node.op_type not in ("XnorPopcountMatMul", "MatMul"):
        return False
    w = model.get_initializer(node.input[1])
    return w is not None and w.ndim == 2 and model.get_tensor_datatype(node.input[1]).is_integer()


def chain_to_product(model: ModelWrapper, tensor: str) -> tuple[object, list] | None:
    """(product, the chain's nodes from the product on) ending in ``tensor``, each tensor on the way
    read by its successor alone; None where another node is in the way."""
    chain = []
    while True:
        node = model.find_producer(tensor)
        if node is None or len(model.find_consumers(tensor) or []) != 1:
            return None
        if _is_product(model, node):
            return node, chain[::-1]
        linear = node.op_type in ("Mul", "Add")
        if node.op_type not in CHAIN_OPS or (linear and _streamed_const(model, node)[1] is None):
            return None
        chain.append(node)
        tensor = _streamed_const(model, node)[0] if node.op_type in ("Mul", "Add") else node.input[0]


def _axis_after(model: ModelWrapper, node, axis: int) -> int:
    if node.op_type == "Transpose":
        perm = get_by_name(node.attribute, "perm")
        rank = len(model.get_tensor_shape(node.input[0]))
        return list(perm.ints).index(axis) if perm is not None else rank - 1 - axis
    return axis


def _vector(model: ModelWrapper, const: np.ndarray, tensor: str, axis: int) -> np.ndarray | None:
    rank = len(model.get_tensor_shape(tensor))
    channels = model.get_tensor_shape(tensor)[axis]
    return channel_vector(model, const, channels, axis + 4 - rank) if rank <= 4 else None


def _per_channel(vec: np.ndarray, rank: int, axis: int) -> np.ndarray:
    """``vec`` broadcast along ``axis``; along the last one as a 1D vector (FINN's absorptions read a
    rank-4 constant as NCHW)."""
    if axis == rank - 1:
        return vec.astype(np.float32)
    shape = [1] * rank
    shape[axis] = len(vec)
    return vec.reshape(shape).astype(np.float32)


def _negated(model: ModelWrapper, add, axis: int, flip: np.ndarray) -> np.ndarray | None:
    """The Add's constant with the channels ``flip`` (along ``axis`` of its output) negated: a per-channel
    one as ``_per_channel``, a position-dependent one (the offset a sum pool made of a bias or a border
    correction, pools.py) in full; None where it broadcasts to neither."""
    const = _streamed_const(model, add)[1]
    shape = model.get_tensor_shape(add.output[0])
    b = _vector(model, const, add.output[0], axis)
    if b is not None:
        return _per_channel(np.where(flip, -b, b), len(shape), axis)
    if const.ndim != len(shape) or any(d not in (1, n) for d, n in zip(const.shape, shape, strict=True)):
        return None
    along = [1] * len(shape)
    along[axis] = len(flip)
    return np.where(flip.reshape(along), -const, const).astype(np.float32)


def negate_product_channels(model: ModelWrapper, product, flip: np.ndarray) -> None:
    """Negate the product's output channels ``flip`` (module docstring): complemented XNOR columns and an
    Add of -K on them, or negated integer columns."""
    w = model.get_initializer(product.input[1])
    if product.op_type == "XnorPopcountMatMul":
        model.set_initializer(product.input[1], np.where(flip[None, :], 1 - w, w).astype(w.dtype))
        out, raw, offset = product.output[0], model.make_new_valueinfo_name(), model.make_new_valueinfo_name()
        model.set_tensor_shape(raw, model.get_tensor_shape(out))
        model.set_tensor_datatype(raw, model.get_tensor_datatype(out))
        model.set_initializer(offset, (-w.shape[0] * flip).astype(np.float32))
        product.output[0] = raw
        index = list(model.graph.node).index(product)
        model.graph.node.insert(index + 1, helper.make_node("Add", [raw, offset], [out]))
        model.set_tensor_datatype(out, DataType["FLOAT32"])  # InferDataTypes sets the integer type again
    else:
        negated = np.where(flip[None, :], -w, w).astype(w.dtype)
        model.set_initializer(product.input[1], negated)
        dt = model.get_tensor_datatype(product.input[1])
        if not (dt.allowed(negated.min()) and dt.allowed(negated.max())):  # -(-2^(b-1)) needs one more bit
            model.set_tensor_datatype(product.input[1], DataType[f"INT{dt.bitwidth() + 1}"])


class AbsorbChannelSignIntoProduct(Transformation):
    """See the module docstring."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for mul in model.get_nodes_by_op_type("Mul"):
            x, s = _streamed_const(model, mul)
            if s is None or not (s < 0).any() or model.get_initializer(x) is not None:
                continue
            found = chain_to_product(model, x)
            if found is None:
                continue
            product, chain = found
            axis = len(model.get_tensor_shape(product.output[0])) - 1
            plan = []  # (node, channel axis at its input)
            for node in chain:
                plan.append((node, axis))
                axis = _axis_after(model, node, axis)
            sign = _vector(model, s, x, axis)
            if sign is None or any(
                n.op_type == "Mul" and _vector(model, _streamed_const(model, n)[1], n.output[0], a) is None
                for n, a in plan
            ):
                continue
            if any(n.op_type == "Add" and _negated(model, n, a, sign < 0) is None for n, a in plan):
                continue
            flip = sign < 0
            for node, a in plan:
                if node.op_type == "Add":
                    name = next(i for i in node.input if model.get_initializer(i) is not None)
                    model.set_initializer(name, _negated(model, node, a, flip))
                elif node.op_type == POOL_OP and getCustomOp(node).get_nodeattr("Function") == "max":
                    inst = getCustomOp(node)
                    toggled = [int(m != f) for m, f in zip(inst.min_channels(), flip, strict=True)]
                    inst.set_nodeattr("MinChannels", toggled)
            negate_product_channels(model, product, flip)
            name = next(i for i in mul.input if model.get_initializer(i) is not None)
            model.set_initializer(name, np.abs(s).astype(np.float32))
            return model.transform(InferDataTypes()), True
        return model, False
