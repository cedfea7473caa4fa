"""A Transpose that really reorders the stream, through ``flow/build.py --onnx`` to RTL, bit-exact.

``x.transpose(2, 3)`` between two binary conv blocks (H and W swap, channels stay) is no layout change
streamlining can cancel: FINN maps it to a Shuffle (decomposed into InnerShuffle / OuterShuffle nodes),
our backend to hw/rtl/stream_reorder.sv. The build verifies every stage on its images (the RTL in
Verilator against the folded integer graph) and the test checks that the design holds the reorders."""

import json

import pytest
import torch
from brevitas.nn import QuantLinear
from brevitas.quant.binary import SignedBinaryWeightPerTensorConst
from torch import nn

from brevitas_models.corpus import PixelInput
from brevitas_models.generated import ConvBlock, Flatten, Sign
from brevitas_models.random_bn import randomize_batchnorm
from flow.build import main
from flow.compiler.export import export_model
from flow.compiler.verify import stage_matches

pytestmark = pytest.mark.slow
IMAGES = 20  # labels of 20 random inputs: a wrong reorder changes some (the RTL is compared exactly)


def _conv(out: int, k: int, shift: float) -> dict:
    return {"kind": "conv", "out": out, "k": [k, k], "stride": 1, "pad": [0, 0, 0, 0], "pad_value": 0,
            "bias": False, "order": "cnv", "shift": shift, "act": "sign", "pool": None}  # fmt: skip


class SwapHW(nn.Module):
    """Two binary conv blocks with H and W swapped between them, a binary classifier."""

    def __init__(self, h: int, w: int):
        super().__init__()
        self.a = ConvBlock(_conv(3, 3, 0.3), 1, Sign(0.3, 3))
        self.b = ConvBlock(_conv(4, 2, "channel"), 3, Sign("channel", 4, seed=5))
        features = 4 * (w - 3) * (h - 3)  # 3x3 conv, H <-> W, 2x2 conv
        self.head = nn.Sequential(
            Flatten("view"), QuantLinear(features, 5, False, weight_quant=SignedBinaryWeightPerTensorConst)
        )

    def forward(self, x):
        return self.head(self.b(self.a(x).transpose(2, 3)))


def swap_model() -> nn.Module:
    """SwapHW with random weights and BatchNorm statistics of random images (so that the labels depend on
    the input, and so on the order the reorder puts the map in), negative scales included."""
    torch.manual_seed(3)
    model = SwapHW(8, 6)
    for m in model.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            nn.init.uniform_(m.weight.data, -1, 1)
    model = PixelInput(randomize_batchnorm(model, seed=3, spread=3.0, negative_scales=True))
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # the running statistics: the average over the batches below
    with torch.no_grad():
        model.train()(torch.randint(0, 256, (256, 1, 8, 6)).float())
    return model.eval()


def test_swapped_axes_build_bit_exact_through_stream_reorder(tmp_path, capsys):
    model = swap_model()
    export_model(model, (1, 8, 6), tmp_path / "swap.onnx")
    args = [
        "--board",
        "Pynq-Z2",
        "--onnx",
        tmp_path / "swap.onnx",
        "--verify-images",
        IMAGES,
        "--output",
        tmp_path / "out",
    ]
    assert main([str(a) for a in args]) == 0, capsys.readouterr().err
    summary = json.loads((tmp_path / "out" / "report" / "summary.json").read_text())
    stages = stage_matches(summary["verification"])
    assert stages["streamlined"] == stages["finn"] == stages["rtl"] == IMAGES, stages
    assert summary["rtlsim"]["equal_to_reference"] == IMAGES
    assert summary["verification"]["output_ties"] < IMAGES // 2  # the labels depend on the input
    top = (tmp_path / "out" / "rtl" / "shiftbnn_top.sv").read_text()
    assert top.count("stream_reorder #(") == 1  # FINN's three-node decomposition fused back into one
