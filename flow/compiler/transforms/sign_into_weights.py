"""A per-channel sign (a +-1 ``Mul``) left after a pool goes back into the weights of the product before it.

XNOR-Net's block order ``conv -> pool -> BatchNorm -> sign`` with BatchNorm scales of either sign
streamlines into ``MatMul -> ShiftbnnPool -> Mul(s) -> MultiThreshold`` with ``s_c = +-1``: FINN's
``FactorOutMulSignMagnitude`` splits the sign off the scale and absorbs the magnitude into the
thresholds, but its ``Absorb1BitMulIntoMatMul`` only takes a Mul right after the MatMul, so the pool
keeps the sign in the graph (FINN would map it to an ``ElementwiseMul``). ``SignIntoMatMulWeights``
rewrites

    MatMul(x, W) [-> ShiftbnnPool] -> Mul(s)   ==>   MatMul(x, W diag(s)) [-> ShiftbnnPool']

exactly: ``(x W)_c s_c = (x W diag(s))_c``; a sum pool is linear, ``sum(s x) = s sum(x)`` (its padding
adds 0); a max pool of a negated channel is the negated min, ``max(-x) = -min(x)``, so the pool's
``MinChannels`` flip where ``s_c = -1``. Only a plain ``MatMul`` whose weight type holds the negated
weights (bipolar, a symmetric integer range) takes it: an XNOR popcount does not compute ``x W``.
"""

from __future__ import annotations

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation

from flow.compiler.transforms.pools import POOL_OP, channel_vector


def _sign_vector(model: ModelWrapper, mul, channels: int) -> np.ndarray | None:
    """The per-channel +-1 constant of ``mul`` (channels last), or None."""
    const = model.get_initializer(mul.input[1])
    if const is None or model.get_initializer(mul.input[0]) is not None:
        return None
    vec = channel_vector(model, const, channels, axis=3) if np.ndim(const) == 4 else None
    if vec is None and np.ndim(const) <= 1:
        vec = np.broadcast_to(np.asarray(const, np.float64).reshape(-1), (channels,)).copy()
    if vec is None or vec.shape != (channels,) or not np.all(np.abs(vec) == 1):
        return None
    return vec


def _sole_consumer(model: ModelWrapper, node):
    consumers = model.find_consumers(node.output[0]) or []
    return consumers[0] if len(consumers) == 1 else None


class SignIntoMatMulWeights(Transformation):
    """See the module docstring."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for matmul in model.get_nodes_by_op_type("MatMul"):
            weights = model.get_initializer(matmul.input[1])
            if weights is None or weights.ndim != 2:
                continue
            pool = _sole_consumer(model, matmul)
            mul = _sole_consumer(model, pool) if pool is not None and pool.op_type == POOL_OP else pool
            pool = pool if mul is not pool else None
            if mul is None or mul.op_type != "Mul" or mul.input[0] != (pool or matmul).output[0]:
                continue
            signs = _sign_vector(model, mul, weights.shape[1])
            wdt = model.get_tensor_datatype(matmul.input[1])
            flipped = weights * signs.reshape(1, -1) if signs is not None else None
            if flipped is None or not all(wdt.allowed(v) for v in np.unique(flipped)):
                continue
            if pool is not None and getCustomOp(pool).get_nodeattr("data_layout") != "NHWC":
                continue
            model.set_initializer(matmul.input[1], flipped.astype(weights.dtype))
            if pool is not None and getCustomOp(pool).get_nodeattr("Function") == "max":
                inst = getCustomOp(pool)
                inst.set_nodeattr(
                    "MinChannels", [int(m != (s < 0)) for m, s in zip(inst.min_channels(), signs, strict=True)]
                )
            kept = pool or matmul
            kept.output[0] = mul.output[0]
            model.graph.node.remove(mul)
            return model, True
        return model, False
