"""FINN's streamlining with far fewer whole-graph passes: the same transformations in the same order.

Profile of ``step_streamline`` on a ResNet-18 graph (``bireal_resnet18_hw``, ~500 nodes before
streamlining; cProfile, this machine): 8,696 ``ModelWrapper.transform`` calls, 1,466 ``cleanup()``s
(SortGraph is quadratic in the node count: 38 % of the time), 149 ``GiveReadableTensorNames`` (quadratic
``rename_tensor``: 29 %) and 260 ``InferDataTypes`` (19 %). They come from the way the transformations are
composed, not from the transformations: FINN's ``Streamline`` follows *every* transformation with a
deep copy, cleanup, RemoveIdentityOps, GiveUniqueNodeNames, GiveReadableTensorNames, InferDataTypes and
InferDataLayouts, whether it changed the graph or not, and qonnx's ``ComposedTransformation`` does the
same (plus InferShapes). Those follow-ups are idempotent, so skipping them after a transformation that
changed nothing gives the same graph; ``GiveReadableTensorNames`` only renames tensors (transformations
make fresh unique names themselves), so it runs once at the end. Deep copies of the model before each
transformation are dropped (nothing keeps the old graph; a full-size ResNet-18 carries 11 M weights).
``tests/test_fast_streamline.py`` checks that the graphs equal FINN's, node for node and tensor for tensor.
"""

from __future__ import annotations

from finn.transformation.streamline import (
    Absorb1BitMulIntoConv,
    Absorb1BitMulIntoMatMul,
    AbsorbAddIntoMultiThreshold,
    AbsorbMulIntoMultiThreshold,
    AbsorbScalarBiasIntoMultiThreshold,
    BatchNormToAffine,
    CollapseRepeatedAdd,
    CollapseRepeatedMul,
    ConvertDivToMul,
    ConvertSignToThres,
    ConvertSubToAdd,
    FactorOutMulSignMagnitude,
    MoveAddPastConv,
    MoveAddPastMul,
    MoveMulPastMaxPool,
    MoveScalarAddPastMatMul,
    MoveScalarLinearPastInvariants,
    MoveScalarMulPastConv,
    MoveScalarMulPastMatMul,
    MoveScalesPastIm2Col,
)
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation
from qonnx.transformation.general import GiveReadableTensorNames, GiveUniqueNodeNames
from qonnx.transformation.infer_data_layouts import InferDataLayouts
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.transformation.remove import RemoveIdentityOps

from flow.compiler.refusals import carry_origins, origins_by_tensor, transform_carrying_origins
from flow.compiler.transforms.constant_layouts import AnnotateConstantLayouts


def finn_streamline_transformations() -> list[Transformation]:
    """``finn.transformation.streamline.Streamline``'s list (finn-plus 1.6.1), in its order."""
    return [
        ConvertSubToAdd(),
        ConvertDivToMul(),
        BatchNormToAffine(),
        ConvertSignToThres(),
        MoveMulPastMaxPool(),
        AbsorbScalarBiasIntoMultiThreshold(),
        MoveScalesPastIm2Col(),
        MoveScalarLinearPastInvariants(),
        MoveAddPastMul(),
        MoveScalarAddPastMatMul(),
        MoveAddPastConv(),
        MoveScalarMulPastMatMul(),
        MoveScalarMulPastConv(),
        MoveAddPastMul(),
        CollapseRepeatedAdd(),
        CollapseRepeatedMul(),
        MoveMulPastMaxPool(),
        AbsorbAddIntoMultiThreshold(),
        FactorOutMulSignMagnitude(),
        AbsorbMulIntoMultiThreshold(),
        Absorb1BitMulIntoMatMul(),
        Absorb1BitMulIntoConv(),
    ]


def apply_exhaustively(model: ModelWrapper, transformation: Transformation) -> tuple[ModelWrapper, bool]:
    """``model.transform(t)`` without the deep copy and the cleanup: apply until nothing changes."""
    changed_once = False
    while True:
        model, changed = transformation.apply(model)
        if not changed:
            return model, changed_once
        changed_once = True


class FastComposed(Transformation):
    """Each transformation applied exhaustively and, only if it changed the graph, followed by
    ``settle``; the whole list repeated while a pass changes the graph when ``repeat``; readable tensor
    names once at the end. ``settle``: the follow-ups the composition being replaced runs after each."""

    def __init__(self, transformations: list[Transformation], settle: list[type], repeat: bool):
        super().__init__()
        self.transformations, self.settle, self.repeat = transformations, settle, repeat

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        model = self._settle(model)  # the state the replaced composition reaches after its first step
        again = True
        while again:
            again = False
            for transformation in self.transformations:
                before = origins_by_tensor(model)
                model, changed = apply_exhaustively(model, transformation)
                if changed:
                    carry_origins(model, before)  # a later refusal names the user's layer
                    model = self._settle(model)
                    again = self.repeat
        model = model.transform(GiveUniqueNodeNames(), make_deepcopy=False)
        return model.transform(GiveReadableTensorNames(), make_deepcopy=False), False

    def _settle(self, model: ModelWrapper) -> ModelWrapper:
        model.cleanup()
        for follow_up in self.settle:
            model = model.transform(follow_up(), make_deepcopy=False)
        return model


# What FINN's Streamline runs after each transformation (GiveReadableTensorNames deferred to the end), its
# InferDataLayouts followed by the layouts of the constants (constant_layouts.py: FINN reads an unannotated
# rank-4 constant as NCHW).
STREAMLINE_SETTLE = [RemoveIdentityOps, GiveUniqueNodeNames, InferDataTypes, AnnotateConstantLayouts]
# What qonnx's ComposedTransformation runs after each (the same deferral), and the same layouts.
COMPOSED_SETTLE = [RemoveIdentityOps, GiveUniqueNodeNames, InferShapes, InferDataTypes, AnnotateConstantLayouts]


def fast_streamline() -> FastComposed:
    """FINN's ``Streamline()`` (one pass over its list)."""
    return FastComposed(finn_streamline_transformations(), STREAMLINE_SETTLE, repeat=False)


def fast_step_streamline(model: ModelWrapper) -> ModelWrapper:
    """``finn.builder.build_dataflow_steps.step_streamline`` (finn-plus 1.6.1) with ``fast_streamline``."""
    from finn.transformation.streamline.absorb import (
        AbsorbConsecutiveTransposes,
        AbsorbScalarMulAddIntoTopK,
        AbsorbTransposeIntoMultiThreshold,
    )
    from finn.transformation.streamline.reorder import MakeMaxPoolNHWC
    from qonnx.transformation.bipolar_to_xnor import ConvertBipolarMatMulToXnorPopcount
    from qonnx.transformation.general import RemoveUnusedTensors
    from qonnx.transformation.lower_convs_to_matmul import LowerConvsToMatMul

    from flow.compiler.transforms.single_channel_conv import DenseSingleChannelConvs

    model = model.transform(AbsorbScalarBiasIntoMultiThreshold())
    model = model.transform(fast_streamline())
    if model.get_nodes_by_op_type("Conv"):
        for transformation in (
            LowerConvsToMatMul(),
            DenseSingleChannelConvs(),
            MakeMaxPoolNHWC(),
            AbsorbTransposeIntoMultiThreshold(),
            MakeMaxPoolNHWC(),
            AbsorbConsecutiveTransposes(),
        ):
            model = transform_carrying_origins(model, transformation)
    model = transform_carrying_origins(model, ConvertBipolarMatMulToXnorPopcount())
    model = model.transform(fast_streamline())
    model = model.transform(AbsorbScalarMulAddIntoTopK())
    model = model.transform(InferDataLayouts())
    return model.transform(RemoveUnusedTensors())
