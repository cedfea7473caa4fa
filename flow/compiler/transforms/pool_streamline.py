"""FINN's streamlining once more after the pool rewrites (flow/compiler/transforms/pools.py), with the
rewrites that pools make necessary: scales moved past pools, the sign of a BatchNorm held back by a
pool (sign_into_product.py), the NCHW <-> NHWC transposes around the pools absorbed."""

from __future__ import annotations

import flow.core.finn_env  # noqa: F401  (must precede finn imports)

# isort: split
from finn.transformation.streamline.absorb import (
    AbsorbConsecutiveTransposes,
    AbsorbTransposeIntoFlatten,
    AbsorbTransposeIntoMultiThreshold,
)
from finn.transformation.streamline.reorder import MoveAddPastMatMul, MoveTransposePastFork, MoveTransposePastJoinAdd
from qonnx.core.modelwrapper import ModelWrapper

from flow.compiler.transforms.border_threshold import AbsorbScaleBeforeOffsetIntoThreshold
from flow.compiler.transforms.fast_streamline import STREAMLINE_SETTLE, FastComposed, finn_streamline_transformations
from flow.compiler.transforms.pools import POOL_OP, MoveChannelLinearPastUnitFlatten, MoveLinearPastPool
from flow.compiler.transforms.sign_into_product import AbsorbChannelSignIntoProduct


def streamline_pools(model: ModelWrapper, layout_changed: bool = False) -> ModelWrapper:
    """FINN's streamlining once more where pools held scales back (``MoveLinearPastPool`` first), and the
    NCHW <-> NHWC transposes around the pools (or after a channels-last input, ``layout_changed``)
    moved on and absorbed as FINN does around its MaxPoolNHWC."""
    if not model.get_nodes_by_op_type(POOL_OP) and not layout_changed:
        return model
    passes = [
        MoveLinearPastPool(),
        *finn_streamline_transformations(),
        AbsorbScaleBeforeOffsetIntoThreshold(),  # the scale FINN leaves before a position-dependent offset
        AbsorbChannelSignIntoProduct(),  # a BatchNorm's sign held back by a sum pool (XNOR-Net's order)
        MoveTransposePastFork(),
        MoveTransposePastJoinAdd(),
        AbsorbConsecutiveTransposes(),
        AbsorbTransposeIntoMultiThreshold(),
        AbsorbTransposeIntoFlatten(),
        MoveChannelLinearPastUnitFlatten(),  # a per-channel scale or bias of a 1x1 map past the flatten ...
        MoveAddPastMatMul(),  # ... and its bias past the next layer's product: (x + c) W = x W + c W
    ]
    return model.transform(FastComposed(passes, STREAMLINE_SETTLE, repeat=True))
