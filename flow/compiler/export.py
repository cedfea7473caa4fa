"""QONNX export of shiftbnn models and reference execution of the exported graph.

``export_qonnx(..., dynamo=False)`` (the TorchScript exporter) takes ~0.2 s and emits MatMul/Conv +
BipolarQuant; qonnx's cleanup then folds constants and infers shapes. The graph input is annotated
UINT8 because every model takes raw pixels 0..255.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
from brevitas.export import export_qonnx
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.util.cleanup import cleanup_model
from torch import nn

from flow.core import progress


def clean_qonnx(model: ModelWrapper) -> ModelWrapper:
    """qonnx's cleanup (constants folded, shapes inferred), and every ceil-mode pool in floor mode with
    PyTorch's end padding (transforms/pools.py ``FloorModePools``): the inferred shapes, which every
    execution of the graph checks, are then PyTorch's."""
    from flow.compiler.refusals import stamp_origins
    from flow.compiler.transforms.pools import FloorModePools

    stamp_origins(model)  # before the cleanup renumbers the names: refusals name the user's layers
    return cleanup_model(model).transform(FloorModePools())


def export_model(model: nn.Module, input_shape: tuple[int, ...], path: str | Path) -> ModelWrapper:
    """Export ``model`` (eval mode) for one image of ``input_shape`` to QONNX at ``path``, cleaned up."""
    model = model.eval()
    example = torch.zeros((1, *input_shape))
    export_qonnx(model, example, export_path=str(path), dynamo=False)
    wrapper = clean_qonnx(ModelWrapper(str(path)))
    wrapper.set_tensor_datatype(wrapper.graph.input[0].name, DataType["UINT8"])
    wrapper.save(str(path))
    return wrapper


# Ops whose execution broadcasts over a leading batch dimension. FINN's Im2Col / MaxPoolNHWC and HW
# nodes read their shapes from attributes (batch 1), and a Reshape carries a constant shape.
BATCHABLE_OPS = {
    "MatMul",
    "Conv",
    "BatchNormalization",
    "Mul",
    "Add",
    "Sub",
    "Div",
    "Flatten",
    "Transpose",
    "MaxPool",
    "MultiThreshold",
    "XnorPopcountMatMul",
    "BipolarQuant",
    "Quant",
    "TopK",
    "Identity",
}


def batchable(model: ModelWrapper) -> bool:
    """True when every node of the graph executes correctly on a re-batched copy."""
    return all(n.op_type in BATCHABLE_OPS for n in model.graph.node)


def with_batch(model: ModelWrapper, batch: int) -> ModelWrapper:
    """Copy of a batch-1 graph with batch ``batch``: the leading 1 of every tensor computed from the graph
    input (a weight quantizer's output is computed from constants only: a conv with one output channel
    has a weight of shape (1, ...) that keeps it)."""
    wrapper = ModelWrapper(copy.deepcopy(model.model))
    constants = {t.name for t in wrapper.graph.initializer}
    streamed = {i.name for i in wrapper.graph.input if i.name not in constants}
    for node in wrapper.graph.node:  # topological order
        if any(i in streamed for i in node.input):
            streamed.update(node.output)
    for info in [*wrapper.graph.input, *wrapper.graph.output, *wrapper.graph.value_info]:
        dims = info.type.tensor_type.shape.dim
        if info.name in streamed and len(dims) and dims[0].dim_value == 1:
            dims[0].dim_value = batch
    return wrapper


def execute_graph(model: ModelWrapper, images: np.ndarray, batch: int | None = None, label: str = "") -> np.ndarray:
    """Run a QONNX/FINN graph exported for batch 1 on ``images``; returns stacked outputs.

    ``batch``: run chunks of that many images through a re-batched copy of the graph (standard ONNX
    and MultiThreshold nodes broadcast over the batch; qonnx's per-node sessions then cost once per
    chunk instead of once per image). Graphs with nodes that assume batch 1 (FINN HW nodes, Im2Col,
    a constant Reshape) run image by image whatever ``batch`` says. ``label``: show progress under it.
    """
    out_name = model.graph.output[0].name
    return execute_tensors(model, images, [out_name], batch, label)[out_name]


def execute_tensors(
    model: ModelWrapper, images: np.ndarray, names: list[str], batch: int | None = None, label: str = ""
) -> dict:
    """Like ``execute_graph``, but returns the tensors ``names`` (graph outputs or intermediate
    tensors), each stacked as (N, elements)."""
    in_name = model.graph.input[0].name
    shape = model.get_tensor_shape(in_name)
    images = np.asarray(images, dtype=np.float32)
    step = (batch or 1) if batchable(model) else 1
    full = any(name not in [o.name for o in model.graph.output] for name in names)
    outputs: dict[str, list] = {name: [] for name in names}
    with progress.sub(len(images), label, "images") as ticker:
        for start in range(0, len(images), step):
            chunk = images[start : start + step]
            graph = model if len(chunk) == 1 else with_batch(model, len(chunk))
            x = chunk.reshape(len(chunk), *shape[1:])
            context = execute_onnx(graph, {in_name: x}, return_full_exec_context=full)
            for name in names:
                outputs[name].append(context[name].reshape(len(chunk), -1))
            ticker.update(len(chunk))
    return {name: np.concatenate(parts, axis=0) for name, parts in outputs.items()}


def torch_forward(model: nn.Module, images: np.ndarray | torch.Tensor, batch: int = 500) -> np.ndarray:
    """Brevitas forward pass in float32 (eval mode, no grad), batched."""
    model = model.eval()
    x = torch.as_tensor(np.asarray(images), dtype=torch.float32)
    with torch.no_grad():
        return torch.cat([model(x[i : i + batch]) for i in range(0, len(x), batch)]).numpy()
