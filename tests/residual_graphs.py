"""Hand-built FINN HW graphs that fork and join (Bi-Real residual blocks) and a classifier head, for the
RTL backend's tests (tests/test_rtl_backend_residual.py, whose docstring describes the two graphs)."""

from __future__ import annotations

import numpy as np

import flow.core.finn_env  # noqa: F401  (must precede finn imports)

# isort: split
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.general import GiveUniqueNodeNames
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.util.basic import qonnx_make_model

HW = "finn.custom_op.fpgadataflow"


class GraphBuilder:
    """Generic FINN HW nodes, NHWC tensors, random constants (``rng``)."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.dtypes, self.n = [], {}, {}, 0

    def tensor(self) -> str:
        self.n += 1
        return f"t{self.n}"

    def node(self, op, inputs, n_out=1, style=None, **attrs):
        outs = [self.tensor() for _ in range(n_out)]
        if style:
            attrs["preferred_impl_style"] = style
        self.nodes.append(helper.make_node(op, inputs, outs, domain=HW, backend="fpgadataflow", **attrs))
        return outs if n_out > 1 else outs[0]

    def const(self, value, dtype: str) -> str:
        name = self.tensor()
        self.inits[name] = np.asarray(value, dtype=np.float32)
        self.dtypes[name] = dtype
        return name

    def threshold(self, x, channels, pe, vecs, idt, odt, T, act=0):
        T = np.asarray(T)
        return self.node(
            "Thresholding", [x, self.const(T, idt)], style="rtl", NumChannels=channels, PE=pe,
            numSteps=T.shape[1], inputDataType=idt, weightDataType=idt, outputDataType=odt, ActVal=act,
            numInputVectors=vecs,
        )  # fmt: skip

    def sign(self, x, channels, pe, vecs, idt, lo, hi):
        """Per-channel shifted sign: 1 threshold per channel (different for each)."""
        T = self.rng.integers(lo, hi, size=(channels, 1))
        return self.threshold(x, channels, pe, vecs, idt, "BINARY", T)

    def conv3x3(self, x, dim, channels, simd, pe, out_bits):
        """FMPadding -> sliding window -> XNOR MVAU with 2**out_bits - 1 thresholds (signed output)."""
        p = self.node(
            "FMPadding", [x], style="rtl", ImgDim=[dim, dim], Padding=[1, 1, 1, 1], NumChannels=channels,
            SIMD=channels, inputDataType="BINARY", numInputVectors=1,
        )  # fmt: skip
        w = self.node(
            "ConvolutionInputGenerator", [p], style="rtl", ConvKernelDim=[3, 3], IFMChannels=channels,
            IFMDim=[dim + 2, dim + 2], OFMDim=[dim, dim], SIMD=channels, Stride=[1, 1], Dilation=[1, 1],
            inputDataType="BINARY", outputDataType="BINARY",
        )  # fmt: skip
        mw, n = 9 * channels, 2**out_bits - 1
        W = self.rng.integers(0, 2, size=(mw, channels))
        T = np.sort(self.rng.integers(mw // 2 - 2 * n, mw // 2 + 2 * n, size=(channels, n)), axis=1)
        return self.node(
            "MVAU", [w, self.const(W, "BINARY"), self.const(T, "INT16")], style="hls", MW=mw, MH=channels,
            SIMD=simd, PE=pe, binaryXnorMode=1, inputDataType="BINARY", weightDataType="BINARY",
            outputDataType=f"INT{out_bits}", ActVal=-(2 ** (out_bits - 1)), numInputVectors=[1, dim, dim],
            noActivation=0, mem_mode="internal_embedded",
        )  # fmt: skip

    def block(self, x, dim, channels, pe, conv_bits, requant_pe, t0, n, bias):
        """x (INT8) -> Q(x + conv(sign(x))) with Q a unit staircase t_i = t0 + i, out_bias ``bias``."""
        vecs = [1, dim, dim]
        a, s = self.node(
            "DuplicateStreams", [x], n_out=2, style="hls", NumChannels=channels, PE=pe, NumOutputStreams=2,
            inputDataType="INT8", numInputVectors=vecs,
        )  # fmt: skip
        y = self.conv3x3(self.sign(a, channels, pe, vecs, "INT8", -20, 20), dim, channels, 3 * channels, pe, conv_bits)
        shape = [1, dim, dim, channels]
        add_dt = "INT9"
        z = self.node(
            "ElementwiseAdd", [y, s], style="hls", lhs_dtype=f"INT{conv_bits}", rhs_dtype="INT8", out_dtype=add_dt,
            lhs_shape=shape, rhs_shape=shape, out_shape=shape, PE=pe,
        )  # fmt: skip
        T = (t0 + np.arange(n))[None, :]  # one row: the same staircase for every channel
        return self.threshold(z, channels, requant_pe, vecs, add_dt, "INT8", T, act=bias)

    def maxpool(self, x, dim, channels, pe):
        return self.node(
            "ShiftbnnPool", [x], Channels=channels, PE=pe, ImgDim=[dim, dim], Kernel=[2, 2], Stride=[2, 2],
            Pads=[0, 0, 0, 0], OutDim=[dim // 2, dim // 2], Function="max", InputDataType="INT8",
        )  # fmt: skip

    def model(self, x, y, in_shape, out_shape, in_dtype) -> ModelWrapper:
        graph = helper.make_graph(
            self.nodes, "residual",
            [helper.make_tensor_value_info(x, TensorProto.FLOAT, in_shape)],
            [helper.make_tensor_value_info(y, TensorProto.FLOAT, out_shape)],
        )  # fmt: skip
        model = ModelWrapper(qonnx_make_model(graph, producer_name="shiftbnn-test"))
        for node in self.nodes:  # shapes up front: ElementwiseAdd checks its input shapes
            for k, t in enumerate(node.output):
                if t != y:
                    model.set_tensor_shape(t, list(getCustomOp(node).get_normal_output_shape(k)))
        model.set_tensor_datatype(x, DataType[in_dtype])
        for name, value in self.inits.items():
            model.set_initializer(name, value)
            model.set_tensor_datatype(name, DataType[self.dtypes[name]])
        model = model.transform(InferShapes()).transform(InferDataTypes())
        return model.transform(GiveUniqueNodeNames())


def residual_graph(seed: int = 0, dim: int = 8, channels: int = 4) -> ModelWrapper:
    """Two residual stages (8x8 then 4x4 after a max pool); output: the INT8 tensor of stage 2."""
    b = GraphBuilder(seed)
    x = b.tensor()
    # block 1: int9 sum -> int8, t_i = -127 + i, out_bias -128: clamp(x, -128, 127), fused into the add
    y = b.block(x, dim, channels, pe=2, conv_bits=4, requant_pe=2, t0=-127, n=255, bias=-128)
    y = b.maxpool(y, dim, channels, pe=2)
    # block 2: another staircase (clamp(x + 1, -100, 100)) at another PE: a separate stream_requant
    y = b.block(y, dim // 2, channels, pe=4, conv_bits=3, requant_pe=2, t0=-100, n=200, bias=-100)
    return b.model(x, y, [1, dim, dim, channels], [1, dim // 2, dim // 2, channels], "INT8")


def head_graph(seed: int = 0, dim: int = 4, channels: int = 8, labels: int = 10) -> ModelWrapper:
    """INT8 -> global sum pool (ShiftbnnPool) -> per-channel sign -> XNOR MVAU (no activation) -> LabelSelect."""
    b = GraphBuilder(seed)
    x = b.tensor()
    acc_dt = f"INT{8 + int(np.log2(dim * dim))}"
    p = b.node(
        "ShiftbnnPool", [x], Channels=channels, PE=2, InputDataType="INT8", ImgDim=[dim, dim],
        Kernel=[dim, dim], Stride=[1, 1], Pads=[0, 0, 0, 0], OutDim=[1, 1], Function="sum",
    )  # fmt: skip
    s = b.sign(p, channels, 4, [1, 1, 1], acc_dt, -300, 300)
    W = b.rng.integers(0, 2, size=(channels, labels))
    m = b.node(
        "MVAU", [s, b.const(W, "BINARY")], style="hls", MW=channels, MH=labels, SIMD=channels, PE=2,
        binaryXnorMode=1, inputDataType="BINARY", weightDataType="BINARY", outputDataType="UINT4",
        numInputVectors=[1, 1, 1], noActivation=1, mem_mode="internal_embedded",
    )  # fmt: skip
    y = b.node("LabelSelect", [m], style="hls", Labels=labels, PE=2, K=1, inputDataType="UINT4",
               outputDataType="UINT8", numInputVectors=[1, 1, 1])  # fmt: skip
    return b.model(x, y, [1, dim, dim, channels], [1, 1, 1, 1], "INT8")
