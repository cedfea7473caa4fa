"""Absorb a per-channel Mul with negative factors into a binary MultiThreshold and the next XNOR layer.

FINN's ``AbsorbMulIntoMultiThreshold`` only takes positive factors; a negative factor normally goes
backwards into the previous layer's weights (``FactorOutMulSignMagnitude`` + ``Absorb1BitMul*``). The
head of Bi-Real CNV has no such layer: ``GlobalAccPool -> Mul(a) -> MultiThreshold -> XnorPopcount``,
where ``a_j = gamma_j / (sigma_j * pixels)`` comes from BatchNorm1d (gamma_j may be negative) and the
pooling's 1/pixels. For an integer input ``x_j`` and threshold ``T_j`` the binary output is

    b_j = [a_j * x_j >= T_j]
        = [x_j >= ceil(T_j / a_j)]                          if a_j > 0
        = [x_j <= floor(T_j / a_j)]
        = 1 - [x_j >= floor(T_j / a_j) + 1]                 if a_j < 0
        = [0 >= T_j]   (a constant: threshold min(x) or max(x) + 1)   if a_j = 0

so the Mul disappears into integer thresholds ``T'_j`` and, for ``a_j < 0``, a complemented output
``1 - b'_j``. The complement goes into the consumer ``XnorPopcountMatMul``: its BINARY input bit
``b`` meets weight bit ``w`` as ``xnor(b, w)``, and ``xnor(1 - b, w) = xnor(b, 1 - w)``, so row ``j``
of the weights becomes ``1 - W[j, :]``. The result is bit-exact for every integer input.

Applies to ``Mul(x, a) -> MultiThreshold(1 threshold/channel, BINARY out, scale 1, bias 0) ->
XnorPopcountMatMul`` with an integer ``x`` of shape (N, C), ``a`` scalar or C values, the Mul and the
MultiThreshold each with a single consumer.
"""

from __future__ import annotations

import numpy as np
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation


def absorbed_thresholds(a: np.ndarray, thresholds: np.ndarray, dt: DataType) -> tuple[np.ndarray, np.ndarray]:
    """Integer thresholds on ``x`` and the channels whose output is complemented (see module docstring)."""
    q = thresholds.astype(np.float64) / np.where(a == 0, 1.0, a.astype(np.float64))
    t_new = np.where(a > 0, np.ceil(q), np.floor(q) + 1)
    constant = np.where(thresholds <= 0, dt.min(), dt.max() + 1)
    t_new = np.where(a == 0, constant, t_new)
    return t_new.astype(np.float32), a < 0


class AbsorbSignedMulIntoBinaryThreshold(Transformation):
    """See the module docstring."""

    def apply(self, model: ModelWrapper):
        for mul in model.graph.node:
            if mul.op_type != "Mul" or model.is_fork_node(mul) or model.is_join_node(mul):
                continue
            a = model.get_initializer(mul.input[1])
            x_dt = model.get_tensor_datatype(mul.input[0])
            x_shape = model.get_tensor_shape(mul.input[0])
            if a is None or not x_dt.is_integer() or len(x_shape) != 2:
                continue
            mt = model.find_consumer(mul.output[0])
            if mt is None or mt.op_type != "MultiThreshold" or model.is_fork_node(mt):
                continue
            inst = getCustomOp(mt)
            binary = inst.get_nodeattr("out_dtype") == "BINARY"
            if not binary or inst.get_nodeattr("out_scale") != 1.0 or inst.get_nodeattr("out_bias") != 0.0:
                continue
            thresholds = model.get_initializer(mt.input[1])
            channels = x_shape[1]
            if thresholds is None or thresholds.shape[1] != 1 or a.size not in (1, channels):
                continue
            xnor = model.find_consumer(mt.output[0])
            if xnor is None or xnor.op_type != "XnorPopcountMatMul" or xnor.input[0] != mt.output[0]:
                continue
            weights = model.get_initializer(xnor.input[1])
            if weights is None or weights.shape[0] != channels:
                continue
            a_c = np.broadcast_to(a.astype(np.float64).reshape(-1), (channels,))
            t_c = np.broadcast_to(thresholds.reshape(-1), (channels,))
            t_new, flip = absorbed_thresholds(a_c, t_c, x_dt)
            model.set_initializer(mt.input[1], t_new.reshape(channels, 1))
            model.set_initializer(xnor.input[1], np.where(flip[:, None], 1 - weights, weights).astype(weights.dtype))
            mt.input[0] = mul.input[0]
            model.graph.node.remove(mul)
            return model, True
        return model, False
