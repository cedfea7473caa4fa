"""flow/compiler/transforms: each transformation on a tiny hand-made graph (structure and qonnx execution before
and after), the residual streamlining on a tiny exported Bi-Real CNV, and the PE equalisation at adds."""

import copy

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

import flow.core.finn_env  # noqa: F401  (before finn.builder imports)
from flow.analysis.folding_rules import FoldingError, equalize_join_folding
from flow.builder.compile import compile_config, run_compile_steps
from flow.compiler.compile_steps import finn_config, step_streamline
from flow.compiler.folding_config import validate_folding
from flow.compiler.transforms.bipolar_pad import AbsorbBipolarPadIntoIm2Col
from flow.compiler.transforms.constant_layouts import AnnotateConstantLayouts
from flow.compiler.transforms.residual import StreamlineResidual, needs_residual_streamline
from flow.compiler.transforms.signed_threshold import AbsorbSignedMulIntoBinaryThreshold
from flow.core.boards import BOARDS
from flow.core.config import BuildState

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


@pytest.mark.fast
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


@pytest.mark.fast
@pytest.mark.parametrize("value", [0.0, 1.0])
def test_other_bipolar_pad_values_become_minus_one_and_a_border_correction(value):
    """PyTorch's zero padding (and +1): the hardware pads with -1 and the XNOR layer's
    output gets the border correction (value + 1)/2 * sum of the outside weights (popcount units)."""
    c, k = 3, 4
    reference = _run(_padded_conv(c=c, k=k, value=value, bipolar=True), x := _bipolar_input(c))
    fixed = _padded_conv(c=c, k=k, value=value).transform(AbsorbBipolarPadIntoIm2Col())
    assert [n.op_type for n in fixed.graph.node] == ["Transpose", "Im2Col", "XnorPopcountMatMul", "Add"]
    np.testing.assert_array_equal(2 * _run(fixed, (x + 1) / 2) - 9 * c, reference)
    # NHWC after the settle step (constant_layouts.py): FINN's AbsorbAddIntoMultiThreshold reads an
    # unannotated rank-4 constant as NCHW, and a (1, H, 1, 1) correction (one channel, a map one pixel
    # wide) as H per-channel values
    fixed = fixed.transform(AnnotateConstantLayouts())
    assert fixed.get_tensor_layout(fixed.graph.node[-1].input[1]) == ["N", "H", "W", "C"]


def _bipolar_input(c):
    return np.where(np.random.default_rng(1).random((1, c, 5, 5)) < 0.5, -1.0, 1.0).astype(np.float32)


@pytest.mark.fast
def test_pad_of_channels_is_left_alone():
    model = _padded_conv(pads=(0, 1, 1, 1, 0, 1, 1, 1))  # also pads the channels
    assert model.transform(AbsorbBipolarPadIntoIm2Col()).graph.node[0].op_type == "Pad"


# ---- AbsorbSignedMulIntoBinaryThreshold ----------------------------------------------------------


@pytest.mark.fast
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


@pytest.mark.fast
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


def _streamlined(model_name, kwargs, tmp_path, calibrate=False):
    """Export an untrained model (random BatchNorm gammas of both signs; ``calibrate``: running
    statistics measured on random images, so labels vary) and run FINN's plain streamlining.
    Returns (qonnx, tidy graph, FINN-streamlined graph, input shape)."""
    from brevitas_models.registry import build_model, input_shape
    from flow.compiler.compile_steps import finn_steps
    from flow.compiler.export import export_model

    torch.manual_seed(0)
    net = build_model(model_name, **kwargs).eval()
    shape = input_shape(model_name, kwargs)
    bns = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d)]
    with torch.no_grad():  # BatchNorm with both signs of gamma (the head's BN1d is the interesting one)
        for m in bns:
            m.weight.copy_(torch.randn(m.num_features))
            m.running_mean.copy_(torch.randn(m.num_features))
        if calibrate:  # as tests/test_bireal_finn.py::calibrated_bireal: layer by layer
            x = torch.randint(0, 256, (64, *shape)).float()
            for m in bns:
                m.bias.copy_(0.5 * torch.randn(m.num_features))
                m.reset_running_stats()
                m.momentum = None
                m.train()
                net(x)
                m.eval()
    qonnx = export_model(net, shape, tmp_path / "q.onnx")
    cfg = compile_config(BOARDS["Pynq-Z2"], tmp_path)
    tidy = run_compile_steps(qonnx, cfg, until="tidy_up", save=False).model
    return qonnx, tidy, finn_steps.step_streamline(copy.deepcopy(tidy), finn_config(cfg)), shape


@pytest.mark.slow  # ~13 s
def test_bireal_residual_graph_streamlines_to_integer_nodes(tmp_path):
    kwargs = {"width": 0.125, "blocks": [1, 1, 1], "in_size": 8, "shift": 0.3}
    qonnx, _, finn_only, shape = _streamlined("bireal_cnv", kwargs, tmp_path, calibrate=True)
    assert needs_residual_streamline(finn_only)
    assert {"Pad", "ShiftbnnPool", "Mul"} <= {n.op_type for n in finn_only.graph.node}

    model = finn_only.transform(StreamlineResidual())
    ops = [n.op_type for n in model.graph.node]
    assert not {"Pad", "Mul", "GlobalAveragePool", "MaxPool"} & set(ops), ops
    assert ops.count("Transpose") == 1 and ops[0] == "Transpose"  # only the NCHW input
    assert ops.count("Add") == 1 and ops.count("ShiftbnnPool") == 3  # 2 max pools, the global sum
    for node in model.graph.node:  # every tensor between input and TopK is an integer
        if node.op_type != "TopK":
            assert all(model.get_tensor_datatype(o).is_integer() for o in node.output), node.name
    (add,) = model.get_nodes_by_op_type("Add")
    staircase = model.get_initializer(model.find_consumer(add.output[0]).input[1])
    np.testing.assert_array_equal(staircase, np.arange(-127, 128)[None])  # Q(sum) = clamp to INT8
    images = np.random.default_rng(3).integers(0, 256, size=(8, *shape)).astype(np.float32)
    labels = []
    for image in images:
        logits = _run(qonnx, image[None])
        labels.append(int(_run(model, image[None]).flatten()[0]))
        assert logits[0, labels[-1]] == logits.max()
    assert len(set(labels)) > 1, labels


@pytest.mark.parametrize(
    ("model_name", "kwargs"),
    [
        pytest.param("xnor_mlp", {"hidden": [16, 16], "in_features": 64}, marks=pytest.mark.fast),
    ],
)
def test_chain_networks_skip_the_residual_pass(model_name, kwargs, tmp_path):
    """On a chain network without pools our step_streamline is FINN's: same ops, same initializers (with
    pools it is not, by design: issue 25's pool handling (flow/compiler/transforms/pools.py) turns FINN's
    pool nodes into ShiftbnnPool and absorbs the head's scale, so a CNV differs from FINN's graph)."""
    _, tidy, finn_only, _ = _streamlined(model_name, kwargs, tmp_path)
    assert not needs_residual_streamline(finn_only)
    state = BuildState(model=tidy)
    step_streamline(state, compile_config(BOARDS["Pynq-Z2"], tmp_path))
    ours = state.model
    # the verification's graph is a snapshot: later steps rewrite state.model's nodes in place
    assert state.graphs["streamlined"].model is not ours.model
    assert state.graphs["streamlined"].model == ours.model
    assert [n.op_type for n in ours.graph.node] == [n.op_type for n in finn_only.graph.node]
    for a, b in zip(ours.graph.node, finn_only.graph.node, strict=True):
        for x, y in zip(a.input, b.input, strict=True):
            va, vb = ours.get_initializer(x), finn_only.get_initializer(y)
            assert (va is None) == (vb is None), (a.name, x)
            if va is not None:
                np.testing.assert_array_equal(va, vb)


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


@pytest.mark.fast
def test_residual_add_and_both_operand_producers_get_one_pe():
    model = equalize_join_folding(_residual_add_graph())
    assert [getCustomOp(n).get_nodeattr("PE") for n in model.graph.node] == [4, 4, 4]


@pytest.mark.fast
def test_fork_producer_and_requantizer_join_the_add_pe():
    """x -> Thresholding (PE 1) -> fork ... add -> Thresholding (PE 2): the fork's producer and the
    add's re-quantizer take the add's PE too (no DWC at the fork or in front of the fused requant)."""
    model = _residual_add_graph()
    c, pix = 8, [1, 4, 4]
    common = {"domain": HW, "numInputVectors": pix, "inputDataType": "INT8", "NumChannels": c, "numSteps": 1}
    dup = model.graph.node[0]
    dup.input[0] = "q"
    pre = helper.make_node("Thresholding_hls", ["x", "t0"], ["q"], PE=1, outputDataType="INT8", **common)
    post = helper.make_node("Thresholding_hls", ["y", "t1"], ["z"], PE=2, outputDataType="INT8", **common)
    model.graph.node.insert(0, pre)
    model.graph.node.append(post)
    model.graph.output[0].name = "z"
    model = equalize_join_folding(model)
    assert [getCustomOp(n).get_nodeattr("PE") for n in model.graph.node] == [4, 4, 4, 4, 4]


@pytest.mark.slow
def test_folded_bireal_has_no_dwc_at_its_adds(tmp_path):
    """SetFolding + equalize_join_folding on a tiny Bi-Real CNV: the RTL graph (FINN's InsertDWC)
    has no data-width converter at a fork's input, between fork and add or between the add and its
    re-quantizing Thresholding, so every add is fused with its re-quantizer (INT8 output)."""
    from brevitas_models.registry import build_model, input_shape
    from flow.compiler.export import export_model
    from flow.core.hw_graph import ADD_OP
    from flow.rtl_backend.graph import rtl_graph

    kwargs = {"width": 0.125, "blocks": [1, 1, 1], "shift": 0.3}
    torch.manual_seed(0)
    net = build_model("bireal_cnv", **kwargs).eval()
    model = export_model(net, input_shape("bireal_cnv", kwargs), tmp_path / "q.onnx")
    cfg = compile_config(BOARDS["Pynq-Z2"], tmp_path, target_fps=100_000)
    model = run_compile_steps(model, cfg, until="folding", save=False).model
    adds = model.get_nodes_by_op_type("ElementwiseAdd_hls")
    assert adds  # blocks whose shape does not change keep an identity shortcut
    for add in adds:
        (thr,) = model.find_consumers(add.output[0])
        assert thr.op_type.startswith("Thresholding")
        pe = getCustomOp(add).get_nodeattr("PE")
        dup = next(p for p in map(model.find_producer, add.input) if p.op_type.startswith("DuplicateStreams"))
        around = [getCustomOp(n) for n in (thr, dup, *map(model.find_producer, add.input))]
        assert all(inst.get_nodeattr("PE") == pe for inst in around), add.name
    g = rtl_graph(model, BOARDS["Pynq-Z2"].part)
    fused = g.get_nodes_by_op_type(ADD_OP)
    out_bits = [helper.get_attribute_value(a) for n in fused for a in n.attribute if a.name == "OutBits"]
    assert out_bits == [8] * len(adds)
    for node in g.graph.node:
        if node.op_type.startswith("StreamingDataWidthConverter"):
            before, after = _stream_neighbours(g, node)
            assert ADD_OP not in (before.op_type, after.op_type), node.name
            assert not after.op_type.startswith("DuplicateStreams"), node.name


def _stream_neighbours(g, node) -> tuple:
    """The nodes right before and after ``node``, FIFOs skipped."""
    before = g.find_producer(node.input[0])
    while before.op_type.startswith("StreamingFIFO"):
        before = g.find_producer(before.input[0])
    after = g.find_consumer(node.output[0])
    while after.op_type.startswith("StreamingFIFO"):
        after = g.find_consumer(after.output[0])
    return before, after


@pytest.mark.fast
def test_folding_json_checks_the_residual_node_types():
    model = _residual_add_graph().transform(GiveUniqueNodeNames())
    validate_folding(model, {"ElementwiseAdd_hls_0": {"PE": 8}, "DuplicateStreams_hls_0": {"PE": 4}})
    with pytest.raises(FoldingError, match=r"ElementwiseAdd_hls_0: both operands of the residual add need one PE, "):
        validate_folding(model, {"DuplicateStreams_hls_0": {"PE": 2}})
    with pytest.raises(FoldingError, match=r"DuplicateStreams_hls_0 PE=8, Thresholding_hls_0 PE=4"):
        validate_folding(model, {"Defaults": {"PE": [8, ["DuplicateStreams_hls"]]}})
    with pytest.raises(FoldingError, match="PE=3 does not divide channels=8"):
        validate_folding(model, {"ElementwiseAdd_hls_0": {"PE": 3}})
    with pytest.raises(FoldingError, match="PE=16 does not divide NumChannels=8"):
        validate_folding(model, {"DuplicateStreams_hls_0": {"PE": 16}})
