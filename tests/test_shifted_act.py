"""The shifted binary activation: forward values, STE window at t, and bit-exact QONNX export."""

import numpy as np
import onnx
import pytest
import torch
from torch import nn

from brevitas_models.quant import ShiftedBinaryAct, set_model_shift
from flow.compiler.export import execute_graph, export_model

pytestmark = pytest.mark.fast


def test_forward_is_plus_minus_one_with_ties_to_plus():
    act = ShiftedBinaryAct(0.25).eval()
    x = torch.tensor([-3.0, 0.0, 0.2499, 0.25, 0.26, 5.0])
    assert act(x).tolist() == [-1.0, -1.0, -1.0, 1.0, 1.0, 1.0]  # x >= t -> +1, never 0


def test_ste_window_is_centred_on_t():
    act = ShiftedBinaryAct(0.5)
    x = torch.tensor([-0.6, -0.4, 0.5, 1.4, 1.6], requires_grad=True)
    act(x).sum().backward()
    # hardtanh window |x - t| <= 1 -> gradient 1, outside -> 0
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]


def test_per_channel_shift_broadcasts_over_nchw():
    act = ShiftedBinaryAct([0.0, 1.0, -1.0], channels=3)
    x = torch.zeros(2, 3, 4, 4)
    out = act(x)
    assert torch.all(out[:, 0] == 1) and torch.all(out[:, 1] == -1) and torch.all(out[:, 2] == 1)


def test_learnable_shift_gets_gradient_and_wrong_size_is_rejected():
    act = ShiftedBinaryAct(0.1, channels=4, per_channel=True, learnable=True)
    assert isinstance(act.shift, nn.Parameter) and act.shift.shape == (4,)
    act(torch.randn(8, 4)).sum().backward()
    assert act.shift.grad is not None
    with pytest.raises(ValueError, match="3 values"):
        ShiftedBinaryAct([0.1, 0.2, 0.3], channels=4)


def test_set_model_shift_changes_every_layer():
    model = nn.Sequential(ShiftedBinaryAct(0.0), nn.Identity(), ShiftedBinaryAct(0.0, channels=2, per_channel=True))
    assert set_model_shift(model, 0.3) == 2
    assert torch.allclose(model[2].shift, torch.tensor([0.3, 0.3]))
    assert set_model_shift(model, [0.5, -0.25]) == 2  # one t per layer (per-channel layer: broadcast)
    assert model[0].shift.item() == 0.5 and torch.equal(model[2].shift, torch.tensor([-0.25, -0.25]))
    with pytest.raises(ValueError, match="shift has 3 values, layer expects 1; the model has 2 binary activations"):
        set_model_shift(model, [0.1, 0.2, 0.3])  # neither one per layer nor one per channel


@pytest.mark.parametrize("shift", [0.0, 0.3, [0.5, -0.2, 0.0, 1.0]])
def test_exports_as_sub_bipolarquant_and_is_bit_exact(tmp_path, shift):
    """Random pre-activations (incl. values exactly on t) through Brevitas and QONNX execution."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 4), ShiftedBinaryAct(shift, channels=4)).eval()
    wrapper = export_model(model, (12,), tmp_path / "act.onnx")
    ops = [n.op_type for n in onnx.load(tmp_path / "act.onnx").graph.node]
    assert "Sub" in ops and "BipolarQuant" in ops
    x = np.random.default_rng(1).integers(0, 256, size=(64, 12)).astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    got = execute_graph(wrapper, x, batch=64)
    assert set(np.unique(ref)) <= {-1.0, 1.0}
    np.testing.assert_array_equal(got, ref)
