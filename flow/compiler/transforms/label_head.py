"""Drop a trailing Softmax / LogSoftmax: the accelerator outputs the label, and both keep the argmax.

softmax(z)_i = exp(z_i) / sum_j exp(z_j) is strictly increasing in z_i for fixed others, and
log-softmax(z)_i = z_i - logsumexp(z) shifts every class by the same amount, so

    argmax_i softmax(z)_i = argmax_i log-softmax(z)_i = argmax_i z_i

whenever the normalisation runs over the class axis of a single image's logits. FINN has no hardware for
either (its TopK would then sit behind an unmappable node); a network exported with its softmax is
compiled on its logits instead, and the build says so. A softmax over another axis changes which class
is largest and is refused with its fix.
"""

from __future__ import annotations

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation
from qonnx.util.basic import get_by_name

from flow.core.errors import BuildError

LABEL_PRESERVING = ("Softmax", "LogSoftmax")


def _class_axis_only(model: ModelWrapper, node) -> bool:
    """The node normalises over the last axis of an output shaped [1, ..., 1, classes]."""
    shape = model.get_tensor_shape(node.output[0])
    axis = get_by_name(node.attribute, "axis")
    axis = -1 if axis is None else axis.i  # opset >= 13 default: the last axis
    return shape is not None and axis % len(shape) == len(shape) - 1 and all(d == 1 for d in shape[:-1])


class RemoveLabelPreservingOutputs(Transformation):
    """Remove Softmax / LogSoftmax nodes that produce the graph's output; ``removed`` lists their names."""

    def __init__(self):
        super().__init__()
        self.removed: list[str] = []

    def apply(self, model: ModelWrapper):
        graph = model.graph
        node = model.find_producer(graph.output[0].name)
        while node is not None and node.op_type in LABEL_PRESERVING:
            if not _class_axis_only(model, node):
                raise BuildError(
                    f"node {node.name!r} ({node.op_type}) normalises over an axis other than the classes of one "
                    "image: the hardware outputs the argmax of the logits; export the network without it "
                    "(keep softmax in the loss, e.g. nn.CrossEntropyLoss)"
                )
            logits = next((vi for vi in graph.value_info if vi.name == node.input[0]), None)
            if logits is None or model.find_consumers(node.input[0]) != [node]:
                break  # the logits feed something else too, or their shape is unknown: leave it to FINN
            graph.output[0].CopyFrom(logits)
            if logits in graph.value_info:  # a graph output keeps one ValueInfoProto
                graph.value_info.remove(logits)
            graph.node.remove(node)
            self.removed.append(node.name)
            node = model.find_producer(graph.output[0].name)
        return model, False
