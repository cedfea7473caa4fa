"""Every pool of a network as one ``ShiftbnnPool`` node (flow/core/ops/pool.py, hardware bnn_pool.sv).

``ConvertPoolsToShiftbnn`` runs on the QONNX graph before FINN's streamlining and rewrites

    MaxPool(x)         (any kernel, stride, pads, ceil_mode)   -> T -> ShiftbnnPool(max) -> T
    AveragePool(x)     (a divisor n = KH*KW at every output)    -> T -> ShiftbnnPool(sum) -> T -> Mul(1/n)
    GlobalAveragePool(x)                                        -> T -> ShiftbnnPool(sum, H x W) -> T -> Mul(1/(H*W))
    MaxPoolNHWC(x)     (FINN's NHWC MaxPool)                    -> ShiftbnnPool(max)

with T the NCHW <-> NHWC transposes, which FINN's streamlining moves and cancels as it does around its
own MaxPoolNHWC. The 1/n of an average is a scalar Mul that streamlining absorbs into the next
threshold (or TopK). ONNX's ``ceil_mode`` becomes extra bottom/right padding: a pad holds no value,
and every window keeps at least one image position (PyTorch's rule), so the max and the sum over a
window are unchanged. An average whose divisor differs between outputs (``count_include_pad=0`` with
padding, or a ceil-mode window hanging over the padded input) and a dilated window are refused before
any work (flow/compiler/refusals.py).

``MoveLinearPastPool`` moves a per-channel or scalar ``Mul``, and an ``Add`` of any constant that the pool
passes, from the pool's input to its output during streamlining, as FINN's ``MoveMulPastMaxPool`` does for
its MaxPool: ``max(a*x) = a*max(x)`` for a > 0, ``= a*min(x)`` for a < 0 (that channel then takes the
min), ``sum(a*x) = a*sum(x)``; ``max(x + b) = max(x) + b`` per channel, and ``sum_w(x + C) = sum_w(x) +
sum_w(C)`` over each window's image positions for any constant C (padding adds 0 to both), so the Add
after a sum pool adds the sum pool of C: a bias before a zero-padded average, or the border correction of a
zero-padded binary conv (bipolar_pad.py), becomes a position-dependent offset after the pool, which
``AbsorbBorderAddIntoThreshold`` (border_threshold.py) takes into the next threshold. A max pool passes a
position-dependent C where each window holds one image position (it subsamples). Such an op in front of the
pool's NCHW -> NHWC transpose first moves past that transpose (its constant transposed).
"""

from __future__ import annotations

import numpy as np
from onnx import helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.util.basic import get_by_name

from flow.compiler.refusals import refusal
from flow.core.graph_edit import replace_nodes
from flow.core.hw_graph import HW_DOMAIN
from hw.golden.bnn_pool import pool_nhwc, pool_out_dim, window_bounds

POOL_OP = "ShiftbnnPool"
NCHW_TO_NHWC = [0, 2, 3, 1]
NHWC_TO_NCHW = [0, 3, 1, 2]


def _ints(node, name: str, default: list[int]) -> list[int]:
    attr = get_by_name(node.attribute, name)
    return list(attr.ints) if attr is not None else default


def _int(node, name: str, default: int) -> int:
    attr = get_by_name(node.attribute, name)
    return int(attr.i) if attr is not None else default


def pool_geometry(model: ModelWrapper, node) -> dict | None:
    """Kernel, stride, pads [t, l, b, r] (b and r extended by ceil_mode) and output size of an ONNX pool,
    or None for a pool that is no 2D pool of a known shape (FINN names it later). A dilated window and an
    average with a position-dependent divisor have no exact ``ShiftbnnPool``: refused (refusals.py)."""
    nhwc = node.op_type == "MaxPoolNHWC"
    shape = model.get_tensor_shape(node.input[0])
    if shape is None or len(shape) != 4:
        return None
    h, w = (shape[1], shape[2]) if nhwc else (shape[2], shape[3])
    if node.op_type == "GlobalAveragePool":
        return {"kernel": [h, w], "stride": [1, 1], "pads": [0, 0, 0, 0], "out": [1, 1], "img": [h, w]}
    auto_pad = get_by_name(node.attribute, "auto_pad")
    if auto_pad is not None and auto_pad.s.decode() not in ("NOTSET", ""):
        return None
    kernel = _ints(node, "kernel_shape", [])
    if len(kernel) != 2:
        return None
    if any(d != 1 for d in _ints(node, "dilations", [1, 1])):
        raise refusal(model, node, "dilation")
    stride = _ints(node, "strides", [1, 1])
    pads = _ints(node, "pads", [0, 0, 0, 0])
    ceil = bool(_int(node, "ceil_mode", 0))
    try:
        out = [pool_out_dim((h, w)[a], kernel[a], stride[a], pads[a], pads[a + 2], ceil) for a in (0, 1)]
    except ValueError:
        return None
    # the walk's end padding: what the last window needs beyond the image and the leading pad
    end = [max(pads[a + 2], (out[a] - 1) * stride[a] + kernel[a] - (h, w)[a] - pads[a]) for a in (0, 1)]
    geometry = {"kernel": kernel, "stride": stride, "pads": [pads[0], pads[1], *end], "out": out, "img": [h, w]}
    if node.op_type == "AveragePool" and not _constant_divisor(node, geometry):
        raise refusal(model, node, "avg-divisor")
    return geometry


def _constant_divisor(node, geometry: dict) -> bool:
    """True when ONNX's AveragePool divides every output by KH*KW: each window lies inside the padded
    input and the pads count (``count_include_pad``) or there are none."""
    kernel, stride, pads, out, img = (geometry[k] for k in ("kernel", "stride", "pads", "out", "img"))
    given = _ints(node, "pads", [0, 0, 0, 0])
    inside = all((out[a] - 1) * stride[a] + kernel[a] <= img[a] + given[a] + given[a + 2] for a in (0, 1))
    return inside and (not any(given) or bool(_int(node, "count_include_pad", 0)))


class FloorModePools(Transformation):
    """Every ceil-mode MaxPool / AveragePool of the exported graph as the same pool in floor mode with its
    end padding extended to PyTorch's last window (``pool_geometry``'s pads): ONNX's shape inference
    sizes a ceil-mode pool one output larger than PyTorch where the last window would start in the end
    padding, and the graph after it (a flatten, the classifier's weight) no longer fits. Runs where a
    graph enters the flow (flow/compiler/export.py ``clean_qonnx``), so the reference is executed with
    PyTorch's shapes too. Equal outputs: a max ignores padding, and
    an average whose windows reach the extension has a position-dependent divisor (refused).
    One pool per pass, in graph order, shapes inferred again after each: a pool's input size is right only
    once every ceil-mode pool before it has PyTorch's size (ONNX's may be one larger)."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node in model.graph.node:
            if node.op_type not in ("MaxPool", "AveragePool") or not _int(node, "ceil_mode", 0):
                continue
            geometry = pool_geometry(model, node)
            if geometry is None:
                continue
            for attr in list(node.attribute):
                if attr.name in ("ceil_mode", "pads"):
                    node.attribute.remove(attr)
            node.attribute.append(helper.make_attribute("pads", [int(p) for p in geometry["pads"]]))
            # the export's own shape inference already carried ONNX's larger size downstream, to the
            # graph's outputs too
            del model.graph.value_info[:]
            for out in model.graph.output:
                out.type.tensor_type.ClearField("shape")
            return model.transform(InferShapes()), True
        return model, False


def make_pool_node(inp: str, out: str, geometry: dict, channels: int, function: str, name: str, min_channels=None):
    """A generic (not yet specialized) ShiftbnnPool node in NHWC."""
    extra = {} if min_channels is None else {"MinChannels": [int(b) for b in min_channels]}
    return helper.make_node(
        POOL_OP,
        [inp],
        [out],
        domain=HW_DOMAIN,
        backend="fpgadataflow",
        name=name,
        Channels=int(channels),
        PE=1,
        ImgDim=[int(d) for d in geometry["img"]],
        Kernel=[int(d) for d in geometry["kernel"]],
        Stride=[int(d) for d in geometry["stride"]],
        Pads=[int(d) for d in geometry["pads"]],
        OutDim=[int(d) for d in geometry["out"]],
        Function=function,
        InputDataType="FLOAT32",
        **extra,
    )


def replace_nchw_pool(model: ModelWrapper, node, geometry: dict, function: str, min_channels=None) -> None:
    """Replace an NCHW pool ``node`` by Transpose -> ShiftbnnPool (NHWC) -> Transpose [-> Mul(1/n)]."""
    graph = model.graph
    x, y = node.input[0], node.output[0]
    n, c, _, _ = model.get_tensor_shape(x)
    (h, w), (oh, ow) = geometry["img"], geometry["out"]
    t_in, p_out = model.make_new_valueinfo_name(), model.make_new_valueinfo_name()
    model.set_tensor_shape(t_in, [n, h, w, c])
    model.set_tensor_shape(p_out, [n, oh, ow, c])
    new = [
        helper.make_node("Transpose", [x], [t_in], perm=NCHW_TO_NHWC),
        make_pool_node(t_in, p_out, geometry, c, function, f"{POOL_OP}_{node.name}", min_channels),
    ]
    if function == "sum":
        back, scale = model.make_new_valueinfo_name(), model.make_new_valueinfo_name()
        model.set_tensor_shape(back, [n, c, oh, ow])
        count = geometry["kernel"][0] * geometry["kernel"][1]
        model.set_initializer(scale, np.asarray(1.0 / count, dtype=np.float32))
        new.append(helper.make_node("Transpose", [p_out], [back], perm=NHWC_TO_NCHW))
        new.append(helper.make_node("Mul", [back, scale], [y]))
    else:
        new.append(helper.make_node("Transpose", [p_out], [y], perm=NHWC_TO_NCHW))
    replace_nodes(graph, [node], new)


POOL_FUNCTIONS = {"MaxPool": "max", "MaxPoolNHWC": "max", "AveragePool": "sum", "GlobalAveragePool": "sum"}


class ConvertPoolsToShiftbnn(Transformation):
    """See the module docstring."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        changed = False
        for node in list(model.graph.node):
            function = POOL_FUNCTIONS.get(node.op_type)
            geometry = pool_geometry(model, node) if function else None
            if geometry is None:
                continue
            if node.op_type == "MaxPoolNHWC":
                c = model.get_tensor_shape(node.input[0])[-1]
                pool = make_pool_node(node.input[0], node.output[0], geometry, c, function, f"{POOL_OP}_{node.name}")
                index = list(model.graph.node).index(node)
                model.graph.node.remove(node)
                model.graph.node.insert(index, pool)
            else:
                replace_nchw_pool(model, node, geometry, function)
            changed = True
        if changed:
            # every shape after a pool again, from ShiftbnnPool's own: ONNX's shape inference gives a
            # ceil-mode pool one more output than PyTorch and onnxruntime compute when the last window
            # would start in the end padding, and the exported graph carries that stale shape on
            del model.graph.value_info[:]
            model = model.transform(InferShapes())
            model = model.transform(InferDataTypes())
        return model, False


def channel_vector(model: ModelWrapper, const: np.ndarray, channels: int, axis: int) -> np.ndarray | None:
    """A constant that varies at most along the channel ``axis`` of a 4D tensor, as (channels,); None else."""
    c = np.asarray(const, dtype=np.float64)
    if c.ndim > 4:
        return None
    c = c.reshape((1,) * (4 - c.ndim) + c.shape)
    if any(c.shape[a] != 1 for a in range(4) if a != axis) or c.shape[axis] not in (1, channels):
        return None
    return np.broadcast_to(c.reshape(-1), (channels,)).copy()


class MoveLinearPastPool(Transformation):
    """Mul(x, a) -> ShiftbnnPool  ==>  ShiftbnnPool -> Mul(a) for a per-channel or scalar ``a``;
    Add(x, C) -> ShiftbnnPool  ==>  ShiftbnnPool -> Add(pool(C)) wherever the pool passes an offset
    (``pooled_offset``). The same through the pool's NCHW -> NHWC transpose (module docstring)."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for pool in model.graph.node:
            if pool.op_type != POOL_OP or getCustomOp(pool).get_nodeattr("data_layout") != "NHWC":
                continue
            lin = model.find_producer(pool.input[0])
            if lin is not None and lin.op_type == "Transpose" and _move_linear_past_transpose(model, lin, pool):
                return model, True
            if lin is None or lin.op_type not in ("Mul", "Add") or model.is_fork_node(lin):
                continue
            const = model.get_initializer(lin.input[1])
            if const is None or model.get_initializer(lin.input[0]) is not None:
                continue
            inst = getCustomOp(pool)
            if lin.op_type == "Add":
                pooled = pooled_offset(inst, const)
                if pooled is None:
                    continue
                set_offset(model, lin, pooled, scalar=np.asarray(const).size == 1)
            else:
                vec = channel_vector(model, const, inst.get_nodeattr("Channels"), axis=3)
                if vec is None:
                    continue
                if inst.get_nodeattr("Function") == "max":  # a < 0 swaps max and min
                    flips = zip(inst.min_channels(), vec, strict=True)
                    inst.set_nodeattr("MinChannels", [int(m != (a < 0)) for m, a in flips])
            _swap(model, lin, pool)
            return model, True
        return model, False


def _full(const: np.ndarray, shape) -> np.ndarray | None:
    """``const`` broadcast to the 4D ``shape`` (float64), None where it does not broadcast to it."""
    c = np.asarray(const, dtype=np.float64)
    if c.ndim > 4:
        return None
    try:
        return np.broadcast_to(c.reshape((1,) * (4 - c.ndim) + c.shape), tuple(shape))
    except ValueError:
        return None


def pooled_offset(inst, const: np.ndarray) -> np.ndarray | None:
    """The (1, OH, OW, C) offset after the pool ``inst`` (NHWC) equal to adding ``const`` before it,
    or None where no offset after the pool is:

    - sum pool (any window, stride, padding): sum_w (x + C) = sum_w x + sum_w C over the window's image
      positions (a pad adds 0 to both), so the offset is the sum pool of C;
    - max pool: max_w (x + b) = max_w x + b (min likewise) for a per-channel b; a position-dependent C
      passes only where every window holds one image position (the pool then subsamples), C at it."""
    g = inst.get_nodeattr
    (h, w), channels = g("ImgDim"), g("Channels")
    full = _full(const, (1, h, w, channels))
    if full is None:
        return None
    function = g("Function")
    out = g("OutDim")
    if function == "max" and channel_vector(None, const, channels, axis=3) is not None:
        return np.broadcast_to(full[:, :1, :1, :], (1, *out, channels))
    if function == "max" and not _subsamples(g("Kernel"), g("Stride"), g("Pads"), (h, w), out):
        return None
    return pool_nhwc(full, g("Kernel"), g("Stride"), g("Pads")[:2], out, "sum" if function == "sum" else "max")


def _subsamples(kernel, stride, pads, img, out) -> bool:
    """True when every window of the pool holds exactly one image position."""
    return all(
        end - begin == 1 for a in (0, 1) for begin, end in window_bounds(out[a], kernel[a], stride[a], pads[a], img[a])
    )


def set_offset(model: ModelWrapper, add, offset: np.ndarray, scalar: bool = False) -> None:
    """A fresh constant for ``add`` (another node may share the old one) holding the (1, H, W, C) NHWC
    ``offset``: a scalar (``scalar`` and one value), a (C,) vector where it is uniform over the positions
    (FINN's absorptions read a rank-4 constant as NCHW), else the full constant, which the settle step
    annotates NHWC (constant_layouts.py) so that FINN's ``AbsorbAddIntoMultiThreshold`` never takes it for
    a per-channel one (border_threshold.py's ``AbsorbBorderAddIntoThreshold`` absorbs it instead)."""
    name = model.make_new_valueinfo_name()
    if np.all(offset == offset[:, :1, :1, :]):
        vec = offset[0, 0, 0]
        value = vec[:1].reshape(()) if scalar and np.all(vec == vec[0]) else vec
        model.set_initializer(name, np.asarray(value, dtype=np.float32))
    else:
        model.set_initializer(name, offset.astype(np.float32))
    add.input[1] = name


def _move_linear_past_transpose(model: ModelWrapper, transpose, pool) -> bool:
    """Mul / Add of a constant on an NCHW map -> Transpose(NCHW -> NHWC) in front of ``pool``  ==>
    Transpose -> the same op with the constant transposed: ``T(x) + T(C)`` equals ``T(x + C)``. A
    per-channel (or scalar) constant becomes (C,), which broadcasts along NHWC's channel axis; a
    position-dependent one (an Add only) moves when the pool passes it (``pooled_offset``). The op then
    meets the pool (a per-channel bias of XNOR-Net's order, conv -> bias -> transpose -> average pool,
    which FINN leaves between the conv's and the pool's transposes). True when it moved one."""
    perm = _ints(transpose, "perm", [])
    lin = model.find_producer(transpose.input[0])
    if perm != NCHW_TO_NHWC or model.is_fork_node(transpose) or lin is None or model.is_fork_node(lin):
        return False
    if lin.op_type not in ("Mul", "Add") or model.get_initializer(lin.input[0]) is not None:
        return False
    const = model.get_initializer(lin.input[1])
    shape = model.get_tensor_shape(transpose.input[0])
    if const is None or shape is None or len(shape) != 4:
        return False
    vec = channel_vector(model, const, shape[1], axis=1)
    if vec is not None and np.asarray(const).size > 1:
        name = model.make_new_valueinfo_name()
        model.set_initializer(name, vec.astype(np.float32))
        lin.input[1] = name
    elif vec is None:
        full = _full(const, shape)
        if lin.op_type != "Add" or full is None or pooled_offset(getCustomOp(pool), full.transpose(perm)) is None:
            return False
        set_offset(model, lin, full.transpose(perm))
    _swap(model, lin, transpose)
    return True


def _swap(model: ModelWrapper, first, second) -> None:
    """first(x) -> second  ==>  second(x) -> first (first an elementwise op with one streamed input)."""
    x, mid, out = first.input[0], first.output[0], second.output[0]
    second.input[0] = x
    second.output[0] = mid
    first.input[0] = mid
    first.output[0] = out
    graph = model.graph
    graph.node.remove(first)
    graph.node.insert(list(graph.node).index(second) + 1, first)
    for name in (mid,):
        vi = model.get_tensor_valueinfo(name)
        if vi is not None:
            model.graph.value_info.remove(vi)
    model.set_tensor_shape(mid, model.get_tensor_shape(out))
    model.set_tensor_datatype(mid, DataType["FLOAT32"])


class MoveChannelLinearPastUnitFlatten(Transformation):
    """Mul / Add of a per-channel constant -> Flatten of a (1, 1, 1, C) map  ==>  Flatten -> the same op with
    the constant as (1, C): a 1x1 map flattens to its channels in order (a global pool's output before a
    classifier), so nothing but the constant's shape changes. FINN moves only scalar ones past a flatten."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for flat in model.graph.node:
            if flat.op_type not in ("Flatten", "Reshape"):
                continue
            lin = model.find_producer(flat.input[0])
            shape = model.get_tensor_shape(flat.input[0])
            if lin is None or lin.op_type not in ("Mul", "Add") or model.is_fork_node(lin) or shape is None:
                continue
            const = model.get_initializer(lin.input[1])
            if const is None or len(shape) != 4 or shape[1] * shape[2] != 1:
                continue
            vec = channel_vector(model, const, shape[3], axis=3)
            out_shape = model.get_tensor_shape(flat.output[0])
            if vec is None or out_shape != [1, shape[3]]:
                continue
            if np.asarray(const).size > 1:  # a scalar stays one (FINN moves scalars past the next product)
                model.set_initializer(lin.input[1], vec.reshape(1, -1).astype(np.float32))
            _swap(model, lin, flat)
            return model, True
        return model, False
