"""A matrix product of a bipolar (+-1) vector and integer (e.g. int8) weights in the binary code.

FINN turns a bipolar x bipolar product into an XNOR popcount; a bipolar activation into an int8 layer (a
binary hidden layer before an int8 classifier) stays ``MatMul(x, W)`` with x in {-1, +1}, which the
integer MVAU (int_mvau.sv) does not read: it multiplies integer codes. With x = 2 b - 1 (b the bit the
stream carries):

    x @ W = 2 * (b @ W) - colsum(W)

``BipolarInputAsBinary`` rewrites

    MultiThreshold(BIPOLAR: 2 * count - 1) [-> Flatten / Reshape / Transpose / max pool] -> MatMul(W)
    ==>  MultiThreshold(BINARY: count) [-> the same ops] -> MatMul(W) -> Mul(2) -> Add(-colsum(W))

(a max or min pool commutes with the increasing map b -> 2 b - 1, so it passes the code through too)

and the Mul / Add then go where every scale and bias of a layer goes: into the next thresholds (FINN's
AbsorbAddIntoMultiThreshold / AbsorbMulIntoMultiThreshold) or, before the label select, into the
classifier's integer offsets (border_threshold.py ``IntegerBiasBeforeTopK``: half-integers are k = 2).
"""

from __future__ import annotations

import numpy as np
from onnx import helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation

LAYOUT_OPS = ("Flatten", "Reshape", "Transpose")  # move values, never change them: the code passes through
POOL_OP = "ShiftbnnPool"  # flow/compiler/transforms/pools.py (not imported: pools imports the refusals)


def _passes_code(node) -> bool:
    """A node between the activation and the product that carries the bit b for the value 2 b - 1."""
    if node.op_type == POOL_OP:
        return getCustomOp(node).get_nodeattr("Function") == "max"
    return node.op_type in LAYOUT_OPS


def _bipolar_threshold(model: ModelWrapper, tensor: str):
    """The MultiThreshold making ``tensor`` as 2 * count - 1 for this consumer alone (through layout ops,
    e.g. the Flatten before a classifier), and the tensors on the way; else (None, [])."""
    path = [tensor]
    mt = model.find_producer(tensor)
    while mt is not None and _passes_code(mt) and len(model.find_consumers(path[-1]) or []) == 1:
        path.append(mt.input[0])
        mt = model.find_producer(mt.input[0])
    if mt is None or mt.op_type != "MultiThreshold" or any(len(model.find_consumers(t) or []) != 1 for t in path):
        return None, []
    inst = getCustomOp(mt)
    if inst.get_nodeattr("out_scale") != 2.0 or inst.get_nodeattr("out_bias") != -1.0:
        return None, []
    return mt, path


class BipolarInputAsBinary(Transformation):
    """See the module docstring."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for mm in model.get_nodes_by_op_type("MatMul"):
            w = model.get_initializer(mm.input[1])
            wdt = model.get_tensor_datatype(mm.input[1])
            if w is None or model.get_tensor_datatype(mm.input[0]) != DataType["BIPOLAR"]:
                continue
            if not wdt.is_integer() or wdt in (DataType["BIPOLAR"], DataType["BINARY"]):
                continue
            mt, path = _bipolar_threshold(model, mm.input[0])
            if mt is None:
                continue
            inst = getCustomOp(mt)
            inst.set_nodeattr("out_scale", 1.0)
            inst.set_nodeattr("out_bias", 0.0)
            inst.set_nodeattr("out_dtype", "BINARY")
            for tensor in path:
                model.set_tensor_datatype(tensor, DataType["BINARY"])
            for tensor in reversed(path):  # a pool's types follow its input, from the activation on
                producer = model.find_producer(tensor)
                if producer.op_type == POOL_OP:
                    getCustomOp(producer).infer_node_datatype(model)
            product, doubled = model.make_new_valueinfo_name(), model.make_new_valueinfo_name()
            two, offset = model.make_new_valueinfo_name(), model.make_new_valueinfo_name()
            out = mm.output[0]
            shape = model.get_tensor_shape(out)
            model.set_initializer(two, np.asarray(2.0, dtype=np.float32))
            model.set_initializer(offset, -w.astype(np.float64).sum(axis=0).astype(np.float32))
            mm.output[0] = product
            index = list(model.graph.node).index(mm)
            model.graph.node.insert(index + 1, helper.make_node("Mul", [product, two], [doubled]))
            model.graph.node.insert(index + 2, helper.make_node("Add", [doubled, offset], [out]))
            for name in (product, doubled):
                model.set_tensor_shape(name, shape)
            return model, True
        return model, False
