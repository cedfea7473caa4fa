"""Per-channel scales and biases between an NHWC block and an NCHW threshold move to channels-last.

XNOR-Net's block order with an average pool, ``conv -> avg pool -> BatchNorm -> sign``, streamlines into

    ... -> ShiftbnnPool (NHWC) -> Transpose(0, 3, 1, 2) -> Mul(per-channel) -> MultiThreshold (NCHW)
        -> Transpose(0, 2, 3, 1) -> Im2Col ...

(a BatchNorm scale of either sign leaves a per-channel +-1 ``Mul`` that FINN cannot absorb into the
increasing thresholds). FINN moves a transpose past a MultiThreshold (``AbsorbTransposeIntoMultiThreshold``)
and cancels two inverse transposes (``AbsorbConsecutiveTransposes``), but its ``MoveTransposePastScalarMul``
takes only scalars, so the transpose stops at the Mul and the pair survives as a real reorder of the stream
(FINN's ``InnerShuffle`` / ``OuterShuffle``). ``MoveNchwTransposePastChannelOps`` rewrites

    Transpose(0, 3, 1, 2) -> Mul | Add (c: per channel)
    ==>  Mul | Add (c moved to the last axis) -> Transpose(0, 3, 1, 2)

which is exact (an elementwise op with a per-channel constant commutes with any layout change that moves
the constant with the channels). A scalar is left to FINN (``MoveScalarLinearPastInvariants`` moves it
the other way, past the transpose). Only NHWC -> NCHW transposes move: the way down the graph is the way
to their inverse; the NCHW -> NHWC input transpose of ``ChannelsLastAtInput`` stays where it is.
FINN's ``MoveTransposePastEltwise`` does the same for every transpose, so it would undo that one.
"""

from __future__ import annotations

from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation

from flow.compiler.transforms.pools import NHWC_TO_NCHW, channel_vector

CHANNEL_OPS = ("Mul", "Add")


def _perm(node) -> list[int]:
    return next((list(a.ints) for a in node.attribute if a.name == "perm"), [])


def _movable(model: ModelWrapper, transpose, op) -> bool:
    """``op`` is the sole consumer of the NHWC -> NCHW ``transpose``, with a per-channel constant."""
    if (
        op is None
        or op.op_type not in CHANNEL_OPS
        or model.is_fork_node(transpose)
        or op.input[0] != transpose.output[0]
    ):
        return False
    const = model.get_initializer(op.input[1])
    shape = model.get_tensor_shape(transpose.output[0])
    if const is None or const.size < 2 or shape is None:
        return False
    return channel_vector(model, const, shape[1], axis=1) is not None


class MoveNchwTransposePastChannelOps(Transformation):
    """See the module docstring."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for transpose in model.get_nodes_by_op_type("Transpose"):
            if _perm(transpose) != NHWC_TO_NCHW:
                continue
            op = model.find_consumer(transpose.output[0])
            if not _movable(model, transpose, op):
                continue
            nhwc, nchw = model.get_tensor_shape(transpose.input[0]), model.get_tensor_shape(transpose.output[0])
            const = model.get_initializer(op.input[1])
            vec = channel_vector(model, const, nchw[1], axis=1)
            name = model.make_new_valueinfo_name()  # the constant may be shared: a new initializer
            model.set_initializer(name, vec.reshape(1, 1, 1, -1).astype(const.dtype))
            op.input[1] = name
            moved, out = model.make_new_valueinfo_name(), op.output[0]
            dt = model.get_tensor_datatype(out)
            op.input[0], op.output[0] = transpose.input[0], moved
            model.set_tensor_shape(moved, nhwc)
            model.set_tensor_datatype(moved, dt)
            graph = model.graph
            graph.node.remove(transpose)
            graph.node.insert(
                list(graph.node).index(op) + 1, helper.make_node("Transpose", [moved], [out], perm=NHWC_TO_NCHW)
            )
            return model, True
        return model, False
