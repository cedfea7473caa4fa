"""Streamlining of integer residual graphs (Bi-Real CNV) after FINN's own ``step_streamline``.

FINN's ``Streamline`` handles a chain; on a residual graph it leaves, per block,

    q -> Transpose -> Mul(s) -> fork -> [sign branch] -> ... -> Mul(s) -> Add -> MultiThreshold

(``q`` the INT8 code of the shared residual quantizer with scale ``s``), plus the bipolar ``Pad`` and
the pools (``ShiftbnnPool``, transforms/pools.py). Every residual tensor carries the same
scalar ``s``, so ``s*a + s*b = s*(a + b)``: FINN's ``MoveMulPastFork`` copies the Mul into both
branches, ``MoveMulPastJoinAdd`` moves the two identical Muls past the Add, and
``AbsorbMulIntoMultiThreshold`` divides the next thresholds by ``s`` (``sign(s*x - t)`` becomes
``x >= ceil(t/s)``; the sum's re-quantization ``Q(s*(a+b))`` becomes the unit staircase
``a + b >= i - 127``, i.e. a clamp to INT8). The Transposes then meet and cancel (FINN's
``MoveTransposePastFork`` / ``MoveTransposePastJoinAdd`` / ``AbsorbConsecutiveTransposes`` /
``AbsorbTransposeIntoMultiThreshold`` / ``AbsorbTransposeIntoFlatten``; ``MoveLinearPastPool`` takes
the scales past the pools), leaving the graph in NHWC. The classifier of an integer head (the hardware
ResNets) keeps its scalar factors (1/pixels, weight scale, LogitScale) in front of TopK:
``MoveScalarMulPastMatMul`` moves them past its MatMul and ``AbsorbScalarMulAddIntoTopK`` drops the
positive product (argmax is unchanged).

The head's average (a sum pool and its scalar ``1/pixels``) merges with the BatchNorm1d scale and is
absorbed into the head's binary thresholds. What FINN lacks is ours: ``AbsorbBipolarPadIntoIm2Col``
(the bipolar -1 border, and the correction of a zero border), ``MoveLinearPastPool`` and
``AbsorbSignedMulIntoBinaryThreshold`` (the BatchNorm1d scale may be negative).
"""

from __future__ import annotations

from finn.transformation.streamline.absorb import (
    AbsorbConsecutiveTransposes,
    AbsorbMulIntoMultiThreshold,
    AbsorbScalarMulAddIntoTopK,
    AbsorbTransposeIntoFlatten,
    AbsorbTransposeIntoMultiThreshold,
)
from finn.transformation.streamline.collapse_repeated import CollapseRepeatedMul
from finn.transformation.streamline.reorder import (
    MoveMulPastFork,
    MoveMulPastJoinAdd,
    MoveScalarLinearPastInvariants,
    MoveScalarMulPastMatMul,
    MoveTransposePastFork,
    MoveTransposePastJoinAdd,
)
from finn.transformation.streamline.round_thresholds import RoundAndClipThresholds
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation
from qonnx.transformation.infer_data_layouts import InferDataLayouts
from qonnx.transformation.infer_datatypes import InferDataTypes

from flow.compiler.transforms.bipolar_pad import AbsorbBipolarPadIntoIm2Col
from flow.compiler.transforms.fast_streamline import COMPOSED_SETTLE, FastComposed
from flow.compiler.transforms.pools import MoveLinearPastPool
from flow.compiler.transforms.signed_threshold import AbsorbSignedMulIntoBinaryThreshold

# Nodes that FINN's chain streamlining leaves behind in a residual network.
RESIDUAL_OPS = {"Pad"}


def needs_residual_streamline(model: ModelWrapper) -> bool:
    """True for graphs with a fork, an Add of two computed tensors or a Pad.

    Chain networks (xnor_mlp, xnor_cnv) have none of these after FINN's streamlining, so their graphs
    do not change."""
    for node in model.graph.node:
        if node.op_type in RESIDUAL_OPS or model.is_fork_node(node):
            return True
        if node.op_type == "Add" and all(model.get_initializer(i) is None for i in node.input):
            return True
    return False


def residual_transformations() -> list[Transformation]:
    """The transformations StreamlineResidual composes, in order (see the module docstring)."""
    return [
        AbsorbBipolarPadIntoIm2Col(),
        MoveMulPastFork(),
        MoveMulPastJoinAdd(),
        AbsorbMulIntoMultiThreshold(),
        MoveTransposePastFork(),
        MoveTransposePastJoinAdd(),
        AbsorbConsecutiveTransposes(),
        AbsorbTransposeIntoMultiThreshold(),
        AbsorbTransposeIntoFlatten(),
        MoveLinearPastPool(),
        MoveScalarLinearPastInvariants(),
        CollapseRepeatedMul(),
        AbsorbSignedMulIntoBinaryThreshold(),
        MoveScalarMulPastMatMul(),
        AbsorbScalarMulAddIntoTopK(),
    ]


class StreamlineResidual(Transformation):
    """See the module docstring; the list is applied until no transformation changes the graph, composed
    as qonnx's ComposedTransformation does but without its redundant whole-graph passes (fast_streamline.py)."""

    def apply(self, model: ModelWrapper):
        model = model.transform(FastComposed(residual_transformations(), COMPOSED_SETTLE, repeat=True))
        model = model.transform(RoundAndClipThresholds())
        model = model.transform(InferDataTypes())
        model = model.transform(InferDataLayouts())
        return model, False
