"""Prepare the folded FINN graph for RTL generation: the stream plumbing FINN adds before stitching.

``rtl_graph(folded, part, fifo_depths)`` returns a new graph in which FINN has inserted data-width
converters (InsertDWC) and a FIFO on every stream (InsertFIFO, shallow ones included, so each edge
has one whose depth the backend can size), specialized to their RTL variants, with unique names.

Two shiftbnn-specific adjustments, both on stream formats only (the maths is unchanged):
- A ``noActivation`` MVAU outputs its accumulator. FINN's minimized accumulator type can be one bit
  short of the popcount range (MW=256 XNOR: INT9 holds -256..255, the popcount reaches 256), so the
  accumulator stream is widened to the range the RTL computes exactly (bnn_mvau's AccBits).
- A ConvolutionInputGenerator that only feeds a max Pool (kernel == stride, no padding) and that Pool
  are one bnn_maxpool, which keeps its own row buffer: the pair becomes one ``ShiftbnnMaxPool`` node.
"""

from __future__ import annotations

import copy

import flow.finn_env  # noqa: F401  (must precede finn imports)

# isort: split
import numpy as np
from finn.transformation.fpgadataflow.insert_dwc import InsertDWC
from finn.transformation.fpgadataflow.insert_fifo import InsertFIFO
from finn.transformation.fpgadataflow.specialize_layers import SpecializeLayers
from onnx import helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.general import GiveUniqueNodeNames

from flow.finn_steps import HW_DOMAIN

# The fused SWG + Pool node: not a FINN op, only a marker for the emitter (never executed).
MAXPOOL_OP = "ShiftbnnMaxPool"
MAXPOOL_DOMAIN = "shiftbnn.rtl"


class RtlGraphError(RuntimeError):
    """The folded graph cannot be turned into RTL; the message names the node."""


def xnor_acc_bits(mw: int) -> int:
    """bnn_mvau's default AccBits for XNOR mode: popcount 0..MW plus a sign bit."""
    return int(mw).bit_length() + 1


def int_acc_bits(mw: int, input_bits: int) -> int:
    """bnn_mvau's default AccBits for integer inputs."""
    return input_bits + int(mw).bit_length() + 1


def mvau_acc_bits(inst) -> int:
    mw = inst.get_nodeattr("MW")
    if inst.get_nodeattr("binaryXnorMode"):
        return xnor_acc_bits(mw)
    return int_acc_bits(mw, inst.get_input_datatype(0).bitwidth())


def widen_accumulator_streams(model: ModelWrapper) -> ModelWrapper:
    """Give each noActivation MVAU the output type INT<AccBits> (and its consumers that input type)."""
    for node in model.graph.node:
        if not node.op_type.startswith("MVAU"):
            continue
        inst = getCustomOp(node)
        if not inst.get_nodeattr("noActivation"):
            continue
        dt = DataType[f"INT{mvau_acc_bits(inst)}"]
        inst.set_nodeattr("outputDataType", dt.name)
        model.set_tensor_datatype(node.output[0], dt)
        for consumer in model.find_consumers(node.output[0]) or []:
            cinst = getCustomOp(consumer)
            if "inputDataType" in cinst.get_nodeattr_types():
                cinst.set_nodeattr("inputDataType", dt.name)
    return model


def fuse_maxpools(model: ModelWrapper) -> ModelWrapper:
    """Replace ConvolutionInputGenerator -> Pool(max) pairs (kernel == stride, no pad) by one node."""
    for pool in list(model.graph.node):
        if not pool.op_type.startswith("Pool"):
            continue
        pinst = getCustomOp(pool)
        if pinst.get_nodeattr("Function") != "MaxPool":
            raise RtlGraphError(f"node {pool.name!r}: only max pooling has an RTL implementation")
        swg, between = model.find_producer(pool.input[0]), []
        while swg is not None and swg.op_type.startswith("StreamingFIFO"):  # FIFOs InsertFIFO added
            between.append(swg)
            swg = model.find_producer(swg.input[0])
        if swg is None or not swg.op_type.startswith("ConvolutionInputGenerator"):
            raise RtlGraphError(f"node {pool.name!r}: expected a ConvolutionInputGenerator before it")
        sinst = getCustomOp(swg)
        k, s = sinst.get_nodeattr("ConvKernelDim"), sinst.get_nodeattr("Stride")
        dim, dil = sinst.get_nodeattr("IFMDim"), sinst.get_nodeattr("Dilation")
        if k[0] != k[1] or list(k) != list(s) or dim[0] != dim[1] or any(d != 1 for d in dil):
            raise RtlGraphError(
                f"node {pool.name!r}: bnn_maxpool needs a square kernel equal to its stride "
                f"(got kernel {list(k)}, stride {list(s)}, image {list(dim)})"
            )
        if dim[0] % k[0]:
            raise RtlGraphError(f"node {pool.name!r}: kernel {k[0]} does not divide the image {dim[0]}")
        channels = sinst.get_nodeattr("IFMChannels")
        pe = sinst.get_nodeattr("SIMD")
        if pinst.get_nodeattr("PE") != pe:
            raise RtlGraphError(
                f"node {pool.name!r}: Pool PE={pinst.get_nodeattr('PE')} differs from its "
                f"ConvolutionInputGenerator SIMD={pe}; set both to the same value in the folding"
            )
        idt = sinst.get_input_datatype(0)
        fused = helper.make_node(
            MAXPOOL_OP,
            [swg.input[0]],
            [pool.output[0]],
            domain=MAXPOOL_DOMAIN,
            name=f"MaxPool_{pool.name}",
            ImgDim=int(dim[0]),
            Channels=int(channels),
            PE=int(pe),
            Kernel=int(k[0]),
            ElemBits=int(idt.bitwidth()),
            Signed=int(idt.signed() and idt != DataType["BIPOLAR"]),
        )
        index = list(model.graph.node).index(swg)
        model.graph.node.remove(swg)
        model.graph.node.remove(pool)
        for fifo in between:
            model.graph.node.remove(fifo)
        model.graph.node.insert(index, fused)
    return model


def rtl_graph(folded: ModelWrapper, part: str) -> ModelWrapper:
    """Folded graph -> graph with DWCs and a FIFO on every edge, FINN RTL variants, unique names."""
    model = copy.deepcopy(folded)
    for node in model.graph.node:
        if not node.domain.startswith(HW_DOMAIN):
            raise RtlGraphError(f"node {node.name!r} (op {node.op_type}) is not a hardware layer")
    model = widen_accumulator_streams(model)
    model = model.transform(InsertDWC())
    model = model.transform(InsertFIFO(create_shallow_fifos=True))
    model = model.transform(SpecializeLayers(part))
    model = model.transform(GiveUniqueNodeNames())
    return fuse_maxpools(model)


def stream_shape(model: ModelWrapper, node, output: bool) -> tuple[int, int]:
    """(beats per frame, bits per beat) of a node's input or output stream (FINN folded shapes)."""
    if node.op_type == MAXPOOL_OP:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        dim, c, pe, k, eb = (attrs[x] for x in ("ImgDim", "Channels", "PE", "Kernel", "ElemBits"))
        pixels = (dim // k) ** 2 if output else dim * dim
        return pixels * c // pe, pe * eb
    inst = getCustomOp(node)
    shape = inst.get_folded_output_shape() if output else inst.get_folded_input_shape()
    width = inst.get_outstream_width() if output else inst.get_instream_width()
    return int(np.prod(shape[:-1])), int(width)
