"""One parametrized test over every registered model: forward pass and bit-exact QONNX export.

Models are built small (width multipliers, 32x32 / 64x64 inputs for the ResNets) so the whole file runs
in seconds; ``SMALL`` must name every registered model, so a new model cannot skip the test.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from brevitas.export import export_qonnx
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.infer_shapes import InferShapes
from torch import nn

from brevitas_models.checkpoint import CheckpointError, load_checkpoint, load_into, save_checkpoint
from brevitas_models.quant import ShiftedBinaryAct
from brevitas_models.random_bn import randomize_batchnorm
from brevitas_models.registry import build_model, input_shape, list_models
from flow.compiler.export import execute_graph, export_model, torch_forward

SMALL = {
    "xnor_mlp": {"hidden": [32, 32, 32]},
    "xnor_cnv": {"in_channels": 1, "in_size": 28, "width": 0.125},
    "xnor_resnet18": {"in_size": 32, "width": 0.125},
    "bireal_cnv": {"width": 0.125, "blocks": [1, 1, 1]},
    "bireal_resnet18": {"in_size": 64, "width": 0.125, "stem": "imagenet"},
    "bireal_resnet34": {"in_size": 32, "width": 0.0625},
    "bireal_resnet18_hw": {"in_size": 32, "width": 0.125},
    "bireal_resnet34_hw": {"in_size": 32, "width": 0.0625},
    "xnor_resnet18_hw": {"in_size": 64, "width": 0.0625, "stem": "imagenet"},
}
# Shift settings exercised by the test (every model gets each; export must stay exact).
SHIFTS = {
    "layer": {"shift": 0.3},
    "channel_learnable": {"shift": -0.2, "shift_mode": "channel", "learnable_shift": True},
    "xnor_alpha": {"shift": 0.1, "weight_scaling": "per_channel"},
}


@pytest.mark.fast
def test_every_model_has_a_small_configuration():
    assert sorted(SMALL) == list_models()


RESNETS = {
    "xnor_resnet18",
    "bireal_resnet18",
    "bireal_resnet34",
    "bireal_resnet18_hw",
    "bireal_resnet34_hw",
    "xnor_resnet18_hw",
}


HW_RESNETS = {"bireal_resnet18_hw", "xnor_resnet18_hw"}


def build_small(name: str, setting: str):
    kwargs = {**SMALL[name], **SHIFTS[setting]}
    torch.manual_seed(0)
    model = build_model(name, **kwargs)
    randomize_batchnorm(model)
    shape = input_shape(name, kwargs)
    images = np.random.default_rng(1).integers(0, 256, size=(3, *shape)).astype(np.float32)
    return model.eval(), kwargs, shape, images


@pytest.mark.fast
@pytest.mark.parametrize("setting", sorted(SHIFTS))
@pytest.mark.parametrize("name", list_models())
def test_forward_and_backward(name, setting):
    model, kwargs, _, images = build_small(name, setting)
    out = torch_forward(model, images)
    assert out.shape == (3, kwargs.get("num_classes", 1000 if name in RESNETS else 10))
    assert np.isfinite(out).all()
    model.train()  # STE gradients reach every trainable parameter
    model(torch.as_tensor(images)).sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def export_light(model: nn.Module, shape: tuple[int, ...], path) -> ModelWrapper:
    """Brevitas QONNX export + shape inference only. flow.compiler.export.export_model also runs qonnx's
    cleanup_model, whose constant folding takes 30-90 s on the ResNets' 120-240-node graphs."""
    export_qonnx(model.eval(), torch.zeros((1, *shape)), export_path=str(path), dynamo=False)
    return ModelWrapper(str(path)).transform(InferShapes())


def export_cases():
    """Every CNV/MLP model x shift setting through export_model (fast); the ResNets through the light
    export (one setting; ~10-25 s each here) and once through export_model (~60-90 s), both slow."""
    for name in list_models():
        for setting in sorted(SHIFTS):
            if name not in RESNETS:
                yield pytest.param(name, setting, export_model, marks=pytest.mark.fast, id=f"{name}-{setting}")
            elif setting == "channel_learnable":
                yield pytest.param(name, setting, export_light, marks=pytest.mark.slow, id=f"{name}-{setting}-light")
    yield pytest.param("bireal_resnet18", "layer", export_model, marks=pytest.mark.slow, id="bireal_resnet18-cleanup")


@pytest.mark.parametrize(("name", "setting", "exporter"), export_cases())
def test_qonnx_export_matches_brevitas(name, setting, exporter, tmp_path):
    model, _, shape, images = build_small(name, setting)
    expected = torch_forward(model, images)
    got = execute_graph(exporter(model, shape, tmp_path / f"{name}.onnx"), images)
    # Float stems/shortcuts (ResNets) may differ in the last float bit; binary heads are exact.
    tolerance = 1e-4 * max(1.0, np.abs(expected).max()) if name in RESNETS else 0.0
    assert np.abs(got - expected).max() <= tolerance
    assert (got.argmax(1) == expected.argmax(1)).all()


@pytest.mark.fast
def test_per_layer_shift_list_reaches_each_layer():
    model = build_model("bireal_cnv", **{**SMALL["bireal_cnv"], "shift": [0.1, 0.2, 0.3, 0.4]})
    shifts = [float(m.shift) for m in model.modules() if isinstance(m, ShiftedBinaryAct)]
    assert shifts == pytest.approx([0.1, 0.2, 0.3, 0.4])


@pytest.mark.fast
def test_checkpoint_roundtrip_and_wrong_model(tmp_path):
    kwargs = SMALL["bireal_cnv"]
    model = build_model("bireal_cnv", **kwargs)
    save_checkpoint(tmp_path / "c.pt", "bireal_cnv", kwargs, model)
    assert torch.load(tmp_path / "c.pt", weights_only=True)["model"] == "bireal_cnv"
    loaded, _ = load_checkpoint(tmp_path / "c.pt", expect_model="bireal_cnv")
    with pytest.raises(CheckpointError, match="not 'xnor_cnv'"):
        load_checkpoint(tmp_path / "c.pt", expect_model="xnor_cnv")
    wider = build_model("bireal_cnv", **{**kwargs, "width": 0.25})
    with pytest.raises(CheckpointError, match="does not fit this model"):
        load_into(wider, torch.load(tmp_path / "c.pt", weights_only=True)["state_dict"], "c.pt")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["xnor_resnet18", "bireal_resnet18", "bireal_resnet34", *sorted(HW_RESNETS)])
def test_full_size_resnets_at_imagenet_resolution(name):
    model = build_model(name).eval()
    with torch.no_grad():
        out = model(torch.randint(0, 256, (1, 3, 224, 224)).float())
    assert out.shape == (1, 1000)
    binary_convs = sum(isinstance(m, ShiftedBinaryAct) for m in model.modules())
    assert binary_convs == (32 if name.endswith("34") else 16)


@pytest.mark.fast
def test_hardware_resnet_options_and_errors():
    """Stage-entry blocks: a max-pool + projection (no shortcut) in the hardware form, Bi-Real's float
    shortcut in the reference form; one shift per binary conv; bad sizes and options are refused."""
    from brevitas_models.resnet_hw import HwBlock

    small = {"in_size": 32, "width": 0.125, "num_classes": 10}
    for name, convs in (("bireal_resnet18_hw", 16), ("xnor_resnet18_hw", 16), ("bireal_resnet34_hw", 32)):
        model = build_model(name, **small)
        blocks = [m for m in model.modules() if isinstance(m, HwBlock)]
        assert sum(isinstance(m, ShiftedBinaryAct) for m in model.modules()) == convs
        assert sum(b.shortcut is None for b in blocks) == 3  # the three stage entries
        assert sum(isinstance(m, nn.MaxPool2d) for m in model.modules()) == 3
    ref = build_model("bireal_resnet18_hw", **small, downsample="conv")
    assert not any(isinstance(m, nn.MaxPool2d) for m in ref.modules())
    assert sum(isinstance(m, nn.AvgPool2d) for m in ref.modules()) == 3
    shifts = [0.1 * i for i in range(16)]
    model = build_model("bireal_resnet18_hw", **small, shift=shifts)
    assert [float(m.shift) for m in model.modules() if isinstance(m, ShiftedBinaryAct)] == pytest.approx(shifts)
    with pytest.raises(ValueError, match="multiple of 8"):
        build_model("bireal_resnet18_hw", in_size=28)
    with pytest.raises(ValueError, match="multiple of 32"):
        build_model("bireal_resnet18_hw", in_size=200)
    with pytest.raises(ValueError, match="downsample"):
        build_model("xnor_resnet18_hw", **small, downsample="avg")
    assert build_model("bireal_resnet18_hw", in_size=28, depths=[1, 1, 1], width=0.125)(
        torch.zeros(1, 3, 28, 28)
    ).shape == (1, 1000)
