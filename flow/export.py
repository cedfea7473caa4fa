"""QONNX export of shiftbnn models and reference execution of the exported graph.

``export_qonnx(..., dynamo=False)`` (the TorchScript exporter) takes ~0.2 s and emits MatMul/Conv +
BipolarQuant; qonnx's cleanup then folds constants and infers shapes. The graph input is annotated
UINT8 because every model takes raw pixels 0..255.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from brevitas.export import export_qonnx
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.util.cleanup import cleanup_model
from torch import nn


def export_model(model: nn.Module, input_shape: tuple[int, ...], path: str | Path) -> ModelWrapper:
    """Export ``model`` (eval mode) for one image of ``input_shape`` to QONNX at ``path``, cleaned up."""
    model = model.eval()
    example = torch.zeros((1, *input_shape))
    export_qonnx(model, example, export_path=str(path), dynamo=False)
    wrapper = cleanup_model(ModelWrapper(str(path)))
    wrapper.set_tensor_datatype(wrapper.graph.input[0].name, DataType["UINT8"])
    wrapper.save(str(path))
    return wrapper


def execute_graph(model: ModelWrapper, images: np.ndarray) -> np.ndarray:
    """Run a QONNX/FINN graph image by image (the graphs are exported for batch 1); returns stacked outputs."""
    in_name = model.graph.input[0].name
    out_name = model.graph.output[0].name
    shape = model.get_tensor_shape(in_name)
    outputs = []
    for image in images:
        x = np.asarray(image, dtype=np.float32).reshape(shape)
        outputs.append(execute_onnx(model, {in_name: x})[out_name])
    return np.concatenate(outputs, axis=0)


def torch_forward(model: nn.Module, images: np.ndarray | torch.Tensor, batch: int = 500) -> np.ndarray:
    """Brevitas forward pass in float32 (eval mode, no grad), batched."""
    model = model.eval()
    x = torch.as_tensor(np.asarray(images), dtype=torch.float32)
    with torch.no_grad():
        return torch.cat([model(x[i : i + batch]) for i in range(0, len(x), batch)]).numpy()
