"""fast_streamline: the same graphs as FINN's step_streamline + qonnx's ComposedTransformation, node for
node, tensor name for tensor name, initializer for initializer, datatype for datatype."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import flow.core.finn_env  # noqa: F401  (boots FINN without Vivado)

# isort: split
import finn.builder.build_dataflow_steps as finn_steps
from finn.transformation.fpgadataflow.convert_to_hw.global_acc_pool import InferGlobalAccPoolLayer
from finn.transformation.streamline.round_thresholds import RoundAndClipThresholds
from qonnx.transformation.composed import ComposedTransformation
from qonnx.transformation.infer_data_layouts import InferDataLayouts
from qonnx.transformation.infer_datatypes import InferDataTypes

from brevitas_models.registry import build_model, input_shape
from flow.builder.compile import compile_config, run_compile_steps
from flow.compiler.compile_steps import finn_config, step_streamline
from flow.compiler.export import export_model
from flow.compiler.transforms.residual import needs_residual_streamline, residual_transformations
from flow.core.boards import BOARDS
from flow.core.config import BuildState

CASES = {
    "xnor_cnv": {"in_channels": 1, "in_size": 28, "width": 0.125, "shift": 0.3},
    "bireal_cnv": {"width": 0.125, "blocks": [1, 1, 1], "shift": 0.3},
    "bireal_resnet18_hw": {"in_size": 16, "width": 0.0625, "depths": [1, 1], "num_classes": 10, "shift": 0.3},
}


def finn_reference(model, cfg):
    """FINN's own step_streamline, then the residual list composed by qonnx's ComposedTransformation."""
    model = finn_steps.step_streamline(model, finn_config(cfg))
    if needs_residual_streamline(model):
        model = model.transform(InferGlobalAccPoolLayer())
        model = model.transform(ComposedTransformation(residual_transformations()))
        model = model.transform(RoundAndClipThresholds())
        model = model.transform(InferDataTypes())
        model = model.transform(InferDataLayouts())
    return model


def signature(model) -> tuple:
    nodes = [(n.op_type, n.name, tuple(n.input), tuple(n.output)) for n in model.graph.node]
    inits = {t.name: model.get_initializer(t.name) for t in model.graph.initializer}
    types = {name: model.get_tensor_datatype(name).name for n in model.graph.node for name in n.output}
    return nodes, inits, types


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_fast_streamline_equals_finn(name, tmp_path):
    torch.manual_seed(0)
    net = build_model(name, **CASES[name]).eval()
    cfg = compile_config(BOARDS["ZCU104"], tmp_path, target_fps=1000)
    qonnx = export_model(net, input_shape(name, CASES[name]), tmp_path / "q.onnx")
    tidy = run_compile_steps(qonnx, cfg, until="tidy_up", save=False).model
    tidy.save(str(tmp_path / "tidy.onnx"))
    from qonnx.core.modelwrapper import ModelWrapper

    state = BuildState(model=ModelWrapper(str(tmp_path / "tidy.onnx")))
    step_streamline(state, cfg)
    ours = signature(state.model)
    ref = signature(finn_reference(ModelWrapper(str(tmp_path / "tidy.onnx")), cfg))
    assert ours[0] == ref[0]
    assert ours[1].keys() == ref[1].keys() and all(np.array_equal(ours[1][k], ref[1][k]) for k in ref[1])
    assert ours[2] == ref[2]
