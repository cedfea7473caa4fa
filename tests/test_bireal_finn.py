"""Bi-Real CNV through the FINN compile steps (the folded HW graph must give Brevitas' label, checked
with ``flow/compiler/verify.py`` as the build does) and through ``flow/build.py`` down to the simulated RTL."""

import json

import numpy as np
import pytest
import torch

from brevitas_models.quant import ShiftedBinaryAct, residual_quant
from brevitas_models.registry import build_model, input_shape
from flow.builder.compile import compile_config, run_compile_steps
from flow.compiler.export import export_model, torch_forward
from flow.compiler.network import Network, verification_images
from flow.compiler.verify import TIE_MARGIN, binary_margins, generic_hw_model, verify_chain
from flow.core.boards import BOARDS
from flow.data.builtin import fashion_mnist_dir

needs_data = pytest.mark.skipif(fashion_mnist_dir() is None, reason="needs Debian's dataset-fashion-mnist")
KWARGS = {"width": 0.125, "blocks": [1, 1, 1], "shift": 0.3}
HW_OPS = {
    "FMPadding_rtl",
    "ConvolutionInputGenerator_rtl",
    "MVAU_hls",
    "DuplicateStreams_hls",
    "Thresholding_rtl",
    "ElementwiseAdd_hls",
    "Pool_hls",
    "GlobalAccPool_hls",
    "LabelSelect_hls",
}


def calibrated_bireal(images: np.ndarray) -> torch.nn.Module:
    """Untrained tiny bireal_cnv whose BatchNorms have random gammas of both signs and running
    statistics measured on ``images``, so activations and labels are not degenerate."""
    torch.manual_seed(0)
    net = build_model("bireal_cnv", **KWARGS)
    bns = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d)]
    x = torch.as_tensor(images)
    with torch.no_grad():
        for bn in bns:
            bn.weight.copy_(torch.randn(bn.num_features))
            bn.bias.copy_(0.5 * torch.randn(bn.num_features))
        for bn in bns:  # layer by layer: each BN sees the statistics of the calibrated layers before it
            bn.reset_running_stats()
            bn.momentum = None
            bn.train()
            net(x)
            bn.eval()
    return net.eval()


@pytest.mark.slow
@needs_data  # BatchNorm calibrated on real images (random ones give a network with one answer)
def test_folded_bireal_graph_matches_brevitas(tmp_path):
    shape = input_shape("bireal_cnv", KWARGS)
    net_info = Network("bireal_cnv", None, shape, 0.3, None)
    images, labels, _ = verification_images(net_info, (1, *shape), 220, dataset="fashion-mnist")
    net = calibrated_bireal(images[20:])
    images, labels = images[:20], (None if labels is None else labels[:20])
    qonnx = export_model(net, shape, tmp_path / "qonnx.onnx")
    cfg = compile_config(BOARDS["Pynq-Z2"], tmp_path, target_fps=100_000)
    state = run_compile_steps(qonnx, cfg, save=False)
    model, graphs = state.model, state.graphs
    assert {n.op_type for n in model.graph.node} == HW_OPS
    graphs["finn"] = generic_hw_model(model, state.parent, tmp_path / "generic.onnx")
    logits = torch_forward(net, images)
    ties = binary_margins(net, images) < TIE_MARGIN
    result = verify_chain(images, labels, logits, qonnx, graphs, ties)
    assert result.ok(), result.matches
    assert result.float_ties == 0 and len(set(result.reference_labels.tolist())) > 1


@pytest.mark.fast
def test_quantized_inputs_of_binary_acts_are_no_float_ties():
    act = ShiftedBinaryAct(0.0)
    quantized = torch.nn.Sequential(residual_quant(8, 8.0), torch.nn.MaxPool2d(1), ShiftedBinaryAct(0.0))
    images = np.array([[[[0.0, 0.0625], [-1.5, 2.0]]]], dtype=np.float32)  # x - t = 0 exactly
    assert binary_margins(act, images)[0] == 0.0  # a float input (e.g. a BatchNorm output): a tie
    assert binary_margins(quantized, images)[0] == np.inf  # the residual quantizer's exact codes


@pytest.mark.slow
@needs_data
def test_build_py_bireal_rtl_bit_exact(tmp_path, capsys):
    """``flow/build.py --model bireal_cnv`` end to end: FINN graphs, generated RTL with fork/join and
    simulation-sized shortcut FIFOs; Brevitas' labels on every image at every stage."""
    from brevitas_models.checkpoint import save_checkpoint
    from flow.build import main

    shape = input_shape("bireal_cnv", KWARGS)
    net = Network("bireal_cnv", None, shape, 0.3, None)
    images, _, _ = verification_images(net, (1, *shape), 220, dataset="fashion-mnist")
    save_checkpoint(
        tmp_path / "b.pt", "bireal_cnv", KWARGS, calibrated_bireal(images[20:]), {"dataset": "fashion-mnist"}
    )
    out = tmp_path / "build"
    code = main(["--board", "Pynq-Z2", "--model", "bireal_cnv", "--checkpoint", str(tmp_path / "b.pt"),
                 "--verify-images", "20", "--output", str(out)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    summary = json.loads((out / "report" / "summary.json").read_text())
    v = summary["verification"]
    assert v["images"] == 20 and v["brevitas_vs_finn"] == 20 and v["brevitas_vs_rtl"] == 20
    assert v["float_ties"] == 0
    top = (out / "rtl" / "shiftbnn_top.sv").read_text()
    assert "stream_dup" in top and "stream_add" in top and "bnn_globalaccpool" in top
    assert summary["rtlsim"]["cycles_per_frame"] > 0
