"""The pieces that let any binary network compile, each against its maths (pure Python, no build):
threshold clamping, output ties, quantizer margins of a QONNX graph, layout-only nodes, the width
converter's cycles against a cycle-by-cycle model of its RTL counter, the
resource model's calibration, the verification data set."""

import math

import numpy as np
import pytest
import torch
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from torch import nn

from brevitas_models.quant import ShiftedBinaryAct
from flow.analysis.cycles import dwc_cycles
from flow.compiler.export import export_model
from flow.compiler.network import Network, verification_images
from flow.compiler.ties import acceptable_labels, label_agrees, qonnx_margins
from flow.compiler.transforms.clamp_thresholds import clamp_thresholds
from flow.data.builtin import DatasetError
from flow.rtl_backend.layout import FuseReorderChains, WireThroughLayoutNodes, keeps_stream_order, reorder_of
from hw.golden.stream_reorder import reorder_frame

pytestmark = pytest.mark.fast


@pytest.mark.parametrize("lo, hi", [(0, 37), (-765, 765)])
def test_clamped_thresholds_change_no_reachable_comparison(lo, hi):
    rng = np.random.default_rng(hi)
    T = rng.uniform(lo - 3 * (hi - lo), hi + 3 * (hi - lo), size=(11, 3)).astype(np.float32)
    clamped = clamp_thresholds(T, lo, hi)
    assert clamped.min() >= lo and clamped.max() <= hi + 1
    acc = np.arange(lo, hi + 1)[:, None, None]
    assert np.array_equal(acc >= T[None], acc >= clamped[None])  # every reachable accumulator, every threshold


def test_output_ties_accept_any_maximal_logit_within_float_noise():
    logits = np.array(
        [
            [0.1, 0.09999999, -0.3],  # an exact tie broken by float32 noise: both maxima agree
            [0.3, 0.2, 0.1],  # a clear winner
            [1000.0, 1000.0001, 999.0],  # relative tolerance at large logits
        ],
        dtype=np.float32,
    )
    ok = acceptable_labels(logits)
    assert ok.tolist() == [[True, True, False], [True, False, False], [True, True, False]]
    assert label_agrees(ok, np.array([1, 1, 0])).tolist() == [True, False, True]
    assert not label_agrees(ok, np.array([7, -1, 0]))[:2].any()  # out-of-range labels never agree


def test_qonnx_margins_measure_the_distance_to_the_sign_boundary(tmp_path):
    lin = nn.Linear(2, 1, bias=False)
    lin.weight.data = torch.tensor([[1.0, -1.0]])
    model = nn.Sequential(lin, ShiftedBinaryAct(1.0), nn.Linear(1, 2)).eval()
    graph = export_model(model, (2,), tmp_path / "m.onnx")
    images = np.array([[3.0, 1.0], [3.0, 2.0], [0.0, 4.0]], dtype=np.float32)  # x - t = 1, 0, -5
    np.testing.assert_allclose(qonnx_margins(graph, images), [1.0, 0.0, 5.0], atol=1e-6)


def _shuffle_graph(in_shape, perm):
    out_shape = [in_shape[p] for p in perm]
    nodes = [
        helper.make_node("Identity", ["x"], ["a"], name="src"),
        helper.make_node(
            "Shuffle",
            ["a"],
            ["b"],
            name="Shuffle_0",
            domain="finn.custom_op.fpgadataflow",
            data_type="BIPOLAR",
            transpose_in_shape=in_shape,
            in_shape=in_shape,
            transpose_out_shape=out_shape,
            out_shape=out_shape,
            perm=perm,
        ),
        helper.make_node("Identity", ["b"], ["y"], name="dst"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
    )
    return ModelWrapper(helper.make_model(graph))


@pytest.mark.parametrize(
    "shape, perm, wire",
    [
        ([1, 8, 1, 1], [0, 2, 3, 1], True),  # NCHW -> NHWC of a 1x1 map: same element order
        ([1, 8, 2, 2], [0, 2, 3, 1], False),  # a real reorder
    ],
)
def test_only_order_keeping_shuffles_become_wires(shape, perm, wire):
    model = _shuffle_graph(shape, perm)
    assert keeps_stream_order(model.graph.node[1]) == wire
    model = model.transform(WireThroughLayoutNodes())
    ops = [n.op_type for n in model.graph.node]
    assert ops == (["Identity", "Identity"] if wire else ["Identity", "Shuffle", "Identity"])
    if wire:
        assert model.graph.node[1].input[0] == "a"


@pytest.mark.parametrize(
    "shape, perm",
    [([1, 6, 4, 3], [0, 2, 1, 3]), ([1, 3, 4, 5], [0, 3, 1, 2]), ([2, 3, 4, 5], [3, 1, 0, 2]), ([1, 5, 7], [0, 2, 1])],
)
def test_finn_shuffle_decomposition_fuses_back_into_one_reorder(shape, perm):
    """FINN's step_transpose_decomposition makes one Shuffle a chain of InnerShuffle / OuterShuffle nodes
    (each a whole frame in memory in our RTL); FuseReorderChains makes it one Shuffle with the same walk."""
    from finn.transformation.fpgadataflow.specialize_layers import SpecializeLayers
    from finn.transformation.fpgadataflow.transpose_decomposition import InferInnerOuterShuffles, ShuffleDecomposition
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.transformation.infer_shapes import InferShapes

    model = _shuffle_graph(shape, perm).transform(InferShapes())
    x = np.random.default_rng(0).choice([-1.0, 1.0], shape).astype(np.float32)
    want = execute_onnx(model, {"x": x})["y"]
    model = model.transform(ShuffleDecomposition()).transform(InferInnerOuterShuffles())
    model = model.transform(SpecializeLayers("xc7z020clg400-1"))
    model = model.transform(FuseReorderChains())
    (node,) = [n for n in model.graph.node if n.op_type != "Identity"]  # one reorder (FINN may make one)
    order = np.arange(x.size)
    assert np.array_equal(reorder_frame(order, *reorder_of(node)), reorder_frame(order, shape, perm))
    if node.op_type == "Shuffle":  # a fused chain (FINN's HLS halves have no Python execution)
        assert np.array_equal(execute_onnx(model, {"x": x})["y"], want)


def test_verification_images_from_a_named_dataset():
    net = Network("user", None, (), None, None)
    images, labels, source = verification_images(net, (1, 1, 8, 8), 30, dataset="digits")
    assert source == "digits" and images.shape == (30, 1, 8, 8) and labels.shape == (30,)
    assert images.max() > 1  # raw UINT8 pixels, the build's input convention
    with pytest.raises(DatasetError, match="the network takes"):
        verification_images(net, (1, 1, 28, 28), 5, dataset="digits")
    with pytest.raises(DatasetError, match="needs --data-dir"):
        verification_images(net, (1, 3, 32, 32), 5, dataset="cifar10")
    # a checkpoint's data set that does not load falls back to random inputs
    images, labels, source = verification_images(Network("m", None, (), None, "cifar10"), (1, 3, 32, 32), 4)
    assert source == "random" and labels is None and images.shape == (4, 3, 32, 32)


def test_an_mlp_verifies_on_an_image_folder_flattened(tmp_path):
    """An MLP that takes 3*28*28 values checks an ImageNet-layout folder read at 28 px and flattened
    (C, H, W order); the RGB image folder the same way at its own size."""
    from data_folders import write_image_folder

    root = write_image_folder(tmp_path / "f", ["a", "b"], train=2, test=3, size=(40, 30), mode="RGB")
    (root / "test").rename(root / "val")
    net = Network("mlp", None, (), None, None)
    images, labels, source = verification_images(net, (1, 3 * 28 * 28), 6, dataset="imagenet", data_dir=root)
    assert source == "imagenet" and images.shape == (6, 3 * 28 * 28) and sorted(set(labels.tolist())) == [0, 1]
    (root / "val").rename(root / "test")
    images, _, _ = verification_images(net, (1, 3 * 8 * 8), 6, dataset="image-folder", data_dir=root, image_size=8)
    assert images.shape == (6, 192) and images.max() > 1  # raw pixels
    with pytest.raises(DatasetError, match=r"images of shape \[3, 30, 40\], the network takes \[192\]"):
        verification_images(net, (1, 192), 6, dataset="image-folder", data_dir=root)


def _stream_dwc_cycles(in_bits: int, out_bits: int, runs: int) -> int:
    """Cycle-by-cycle model of hw/rtl/stream_dwc.sv's control (in lanes of gcd bits), source and sink
    never stalling; ready and valid are registered, i.e. decided on the cycle's starting state.
    Gearbox: input ready while cnt <= C - PI, output valid while cnt >= PO. Deserializer (PI = 1):
    input ready while no beat is parked, output valid when the register holds PO beats.
    Returns the cycles until ``runs`` lcm-runs are out."""
    g = math.gcd(in_bits, out_bits)
    pi, po = in_bits // g, out_bits // g
    cap = pi + po + min(pi, po) - 1
    n_in, n_out = runs * po, runs * pi  # beats of `runs` lcm runs (lcm = pi * po lanes)
    cnt, parked, done_in, done_out, cycles = 0, False, 0, 0, 0
    while done_out < n_out:
        if pi == 1:
            give = cnt == po
            take = not parked and done_in < n_in
            shift = give if parked else take and (cnt < po or give)
            parked = (take and cnt == po and not give) or (parked and not give)
            cnt = int(shift) if give else cnt + shift
        else:
            take, give = cnt <= cap - pi and done_in < n_in, cnt >= po
            cnt += (pi if take else 0) - (po if give else 0)
        done_in, done_out, cycles = done_in + take, done_out + give, cycles + 1
    return cycles


def test_width_converter_cycles_match_the_rtl_counter():
    """The cycle model's max(in, out) beats is stream_dwc's steady state (from its counter rules) on
    seeded random width pairs, divisible or not; hw/tb/stream_dwc checks the RTL against it."""
    rng = np.random.default_rng(3)
    pairs = [(64, 36), (36, 64), (24, 16), (216, 64), (8, 64), (64, 8), (32, 32), (1, 576), (2, 576)]
    pairs += [(int(a), int(b)) for a, b in rng.integers(1, 300, size=(40, 2))]
    for in_bits, out_bits in pairs:
        runs = 12
        lcm = math.lcm(in_bits, out_bits)
        frame = (runs * lcm // in_bits, in_bits), (runs * lcm // out_bits, out_bits)
        steady = _stream_dwc_cycles(in_bits, out_bits, runs + 1) - _stream_dwc_cycles(in_bits, out_bits, 1)
        assert dwc_cycles(*frame) == steady, (in_bits, out_bits)
    assert dwc_cycles((7056, 64), (12544, 36)) == 12544  # CNV-W1A1 at SetFolding's folding (vpc: 18816)
    with pytest.raises(ValueError, match="converter frame"):
        dwc_cycles((10, 8), (7, 12))
