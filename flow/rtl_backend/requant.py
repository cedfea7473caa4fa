"""The two re-quantizer forms of a Thresholding node in stream_requant.sv: a clamp and a multiply-add-shift.

``staircase``: a table whose thresholds are one unit staircase for every channel is a clamp
(stream_requant, Channels = 0; FuseAdds in graph.py fuses it into the add before it).

An INT8 re-quantization of an accumulator (``Q(BN(conv))`` in the Bi-Real blocks, the stem) reaches the
RTL graph as a ``Thresholding_rtl`` with 255 thresholds per channel (split_thresholds.py moved it out of
its MVAU): 255 x 14..25 bits per channel, 18.2 Mbit for Bi-Real-Net-18. On the accumulator's reachable
range, which is finite, the same function is ``clamp((acc * M + A) >> S, b, b + N)`` with a few dozen
bits of (M, A, S) per channel (hw/golden/requant_fit.py finds them and proves them exact on the range).
``ThresholdsToMulAdd`` replaces every Thresholding node whose channels all have such a form (M below
``MAX_MUL_BITS``, S up to ``MAX_SHIFT``) and whose parameters take fewer bits than its table by one
``ShiftbnnRequant`` node; the others keep their table (``fallbacks`` lists them with the reason).

The reachable range is the producing MVAU's (``mvau_acc_range``: its weights and input type; FIFOs and
width converters in between pass values unchanged), else the input type's. The fits are cached by
table contents (the folding search lowers the graph many times).
"""

from __future__ import annotations

import hashlib

import numpy as np
from onnx import helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation

from flow.core.hw_graph import REQUANT_OP, SHIFTBNN_DOMAIN, stream_shape
from flow.rtl_backend.split_thresholds import MAX_EMBEDDED, mvau_acc_range
from hw.golden.requant_fit import MAX_MUL_BITS, MAX_SHIFT, MulAddFit, fit_muladd
from hw.golden.stream import int_range
from hw.golden.stream_requant import staircase_to_clamp

PLUMBING = ("StreamingFIFO", "StreamingDataWidthConverter")  # pass values unchanged


def staircase(model: ModelWrapper, node) -> tuple[int, int, int] | None:
    """``(Offset, OutMin, OutMax)`` of a Thresholding that is a clamp, else None.

    MultiThreshold with N thresholds t_i = t_0 + i (the same for every channel) and out_bias b gives
    ``b + #{i : x >= t_i} = clamp(x + b - t_0 + 1, b, b + N)`` (stream_requant.sv derives it). Values
    are in stream encoding: a BIPOLAR output is the 0/1 count (out_bias 0)."""
    if not node.op_type.startswith("Thresholding"):
        return None
    inst = getCustomOp(node)
    T = model.get_initializer(node.input[1])
    idt, odt = inst.get_input_datatype(0), inst.get_output_datatype(0)
    if T is None or T.ndim != 2 or not idt.is_integer() or idt == DataType["BIPOLAR"]:
        return None
    t = T[0]
    if not np.array_equal(T, np.broadcast_to(t, T.shape)) or not np.array_equal(t, np.round(t)):
        return None
    if not np.all(np.diff(t) == 1):
        return None
    b = int(inst.get_nodeattr("ActVal"))
    if odt == DataType["BIPOLAR"] and b != 0:
        return None
    return staircase_to_clamp(int(t[0]), len(t), b)


_FITS: dict[tuple, MulAddFit] = {}
_CACHE_SIZE = 512


def cached_fit(T: np.ndarray, out_bias: int, lo: int, hi: int) -> MulAddFit:
    """fit_muladd, memoized by the table's contents and the range."""
    key = (hashlib.blake2b(np.ascontiguousarray(T, dtype=np.float64).tobytes()).hexdigest(), T.shape,
           int(out_bias), int(lo), int(hi))  # fmt: skip
    if key not in _FITS:
        if len(_FITS) >= _CACHE_SIZE:
            _FITS.pop(next(iter(_FITS)))
        _FITS[key] = fit_muladd(T, out_bias, lo, hi, MAX_MUL_BITS, MAX_SHIFT)
    return _FITS[key]


def input_range(model: ModelWrapper, node) -> tuple[int, int]:
    """Reachable interval of a Thresholding node's input: its MVAU's accumulator, else its type's."""
    producer = model.find_producer(node.input[0])
    while producer is not None and producer.op_type.startswith(PLUMBING):
        producer = model.find_producer(producer.input[0])
    if producer is not None and producer.op_type.startswith("MVAU"):
        return mvau_acc_range(model, producer)
    idt = getCustomOp(node).get_input_datatype(0)
    return int_range(idt.bitwidth(), idt.signed())


def muladd_candidate(model: ModelWrapper, node) -> tuple[MulAddFit | None, str]:
    """The fit of a Thresholding node, or None and why it keeps its table."""
    inst = getCustomOp(node)
    T = model.get_initializer(node.input[1])
    idt, odt = inst.get_input_datatype(0), inst.get_output_datatype(0)
    if T is None or T.ndim != 2 or not idt.is_integer() or DataType["BIPOLAR"] in (idt, odt):
        return None, "not an integer table"
    if staircase(model, node) is not None:
        return None, "a unit staircase (a clamp)"
    # integer input: x >= T <=> x >= ceil(T) (before FINN's RoundAndClipThresholds, e.g. while the
    # folding search lowers the graph, the thresholds of an integer input can still be fractional)
    T = np.ceil(T)
    if T.shape[1] <= MAX_EMBEDDED:
        return None, f"{T.shape[1]} thresholds (a few comparators are cheaper than a multiplier)"
    if T.shape[0] == 1 and inst.get_nodeattr("NumChannels") > 1:
        T = np.repeat(T, inst.get_nodeattr("NumChannels"), axis=0)
    lo, hi = input_range(model, node)
    try:  # e.g. an accumulator type not yet minimised (while the folding search lowers): beyond the proof
        fit = cached_fit(T, int(inst.get_nodeattr("ActVal")), lo, hi)
    except ValueError as exc:
        return None, str(exc)
    if not fit.all_exact:
        bad = int((~fit.exact).sum())
        return None, f"{bad} of {len(fit.exact)} channels have no exact M < 2^{MAX_MUL_BITS}, S <= {MAX_SHIFT}"
    table_bits = T.size * DataType[inst.get_nodeattr("weightDataType")].bitwidth()
    if muladd_bits(fit) >= table_bits:
        return None, f"the table ({table_bits} bits) is smaller"
    return fit, ""


def muladd_bits(fit: MulAddFit) -> int:
    """Parameter memory of the multiply-add form: (M, A, extra shift) per channel."""
    return len(fit.mul) * (fit.mul_bits + fit.add_bits + fit.shift_bits)


class ThresholdsToMulAdd(Transformation):
    """See the module docstring; ``fallbacks`` collects (node, reason) of the tables kept."""

    def __init__(self):
        super().__init__()
        self.fallbacks: list[tuple[str, str]] = []

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node in list(model.graph.node):
            if not node.op_type.startswith("Thresholding"):
                continue
            fit, why = muladd_candidate(model, node)
            if fit is None:
                self.fallbacks.append((node.name, why))
                continue
            _replace(model, node, fit)
        return model, False


def _replace(model: ModelWrapper, node, fit: MulAddFit) -> None:
    inst = getCustomOp(node)
    idt, odt = inst.get_input_datatype(0), inst.get_output_datatype(0)
    beats, _ = stream_shape(model, node, output=True)
    params = f"{node.name}_muladd"
    model.set_initializer(params, np.stack([fit.mul, fit.add, fit.shift], axis=1).astype(np.int64))
    new = helper.make_node(
        REQUANT_OP,
        [node.input[0], params],
        [node.output[0]],
        domain=SHIFTBNN_DOMAIN,
        name=f"Requant_{node.name}",
        PE=int(inst.get_nodeattr("PE")),
        Channels=int(inst.get_nodeattr("NumChannels")),
        InBits=int(idt.bitwidth()),
        InSigned=int(idt.signed()),
        OutBits=int(odt.bitwidth()),
        OutMin=fit.out_min,
        OutMax=fit.out_max,
        MulBits=fit.mul_bits,
        AddBits=fit.add_bits,
        Shift=fit.shift_min,
        ShiftBits=fit.shift_bits,
        Beats=int(beats),
    )
    index = list(model.graph.node).index(node)
    model.graph.node.remove(node)
    model.graph.node.insert(index, new)


def fit_of(model: ModelWrapper, node) -> MulAddFit:
    """The MulAddFit a ShiftbnnRequant node carries (its (M, A, S) rows)."""
    rows = model.get_initializer(node.input[1]).astype(np.int64)
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    return MulAddFit(mul=rows[:, 0], add=rows[:, 1], shift=rows[:, 2], out_min=attrs["OutMin"],
                     out_max=attrs["OutMax"], exact=np.ones(len(rows), bool))  # fmt: skip
