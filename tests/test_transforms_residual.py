"""flow/transforms: each transformation on a tiny hand-made graph (structure and qonnx execution before
and after), the residual streamlining on a tiny exported Bi-Real CNV, and the PE equalisation at adds."""

import numpy as np
import pytest
import torch
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.general import GiveUniqueNodeNames
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes

import flow.finn_env  # noqa: F401  (before finn.builder imports)
from flow.boards import BOARDS
from flow.finn_steps import StepContext, step_qonnx_to_finn, step_tidy_up
from flow.folding import FoldingError, equalize_join_folding, validate_folding
from flow.transforms.bipolar_pad import AbsorbBipolarPadIntoIm2Col
from flow.transforms.residual import StreamlineResidual, needs_residual_streamline
from flow.transforms.signed_threshold import AbsorbSignedMulIntoBinaryThreshold

pytestmark = pytest.mark.fast
GEN = "qonnx.custom_op.general"
HW = "finn.custom_op.fpgadataflow.hls"


def _model(nodes, inputs, outputs, inits, dtypes):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
    )
    model = ModelWrapper(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))
    for name, value in inits.items():
        value = np.asarray(value)
        model.set_initializer(name, value if value.dtype == np.int64 else value.astype(np.float32))
    for name, dt in dtypes.items():
        model.set_tensor_datatype(name, DataType[dt])
    model = model.transform(InferShapes())
    return model.transform(InferDataTypes())


def _run(model, x):
    return execute_onnx(model, {model.graph.input[0].name: x})[model.graph.output[0].name]


# ---- AbsorbBipolarPadIntoIm2Col ------------------------------------------------------------------


def _padded_conv(c=3, hw=5, k=4, value=-1.0, bipolar=False, pads=(0, 0, 1, 1, 0, 0, 1, 1)):
    """x (NCHW) -> Pad(1 pixel, value) -> Transpose to NHWC -> Im2Col 3x3 -> (Xnor)MatMul."""
    nodes = [
        helper.make_node("Pad", ["x", "pads", "v"], ["p"], mode="constant"),
        helper.make_node("Transpose", ["p"], ["t"], perm=[0, 2, 3, 1]),
        helper.make_node(
            "Im2Col",
            ["t"],
            ["i"],
            domain=GEN,
            stride=[1, 1],
            kernel_size=[3, 3],
            input_shape=f"(1,{hw + 2},{hw + 2},{c})",
        ),
        helper.make_node(
            "MatMul" if bipolar else "XnorPopcountMatMul", ["i", "w"], ["y"], domain="" if bipolar else GEN
        ),
    ]
    w = np.random.default_rng(0).integers(0, 2, size=(9 * c, k)).astype(np.float32)
    inits = {"pads": np.array(pads, dtype=np.int64), "v": np.array(value), "w": 2 * w - 1 if bipolar else w}
    dt = "BIPOLAR" if bipolar else "BINARY"
    return _model(nodes, [("x", [1, c, hw, hw])], [("y", [1, hw, hw, k])], inits, {"x": dt, "w": dt})


def test_bipolar_pad_becomes_im2col_padding_with_the_binary_code_of_minus_one():
    c, k = 3, 4
    bipolar = _padded_conv(c=c, k=k, bipolar=True)  # the maths FINN must keep: pad with -1, then +-1 dot
    binary = _padded_conv(c=c, k=k)  # after FINN's ConvertBipolarMatMulToXnorPopcount
    x = np.where(np.random.default_rng(1).random((1, c, 5, 5)) < 0.5, -1.0, 1.0).astype(np.float32)
    reference = _run(bipolar, x)
    as_popcount = lambda p: 2 * p - 9 * c  # noqa: E731  (XNOR popcount P of K bits: dot = 2P - K)
    assert not np.array_equal(as_popcount(_run(binary, (x + 1) / 2)), reference)  # FINN leaves Pad(-1)

    fixed = binary.transform(AbsorbBipolarPadIntoIm2Col())
    assert [n.op_type for n in fixed.graph.node] == ["Transpose", "Im2Col", "XnorPopcountMatMul"]
    im2col = getCustomOp(fixed.graph.node[1])
    assert im2col.get_nodeattr("pad_amount") == [1, 1, 1, 1] and im2col.get_nodeattr("pad_value") == 0
    np.testing.assert_array_equal(as_popcount(_run(fixed, (x + 1) / 2)), reference)


def test_pad_of_channels_or_an_impossible_value_is_left_alone():
    model = _padded_conv(value=2.0)  # 2 is no BINARY value
    assert model.transform(AbsorbBipolarPadIntoIm2Col()).graph.node[0].op_type == "Pad"
    model = _padded_conv(pads=(0, 1, 1, 1, 0, 1, 1, 1))  # also pads the channels
    assert model.transform(AbsorbBipolarPadIntoIm2Col()).graph.node[0].op_type == "Pad"


# ---- AbsorbSignedMulIntoBinaryThreshold ----------------------------------------------------------


def test_signed_mul_goes_into_thresholds_and_flipped_xnor_rows():
    c, n = 6, 5
    a = np.array([[0.5, -0.5, 0.25, -0.25, 0.0, -2.0]])  # positive, negative and zero scales
    t = np.array([[1.0], [1.0], [-0.75], [0.5], [0.0], [3.0]])  # exact ties at integer x included
    w = np.random.default_rng(2).integers(0, 2, size=(c, n)).astype(np.float32)
    nodes = [
        helper.make_node("Mul", ["x", "a"], ["m"]),
        helper.make_node("MultiThreshold", ["m", "t"], ["b"], domain=GEN, out_dtype="BINARY"),
        helper.make_node("XnorPopcountMatMul", ["b", "w"], ["y"], domain=GEN),
    ]
    model = _model(nodes, [("x", [1, c])], [("y", [1, n])], {"a": a, "t": t, "w": w}, {"x": "INT6", "w": "BINARY"})
    xs = np.arange(-32, 32, dtype=np.float32)[:, None].repeat(c, axis=1)  # every INT6 value per channel
    before = np.concatenate([_run(model, x[None]) for x in xs])

    after_model = model.transform(AbsorbSignedMulIntoBinaryThreshold())
    assert [n.op_type for n in after_model.graph.node] == ["MultiThreshold", "XnorPopcountMatMul"]
    assert after_model.graph.node[0].input[0] == "x"
    thresholds = after_model.get_initializer(after_model.graph.node[0].input[1])
    assert np.array_equal(thresholds, np.round(thresholds))  # integer thresholds
    flipped = after_model.get_initializer("w") != w
    assert flipped.any(axis=1).tolist() == [False, True, False, True, False, True]
    after = np.concatenate([_run(after_model, x[None]) for x in xs])
    np.testing.assert_array_equal(after, before)


def test_float_input_keeps_the_mul():
    nodes = [
        helper.make_node("Mul", ["x", "a"], ["m"]),
        helper.make_node("MultiThreshold", ["m", "t"], ["b"], domain=GEN, out_dtype="BINARY"),
        helper.make_node("XnorPopcountMatMul", ["b", "w"], ["y"], domain=GEN),
    ]
    inits = {"a": [[-1.0, 1.0]], "t": [[0.0], [0.0]], "w": [[1.0], [0.0]]}
    model = _model(nodes, [("x", [1, 2])], [("y", [1, 1])], inits, {"w": "BINARY"})
    assert model.transform(AbsorbSignedMulIntoBinaryThreshold()).graph.node[0].op_type == "Mul"


# ---- StreamlineResidual on an exported Bi-Real CNV -----------------------------------------------


def _streamlined(model_name, kwargs, tmp_path):
    from brevitas_models.registry import build_model, input_shape
    from flow.export import export_model
    from flow.finn_steps import finn_steps

    torch.manual_seed(0)
    net = build_model(model_name, **kwargs).eval()
    with torch.no_grad():  # BatchNorm with both signs of gamma (the head's BN1d is the interesting one)
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d):
                m.weight.copy_(torch.randn(m.num_features))
                m.running_mean.copy_(torch.randn(m.num_features))
    shape = input_shape(model_name, kwargs)
    qonnx = export_model(net, shape, tmp_path / "q.onnx")
    ctx = StepContext(board=BOARDS["Pynq-Z2"], workdir=tmp_path)
    model = step_tidy_up(step_qonnx_to_finn(qonnx, ctx), ctx)
    return qonnx, finn_steps.step_streamline(model, ctx.finn_cfg), shape


def test_bireal_residual_graph_streamlines_to_integer_nodes(tmp_path):
    kwargs = {"width": 0.125, "blocks": [1, 1, 1], "in_size": 8, "shift": 0.3}
    qonnx, finn_only, shape = _streamlined("bireal_cnv", kwargs, tmp_path)
    assert needs_residual_streamline(finn_only)
    assert {"Pad", "GlobalAveragePool", "Mul"} <= {n.op_type for n in finn_only.graph.node}

    model = finn_only.transform(StreamlineResidual())
    ops = [n.op_type for n in model.graph.node]
    assert not {"Pad", "Mul", "GlobalAveragePool", "MaxPool"} & set(ops), ops
    assert ops.count("Transpose") == 1 and ops[0] == "Transpose"  # only the NCHW input
    assert ops.count("Add") == 1 and ops.count("GlobalAccPool") == 1 and ops.count("MaxPoolNHWC") == 2
    for node in model.graph.node:  # every tensor between input and TopK is an integer
        if node.op_type != "TopK":
            assert all(model.get_tensor_datatype(o).is_integer() for o in node.output), node.name
    (add,) = model.get_nodes_by_op_type("Add")
    staircase = model.get_initializer(model.find_consumer(add.output[0]).input[1])
    np.testing.assert_array_equal(staircase, np.arange(-127, 128)[None])  # Q(sum) = clamp to INT8
    images = np.random.default_rng(3).integers(0, 256, size=(8, *shape)).astype(np.float32)
    for image in images:
        logits = _run(qonnx, image[None])
        label = _run(model, image[None]).flatten()[0]
        assert logits[0, int(label)] == logits.max()


def test_chain_networks_skip_the_residual_pass(tmp_path):
    _, model, _ = _streamlined("xnor_mlp", {"hidden": [16, 16], "in_features": 64}, tmp_path)
    assert not needs_residual_streamline(model)


# ---- equalize_join_folding -----------------------------------------------------------------------


def _residual_add_graph():
    c, pix = 8, [1, 4, 4]
    common = {"domain": HW, "numInputVectors": pix, "inputDataType": "INT8"}
    nodes = [
        helper.make_node(
            "DuplicateStreams_hls", ["x"], ["d0", "d1"], NumChannels=c, PE=2, NumOutputStreams=2, **common
        ),
        helper.make_node(
            "Thresholding_hls", ["d0", "t"], ["r"], NumChannels=c, PE=4, outputDataType="INT8", numSteps=1, **common
        ),
        helper.make_node(
            "ElementwiseAdd_hls",
            ["d1", "r"],
            ["y"],
            domain=HW,
            PE=1,
            lhs_shape=[1, 4, 4, c],
            rhs_shape=[1, 4, 4, c],
            out_shape=[1, 4, 4, c],
            lhs_dtype="INT8",
            rhs_dtype="INT8",
            out_dtype="INT9",
        ),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 4, c])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 4, c])],
    )
    return ModelWrapper(helper.make_model(graph))


def test_residual_add_and_both_operand_producers_get_one_pe():
    model = equalize_join_folding(_residual_add_graph())
    assert [getCustomOp(n).get_nodeattr("PE") for n in model.graph.node] == [4, 4, 4]


def test_folding_json_checks_the_residual_node_types():
    model = _residual_add_graph().transform(GiveUniqueNodeNames())
    validate_folding(model, {"ElementwiseAdd_hls_0": {"PE": 8}, "DuplicateStreams_hls_0": {"PE": 2}})
    with pytest.raises(FoldingError, match="PE=3 does not divide channels=8"):
        validate_folding(model, {"ElementwiseAdd_hls_0": {"PE": 3}})
    with pytest.raises(FoldingError, match="PE=16 does not divide NumChannels=8"):
        validate_folding(model, {"DuplicateStreams_hls_0": {"PE": 16}})
