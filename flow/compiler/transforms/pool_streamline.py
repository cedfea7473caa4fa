"""FINN's streamlining once more after the pools became ``ShiftbnnPool`` nodes (transforms/pools.py): the
scales the pools held back, the NCHW <-> NHWC transposes around them moved on and cancelled, per-channel
scales and signs between a pool and the next threshold (transforms/channel_ops_layout.py,
transforms/sign_into_weights.py) out of the transposes' way."""

from __future__ import annotations

from finn.transformation.streamline.absorb import (
    AbsorbConsecutiveTransposes,
    AbsorbTransposeIntoFlatten,
    AbsorbTransposeIntoMultiThreshold,
)
from finn.transformation.streamline.reorder import MoveAddPastMatMul, MoveTransposePastFork, MoveTransposePastJoinAdd
from qonnx.core.modelwrapper import ModelWrapper

from flow.compiler.transforms.channel_ops_layout import MoveNchwTransposePastChannelOps
from flow.compiler.transforms.fast_streamline import STREAMLINE_SETTLE, FastComposed, finn_streamline_transformations
from flow.compiler.transforms.pools import POOL_OP, MoveChannelLinearPastUnitFlatten, MoveLinearPastPool
from flow.compiler.transforms.sign_into_weights import SignIntoMatMulWeights


def streamline_pools(model: ModelWrapper, layout_changed: bool = False) -> ModelWrapper:
    """FINN's streamlining once more where pools held scales back (``MoveLinearPastPool`` first), and the
    NCHW <-> NHWC transposes around the pools (or after a channels-last input, ``layout_changed``)
    moved on and absorbed as FINN does around its MaxPoolNHWC."""
    if not model.get_nodes_by_op_type(POOL_OP) and not layout_changed:
        return model
    passes = [
        MoveLinearPastPool(),
        *finn_streamline_transformations(),
        MoveTransposePastFork(),
        MoveTransposePastJoinAdd(),
        MoveNchwTransposePastChannelOps(),  # a per-channel scale / bias on the way to the threshold
        SignIntoMatMulWeights(),  # a BatchNorm's sign left after a pool: into the product's weights
        AbsorbConsecutiveTransposes(),
        AbsorbTransposeIntoMultiThreshold(),
        AbsorbTransposeIntoFlatten(),
        MoveChannelLinearPastUnitFlatten(),  # a per-channel scale or bias of a 1x1 map past the flatten ...
        MoveAddPastMatMul(),  # ... and its bias past the next layer's product: (x + c) W = x W + c W
    ]
    return model.transform(FastComposed(passes, STREAMLINE_SETTLE, repeat=True))
