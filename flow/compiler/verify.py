"""Bit-exact checks along the chain Brevitas == QONNX exec == FINN streamlined == folded HW graph.

- Brevitas vs QONNX: the exported graph's logits must equal Brevitas' float32 logits exactly.
- FINN graphs end in TopK (LabelSelect in hardware), so they are compared on the label, tie-aware:
  a label agrees when it is one of the reference's maximal logits within float tolerance (ties.py:
  float32 noise may break an exact tie of the integer logits either way; integer graphs take the
  lowest index). Images with such an output tie are counted (``output_ties``). The labels the RTL
  must reproduce exactly are the folded (integer) graph's wherever they agree with the reference.
- Float ties: an image where some binary activation's input lies within ``TIE_MARGIN`` of its
  threshold ``t`` is a *float tie*: float32 evaluation order (torch vs onnxruntime) decides its sign,
  while FINN's integer thresholds decide it exactly. On such images the exact integer graph (the folded
  FINN graph) is the reference label; everywhere else Brevitas is. Ties are counted in the report.
  An input that is a quantizer's output (Bi-Real's INT8 residual stream) is the same value in torch
  and ONNX, so ``x - t`` has the same sign in both and is never a tie.
- The folded graph holds specialized nodes (``MVAU_hls`` ...) that have no Python execution; each is
  mapped back to its generic op (``MVAU``), whose Python model is what FINN's own HLS is tested
  against, and executed inside the dataflow parent graph (which keeps the software prefix).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from brevitas.nn import QuantIdentity
from qonnx.core.modelwrapper import ModelWrapper
from torch import nn

from brevitas_models.quant import ShiftedBinaryAct
from flow.compiler.export import execute_graph
from flow.compiler.ties import acceptable_labels, label_agrees
from flow.core.hw_graph import HW_DOMAIN, generic_op_type


@dataclass
class Verification:
    images: int
    reference: str  # "brevitas" or "qonnx" (for --onnx builds without a Brevitas model)
    matches: dict[str, int | None] = field(default_factory=dict)  # match_key(reference, stage) -> images
    accuracy: dict[str, float] = field(default_factory=dict)
    first_mismatch: dict[str, int] = field(default_factory=dict)
    float_ties: int = 0
    output_ties: int = 0  # images whose reference has several maximal logits within float tolerance
    qonnx_logits_exact: int | None = None  # images whose QONNX logits equal Brevitas' bit for bit
    reference_labels: np.ndarray | None = None  # the folded graph's labels where they agree with the reference
    acceptable: np.ndarray | None = None  # (N, C): labels that agree with the reference (ties.py)

    def ok(self) -> bool:
        return all(v is None or v == self.images for v in self.matches.values())


TIE_MARGIN = 1e-5
STAGES = ("qonnx", "streamlined", "finn", "rtl")  # what is checked against the reference, in flow order


def match_key(reference: str, stage: str) -> str:
    """``brevitas_vs_finn``: images on which ``stage`` agrees with the reference (Brevitas, or the user's
    QONNX graph for --onnx builds)."""
    return f"{reference}_vs_{stage}"


def stage_matches(verification: dict) -> dict[str, int | None]:
    """``{stage: agreeing images or None}`` from summary.json's verification record, whatever its
    reference: new files name the reference (``qonnx_vs_finn`` for --onnx builds), files written before
    that said ``brevitas_vs_*`` for every build. Readers use this, not the keys."""
    reference = verification.get("reference", "brevitas")
    return {
        stage: verification.get(match_key(reference, stage), verification.get(match_key("brevitas", stage)))
        for stage in STAGES
        if not (stage == "qonnx" and reference == "qonnx")
    }


EXACT_TAG = "_shiftbnn_exact"  # tensor attribute: a residual quantizer's output (or a max-pool of one)


def binary_margins(model: nn.Module, images: np.ndarray, batch: int = 500) -> np.ndarray:
    """Per image, the smallest ``|x - t|`` over every ShiftedBinaryAct input (float32 forward).

    Inputs that are a residual quantizer's output (``residual_quant``: a constant power-of-two scale,
    marked ``exact_grid``) or a max-pool of one are skipped: such a value is exactly the same float in
    torch and ONNX, so the sign of ``x - t`` cannot depend on evaluation order even where ``x == t``.
    Other quantizers (learned or non-power-of-two scales) are checked like any float input."""
    margins = np.full(len(images), np.inf)
    current: list[torch.Tensor] = []

    def is_exact(x) -> bool:
        return getattr(x, EXACT_TAG, False)

    def tag_quant(_module, _args, output):
        setattr(output, EXACT_TAG, True)

    def tag_pool(_module, args, output):
        if is_exact(args[0]):
            setattr(output, EXACT_TAG, True)

    def hook(module, args, _output):
        x = args[0]
        if not is_exact(x):
            current.append((x - module.shift_view(x)).abs().flatten(1).amin(dim=1))

    acts = [m for m in model.modules() if isinstance(m, ShiftedBinaryAct)]
    inner = {id(a.binarize) for a in acts}
    handles = [m.register_forward_hook(hook) for m in acts]
    for m in model.modules():
        if isinstance(m, QuantIdentity) and id(m) not in inner and getattr(m, "exact_grid", False):
            handles.append(m.register_forward_hook(tag_quant))
        elif isinstance(m, nn.MaxPool2d):
            handles.append(m.register_forward_hook(tag_pool))
    try:
        x = torch.as_tensor(np.asarray(images), dtype=torch.float32)
        with torch.no_grad():
            for start in range(0, len(x), batch):
                current.clear()
                model.eval()(x[start : start + batch])
                if current:
                    margins[start : start + batch] = torch.stack(current).amin(dim=0).numpy()
    finally:
        for h in handles:
            h.remove()
    return margins


def generic_hw_model(folded: ModelWrapper, parent: ModelWrapper, path: Path) -> ModelWrapper:
    """Parent graph whose partition runs ``folded`` with every node mapped to its generic op."""
    child = copy.deepcopy(folded)
    for node in child.graph.node:
        if node.domain.startswith(HW_DOMAIN):
            node.domain = HW_DOMAIN
            node.op_type = generic_op_type(node.op_type)
    child.save(str(path))
    top = copy.deepcopy(parent)
    (sdp,) = top.get_nodes_by_op_type("StreamingDataflowPartition")
    for attr in sdp.attribute:
        if attr.name == "model":
            attr.s = str(path).encode()
    return top


def labels_of(outputs: np.ndarray) -> np.ndarray:
    """Top-1 labels from logits (N, C) or from a TopK output (N, 1)."""
    outputs = outputs.reshape(len(outputs), -1)
    return outputs[:, 0].astype(np.int64) if outputs.shape[1] == 1 else outputs.argmax(axis=1)


def _count(reference: np.ndarray, other: np.ndarray) -> tuple[int, int]:
    """(number of rows equal bit for bit, index of the first differing row or -1)."""
    return _tally(np.all(reference.reshape(len(reference), -1) == other.reshape(len(other), -1), axis=1))


def _tally(agree: np.ndarray) -> tuple[int, int]:
    """(number of agreeing images, index of the first disagreeing one or -1)."""
    bad = np.flatnonzero(~agree)
    return int(agree.sum()), int(bad[0]) if len(bad) else -1


def verify_chain(
    images: np.ndarray,
    labels: np.ndarray | None,
    brevitas_logits: np.ndarray | None,
    qonnx: ModelWrapper,
    graphs: dict[str, ModelWrapper],
    ties: np.ndarray | None = None,
) -> Verification:
    """Run every graph on ``images`` and count images whose label agrees with the reference.

    ``graphs`` maps a name to a FINN graph ending in TopK; the one named "finn" (the folded graph,
    integer-exact) decides float ties (``ties``: boolean per image) and output ties."""
    qonnx_logits = execute_graph(qonnx, images, batch=250, label="verify qonnx")
    reference = brevitas_logits if brevitas_logits is not None else qonnx_logits
    ties = np.zeros(len(images), bool) if ties is None else ties
    result = Verification(
        images=len(images),
        reference="brevitas" if brevitas_logits is not None else "qonnx",
        float_ties=int(ties.sum()),
    )
    outputs = {}
    for name, graph in graphs.items():
        outputs[name] = labels_of(execute_graph(graph, images, batch=250, label=f"verify {name}"))
    acceptable = acceptable_labels(reference)
    result.output_ties = int((acceptable[~ties].sum(axis=1) > 1).sum())
    ref_labels = labels_of(reference)
    if "finn" in outputs:
        finn = outputs["finn"]
        acceptable[ties] = False  # on a float tie the exact integer graph is the reference
        acceptable[np.flatnonzero(ties), finn[ties]] = True
        ref_labels = np.where(label_agrees(acceptable, finn), finn, ref_labels)
    result.reference_labels, result.acceptable = ref_labels, acceptable
    if brevitas_logits is not None:
        result.qonnx_logits_exact = _count(brevitas_logits, qonnx_logits)[0]
        outputs = {"qonnx": labels_of(qonnx_logits), **outputs}
    if labels is not None:
        result.accuracy["reference"] = float((ref_labels == labels).mean())
    for name, got in outputs.items():
        agree = label_agrees(acceptable, got)
        if name == "qonnx":  # the float graph may take either side of a float tie
            agree |= ties
        n, first = _tally(agree)
        result.matches[match_key(result.reference, name)] = n
        result.first_mismatch[match_key(result.reference, name)] = first
        if labels is not None:
            result.accuracy[name] = float((got == labels).mean())
    return result
