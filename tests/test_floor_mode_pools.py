"""Chains of ceil-mode pools as PyTorch exports them: after the flow's cleanup (flow/compiler/export.py
``clean_qonnx``, transforms/pools.py ``FloorModePools``) every shape is PyTorch's and the graph computes
PyTorch's values. ONNX sizes a ceil-mode pool one larger where its last window would start in the end
padding; a second pool after such a one must be fixed from the corrected size, not the exported one
(generated network 190 of the fuzz run seed 2026: 112 features where the classifier takes 168)."""

import io

import numpy as np
import onnx
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx

from flow.compiler.export import clean_qonnx

pytestmark = pytest.mark.fast

pool_spec = st.tuples(st.sampled_from(["max", "avg1"]), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))


def _pool(kind: str, kh: int, sh: int, sw: int) -> torch.nn.Module:
    if kind == "avg1":  # a 1x1 window never reaches the end padding: a constant divisor
        return torch.nn.AvgPool2d(1, (sh, sw), ceil_mode=True)
    return torch.nn.MaxPool2d((kh, kh), (sh, sw), ceil_mode=True)


@settings(max_examples=30, deadline=None)
@given(
    h=st.integers(3, 16), w=st.integers(3, 16), pools=st.lists(pool_spec, min_size=2, max_size=3),
    seed=st.integers(0, 99),
)  # fmt: skip
def test_chained_ceil_pools_get_pytorchs_shapes_and_values(h, w, pools, seed):
    net = torch.nn.Sequential(*[_pool(*p) for p in pools]).eval()
    x = torch.tensor(np.random.default_rng(seed).integers(-8, 8, (1, 2, h, w)).astype(np.float32))
    try:
        expected = net(x).numpy()
    except RuntimeError:  # PyTorch itself refuses a map smaller than a window
        return
    buffer = io.BytesIO()
    torch.onnx.export(net, (x,), buffer, dynamo=False, input_names=["x"], output_names=["y"])
    model = clean_qonnx(ModelWrapper(onnx.load_from_string(buffer.getvalue())))
    inp, out = model.graph.input[0].name, model.graph.output[0].name  # the cleanup may rename them
    assert model.get_tensor_shape(out) == list(expected.shape)
    got = execute_onnx(model, {inp: x.numpy()})[out]
    np.testing.assert_array_equal(got, expected)
