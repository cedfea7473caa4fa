"""A reduced hardware ResNet (integer stem, identity and projection blocks, max-pool, global pool, integer
classifier, label select) through ``flow/build.py`` down to the simulated RTL: Brevitas = QONNX = FINN
graphs = RTL on every image, with int_mvau for the stem and the classifier."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

from brevitas_models.checkpoint import save_checkpoint
from brevitas_models.registry import build_model, input_shape
from brevitas_models.xnornet import PIXEL_SCALE
from flow.compiler.export import torch_forward

TINY = {"in_size": 16, "width": 0.0625, "depths": [1, 1], "num_classes": 10, "shift": 0.3}


def calibrated(name: str, kwargs: dict, images: np.ndarray) -> torch.nn.Module:
    """Untrained model whose BatchNorms have random gammas of both signs and running statistics measured
    on ``images`` layer by layer, and whose classifier ignores the mean pooled feature (on random images
    the global pool of every image is nearly the same), so activations and labels are not degenerate."""
    torch.manual_seed(0)
    net = build_model(name, **kwargs)
    bns = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d | torch.nn.BatchNorm1d)]
    x = torch.as_tensor(images)
    with torch.no_grad():
        for bn in bns:
            bn.weight.copy_(torch.randn(bn.num_features))
            bn.bias.copy_(0.5 * torch.randn(bn.num_features))
        for bn in bns:
            bn.reset_running_stats()
            bn.momentum = None
            bn.train()
            net(x)
            bn.eval()
        features = net.pool(net.stages(net.stem(x * PIXEL_SCALE))).flatten(1)
        mean = features.mean(0)
        w = net.classifier.weight
        w.copy_(w - torch.outer(w @ mean, mean) / mean.dot(mean))  # each class row orthogonal to the mean
    return net.eval()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["bireal_resnet18_hw", "xnor_resnet18_hw"])
def test_reduced_hardware_resnet_rtl_bit_exact(name, tmp_path, capsys):
    from flow.build import main

    shape = input_shape(name, TINY)
    images = np.random.default_rng(5).integers(0, 256, size=(200, *shape)).astype(np.float32)
    net = calibrated(name, TINY, images)
    save_checkpoint(tmp_path / "c.pt", name, TINY, net)
    out = tmp_path / "build"
    code = main(["--board", "ZCU104", "--model", name, "--checkpoint", str(tmp_path / "c.pt"),
                 "--verify-images", "12", "--output", str(out)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    summary = json.loads((out / "report" / "summary.json").read_text())
    v = summary["verification"]
    assert v["images"] == 12 and v["brevitas_vs_finn"] == 12 and v["brevitas_vs_rtl"] == 12
    assert summary["rtlsim"]["stall_run"]["matches_free_run"] == summary["rtlsim"]["stall_run"]["images"]
    verified = np.random.default_rng(0).integers(0, 256, size=(12, *shape)).astype(np.float32)  # build's random inputs
    assert len(set(torch_forward(net, verified).argmax(1).tolist())) > 1  # not a constant label
    top = (out / "rtl" / "shiftbnn_top.sv").read_text()
    assert top.count("int_mvau #(") == 2  # stem and classifier
    assert "stream_dup" in top and "stream_add" in top
    pool_modes = re.findall(r"bnn_pool #\((?:(?!\);).)*?\.SumMode\s*\((\d)\)", top, flags=re.S)
    assert "0" in pool_modes and "1" in pool_modes, pool_modes  # the stem's max pool and the global sum pool
    assert summary["rtlsim"]["cycles_per_frame"] > 0
    # every INT8 re-quantization table of the binary convs is a multiply-add re-quantizer (requant.py)
    memory = next(s["memory"] for s in summary["steps"] if s["name"] == "memory_fit")
    assert top.count(".ParamFile") == memory["requant_nodes"] > 0
    assert memory["parameter_mbit"] < memory["folded_graph_mbit"]
