"""A convolution of one channel in and one out is dense, not depthwise.

qonnx's ``LowerConvsToMatMul`` reads a Conv with ``group == in channels == out channels`` as depthwise:
it marks the Im2Col ``depthwise`` and the MatMul weight with a ``dw`` sparsity annotation, and FINN's
``InferVectorVectorActivation`` then makes a VVAU of it, an op our RTL backend does not implement. With
one channel (in = out = 1, group 1: what a plain ``nn.Conv2d(1, 1, k)`` is) the depthwise and the dense
product are the same: the "sparse" weight matrix it builds is the dense one, and a sliding window of one
channel emits the same stream either way. ``DenseSingleChannelConvs`` drops both marks, so the layer
becomes an MVAU like every other convolution.
"""

from __future__ import annotations

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation
from qonnx.util.basic import get_by_name


class DenseSingleChannelConvs(Transformation):
    """See the module docstring; runs right after ``LowerConvsToMatMul``. A pointwise (1x1, stride 1,
    unpadded) convolution has no Im2Col but the same ``dw`` weight annotation: dropped too."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        changed = False
        for node in model.get_nodes_by_op_type("MatMul"):
            weight = model.get_initializer(node.input[1])
            sparsity = model.get_tensor_sparsity(node.input[1]) or {}
            if weight is None or "dw" not in sparsity or weight.shape[-1] != 1:
                continue  # depthwise with one output channel: one input channel too
            _drop_sparsity(model, node.input[1])
            producer = model.find_producer(node.input[0])
            if producer is not None and producer.op_type == "Im2Col":
                getCustomOp(producer).set_nodeattr("depthwise", 0)
            changed = True
        return model, changed


def _drop_sparsity(model: ModelWrapper, tensor: str) -> None:
    annotation = get_by_name(model.graph.quantization_annotation, tensor, "tensor_name")
    if annotation is None:
        return
    entries = annotation.quant_parameter_tensor_names
    entry = get_by_name(entries, "tensor_sparsity", "key")
    if entry is not None:
        entries.remove(entry)
