"""Where a float reference and integer hardware may honestly disagree: output ties and float ties.

Output ties. A binary network's logits are ``scale * integer accumulator (+ bias)``: two classes with
the same accumulator have the same logit in exact arithmetic, and a float32 reference (Brevitas in
torch, the QONNX graph in onnxruntime) breaks the tie by rounding noise (0.1 vs 0.09999999), while the
integer graphs and the RTL's label select break it by index (lowest wins). So a label *agrees with the
reference* when it is one of the reference's maximal logits within the float tolerance:

    acceptable(i, c)  <=>  L[i, c] >= max_k L[i, k] - OUTPUT_TIE_RTOL * max(1, max_k |L[i, k]|)

Distinct accumulators differ by at least one quantum ``scale``, far above that tolerance for any
scale a trained network has, so the rule accepts float-noise ties only. Images with more than one
acceptable label are counted (``output_ties``).

Float ties inside the network (a binary activation's input within ``TIE_MARGIN`` of its threshold)
are found on the Brevitas model by verify.binary_margins; ``qonnx_margins`` finds them on a user's
QONNX graph (``--onnx`` builds, where the QONNX graph is the reference): the distance of every
activation quantizer's input to its decision boundary (``BipolarQuant``: 0; ``Quant``: a rounding
boundary, i.e. half-way between two integer levels).
"""

from __future__ import annotations

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper

from flow.compiler.export import execute_tensors

OUTPUT_TIE_RTOL = 1e-5


def acceptable_labels(logits: np.ndarray, rtol: float = OUTPUT_TIE_RTOL) -> np.ndarray:
    """(N, C) boolean: the labels within float tolerance of each image's maximal logit."""
    logits = np.asarray(logits, dtype=np.float64).reshape(len(logits), -1)
    top = logits.max(axis=1, keepdims=True)
    tol = rtol * np.maximum(1.0, np.abs(logits).max(axis=1, keepdims=True))
    return logits >= top - tol


def label_agrees(acceptable: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per image: is ``labels[i]`` one of the acceptable labels (out-of-range labels never are)."""
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    inside = (labels >= 0) & (labels < acceptable.shape[1])
    return inside & acceptable[np.arange(len(labels)), np.clip(labels, 0, acceptable.shape[1] - 1)]


def _boundary_distance(model: ModelWrapper, node, x: np.ndarray) -> np.ndarray | None:
    """Per image, the smallest distance of ``x`` (a quantizer's input) to the quantizer's boundary."""
    if node.op_type == "BipolarQuant":
        return np.abs(x).min(axis=1)
    scale, zeropt = (model.get_initializer(name) for name in node.input[1:3])
    rounding = next((a.s.decode() for a in node.attribute if a.name == "rounding_mode"), "ROUND")
    if scale is None or zeropt is None or rounding != "ROUND" or np.size(scale) != 1 or np.size(zeropt) != 1:
        return None  # per-channel or non-rounding quantizers: not checked
    v = x / float(scale) + float(zeropt)
    return (np.abs(v - np.floor(v) - 0.5) * float(scale)).min(axis=1)


def qonnx_margins(model: ModelWrapper, images: np.ndarray, batch: int = 250) -> np.ndarray:
    """Per image, the smallest distance of an activation quantizer's input to its decision boundary."""
    quants = [
        n
        for n in model.graph.node
        if n.op_type in ("BipolarQuant", "Quant") and model.get_initializer(n.input[0]) is None
    ]
    margins = np.full(len(images), np.inf)
    if not quants:
        return margins
    tensors = execute_tensors(model, images, list(dict.fromkeys(n.input[0] for n in quants)), batch)
    for node in quants:
        distance = _boundary_distance(model, node, tensors[node.input[0]].astype(np.float64))
        if distance is not None:
            margins = np.minimum(margins, distance)
    return margins
