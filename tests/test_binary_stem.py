"""``stem_bits=1`` (docs/resnet_hw.md section 9): the hardware ResNet's stem with XNOR-Net weights
alpha_o * sign(W) on the raw UINT8 pixels reaches the hardware as a binary-weight MVAU on UINT8 input
(bnn_mvau's integer mode: an adder tree, no multiplier), and the int8 stem as an integer-weight one."""

from __future__ import annotations

import pytest
import torch

import flow.core.finn_env  # noqa: F401  (boots FINN without Vivado)
from brevitas_models.registry import build_model, input_shape
from flow.builder.compile import compile_network
from flow.core.boards import BOARDS
from flow.core.hw_graph import binary_weights, generic_op_type

pytestmark = pytest.mark.fast
TINY = {"in_size": 16, "width": 0.0625, "depths": [1, 1], "num_classes": 10}


def test_binary_stem_weights_are_sign_times_a_positive_channel_scale():
    torch.manual_seed(0)
    stem = build_model("bireal_resnet18_hw", **TINY, stem_bits=1).stem[0]
    w = stem.quant_weight()
    assert set(torch.unique(w.int()).tolist()) == {-1, 1}
    assert w.scale.numel() == stem.out_channels and bool((w.scale > 0).all())
    # the int8 stem of the same shape is not binary
    assert len(torch.unique(build_model("bireal_resnet18_hw", **TINY).stem[0].quant_weight().int())) > 2


@pytest.mark.parametrize(("stem_bits", "binary"), [(1, True), (8, False)])
def test_the_stem_maps_to_an_mvau_on_uint8_pixels(stem_bits, binary, tmp_path):
    torch.manual_seed(0)
    kwargs = {**TINY, "stem_bits": stem_bits}
    net = build_model("bireal_resnet18_hw", **kwargs).eval()
    model, _, _ = compile_network(net, input_shape("bireal_resnet18_hw", kwargs), tmp_path, BOARDS["ZCU104"])
    stem = next(n for n in model.graph.node if generic_op_type(n.op_type) == "MVAU")  # graph order: first
    assert model.get_tensor_datatype(stem.input[0]).name == "UINT8"
    assert binary_weights(model, stem) == binary
