"""Float-tie detection: images whose binary pre-activation sits on the threshold are flagged, and the
integer (folded FINN) graph decides their reference label."""

import numpy as np
import pytest
import torch
from torch import nn

from brevitas_models.quant import ShiftedBinaryAct
from flow.compiler.verify import TIE_MARGIN, binary_margins

pytestmark = pytest.mark.fast


def test_margins_find_the_image_on_the_threshold():
    lin = nn.Linear(2, 1, bias=False)
    lin.weight.data = torch.tensor([[1.0, -1.0]])
    model = nn.Sequential(lin, ShiftedBinaryAct(0.5))
    images = np.array([[3.0, 1.0], [2.5, 2.0], [0.0, 4.0]], dtype=np.float32)  # x - t = 1.5, 0, -4.5
    margins = binary_margins(model, images)
    np.testing.assert_allclose(margins, [1.5, 0.0, 4.5])
    assert (margins < TIE_MARGIN).tolist() == [False, True, False]


def test_margins_take_the_minimum_over_layers_and_channels():
    model = nn.Sequential(ShiftedBinaryAct([0.0, 2.0], channels=2), nn.Linear(2, 2), ShiftedBinaryAct(100.0))
    images = np.array([[0.25, 1.0]], dtype=np.float32)  # layer 1: |0.25|, |1 - 2| -> 0.25
    assert binary_margins(model, images)[0] == pytest.approx(0.25)
