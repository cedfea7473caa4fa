"""Checks on what a build is given, before FINN sees it: each failure is one line naming the culprit.

- ``check_onnx_file``: a single float32 input of static shape with batch 1 (the build feeds UINT8
  pixel values as float32, one image at a time), a single output, and node domains only from ONNX and
  the custom-op packages qonnx and FINN ship (``registered_domains``): qonnx's ``getCustomOp`` imports
  a node's domain as a Python module, so a model file naming any other module would run its code.
- ``check_finite_model`` / ``check_finite_graph``: no NaN/inf in any weight, BatchNorm statistic,
  shift or threshold, no negative BatchNorm variance (its square root is NaN) and no BatchNorm weight
  of 0 (folding it into a threshold divides by it). FINN's threshold
  rounding loops forever on a NaN threshold, so this must fail before the folding step.
- ``check_folding_config``: the form of a folding JSON (FINN's ``Defaults`` pairs, positive integer
  PE/SIMD); layer names and divisibility are checked against the graph in folding.py.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from flow.core.errors import BuildError

INTEGER_ATTRIBUTES = ("PE", "SIMD")  # folding factors: positive integers (JSON true is not 1)


def check_onnx_file(path: Path) -> None:
    """Raise BuildError unless ``path`` is a readable ONNX model the build can feed."""
    import onnx

    if not Path(path).is_file():
        raise BuildError(f"ONNX file not found: {path}")
    try:
        proto = onnx.load(str(path))
        onnx.checker.check_model(proto)
    except Exception as exc:  # onnx raises DecodeError, ValidationError, ...
        raise BuildError(f"{path} is not a valid ONNX model ({type(exc).__name__})") from None
    constants = {t.name for t in proto.graph.initializer}
    inputs = [i for i in proto.graph.input if i.name not in constants]
    if len(inputs) != 1 or len(proto.graph.output) != 1:
        raise BuildError(
            f"{path}: the build needs one input and one output, found {len(inputs)} and {len(proto.graph.output)}"
        )
    tensor = inputs[0].type.tensor_type
    if tensor.elem_type != onnx.TensorProto.FLOAT:
        kind = onnx.TensorProto.DataType.Name(tensor.elem_type)
        raise BuildError(
            f"{path}: input {inputs[0].name!r} is {kind}; the build feeds pixel values 0..255 as FLOAT "
            "(export the network with a float32 input)"
        )
    check_domains(proto, path)
    dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in tensor.shape.dim]
    if not dims or any(not isinstance(d, int) or d < 1 for d in dims):
        raise BuildError(
            f"{path}: input {inputs[0].name!r} has shape {dims}; the build needs a static shape "
            "(export with a fixed batch of 1)"
        )
    if dims[0] != 1:
        raise BuildError(f"{path}: input {inputs[0].name!r} has batch {dims[0]}; export with a batch of 1")


ONNX_DOMAINS = ("", "ai.onnx", "ai.onnx.ml", "ai.onnx.preview.training")


@functools.cache
def registered_domains() -> frozenset[str]:
    """The node domains a graph may use: ONNX's, qonnx's aliases (``onnx.brevitas``) and every package
    under ``qonnx.custom_op`` and ``finn.custom_op`` (found on disk, nothing imported but those two)."""
    import importlib

    from qonnx.custom_op.registry import _DOMAIN_ALIASES

    found = set(ONNX_DOMAINS) | set(_DOMAIN_ALIASES)
    for root in ("qonnx.custom_op", "finn.custom_op"):
        package = importlib.import_module(root)
        for folder in package.__path__:
            for init in Path(folder).rglob("__init__.py"):
                relative = init.parent.relative_to(folder).parts
                if relative:
                    found.add(".".join((root, *relative)))
    return frozenset(found)


def check_domains(proto, path) -> None:
    """Every node (subgraphs and functions too) in a registered domain: the domain is never imported
    otherwise (a model file is data, not code)."""
    allowed = registered_domains()
    for node in _all_nodes(proto.graph, proto.functions):
        if node.domain not in allowed:
            raise BuildError(
                f"{path}: node {node.name or node.op_type!r} has domain {node.domain!r}, which is neither ONNX nor a "
                "qonnx/FINN custom-op domain; the build imports no code a model file names"
            )


def _all_nodes(graph, functions=()):
    for node in graph.node:
        yield node
        for attr in node.attribute:
            for sub in [attr.g] * attr.HasField("g") + list(attr.graphs):
                yield from _all_nodes(sub)
    for function in functions:
        yield from function.node


def _bad_values(name: str, values: np.ndarray, what: str) -> BuildError:
    bad = int(np.count_nonzero(~np.isfinite(values)))
    return BuildError(f"{what}: tensor {name} holds {bad} NaN/inf value(s); FINN cannot turn it into thresholds")


def check_finite_model(model, what: str) -> None:
    """Every float tensor of a torch model (weights, BatchNorm statistics, shifts) finite; variances >= 0."""
    for name, tensor in model.state_dict().items():
        if not tensor.is_floating_point():
            continue
        values = tensor.detach().cpu().float().numpy()
        if not np.all(np.isfinite(values)):
            raise _bad_values(name, values, what)
        if name.endswith("running_var") and np.any(values < 0):
            raise BuildError(f"{what}: BatchNorm variance {name} is negative; its square root is not a number")
    for name, module in model.named_modules():
        weight = getattr(module, "weight", None)
        if "BatchNorm" in type(module).__name__ and weight is not None and bool((weight == 0).any()):
            channel = int((weight == 0).nonzero()[0, 0])
            raise BuildError(
                f"{what}: BatchNorm {name} has weight 0 in channel {channel}; FINN divides by it when it folds "
                "the BatchNorm into a threshold"
            )


def check_finite_graph(model, what: str) -> None:
    """Every float initializer of an ONNX graph finite (weights, thresholds, shifts, BatchNorm parameters)."""
    for init in model.graph.initializer:
        values = model.get_initializer(init.name)
        if values is None or values.dtype.kind != "f":
            continue
        if not np.all(np.isfinite(values)):
            raise _bad_values(init.name, values, what)
    for node in model.graph.node:
        if node.op_type == "BatchNormalization" and len(node.input) > 4:
            var = model.get_initializer(node.input[4])
            if var is not None and np.any(var < 0):
                raise BuildError(f"{what}: BatchNorm variance {node.input[4]} of {node.name} is negative")


def check_folding_config(config, source: str) -> None:
    """Raise BuildError for a folding JSON FINN's ApplyConfig would choke on."""
    if not isinstance(config, dict):
        raise BuildError(f"folding JSON {source} must be an object keyed by layer name")
    for key, attrs in config.items():
        if not isinstance(attrs, dict):
            raise BuildError(f"folding JSON {source}: entry {key!r} must be an object of attributes")
        if key == "Defaults":
            _check_defaults(attrs, source)
            continue
        for attr, value in attrs.items():
            _check_value(f"{key}.{attr}", attr, value, source)


def _check_defaults(defaults: dict, source: str) -> None:
    """FINN's form: ``"attr": [value, ["OpType", ...] or "all", value, ...]``."""
    for attr, pairs in defaults.items():
        if not isinstance(pairs, list) or not pairs or len(pairs) % 2:
            raise BuildError(f'folding JSON {source}: Defaults.{attr} must be a list [value, [op types] or "all", ...]')
        for value, ops in zip(pairs[::2], pairs[1::2], strict=True):
            _check_value(f"Defaults.{attr}", attr, value, source)
            if ops != "all" and not (isinstance(ops, list) and all(isinstance(o, str) for o in ops)):
                raise BuildError(f'folding JSON {source}: Defaults.{attr} op types must be "all" or a list of names')


def _check_value(where: str, attr: str, value, source: str) -> None:
    if attr in INTEGER_ATTRIBUTES and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise BuildError(f"folding JSON {source}: {where} must be a positive integer, got {value!r}")
    if isinstance(value, dict | type(None)):
        raise BuildError(f"folding JSON {source}: {where} has no usable value ({value!r})")


def first_batchnorm(model):
    """The first BatchNormalization node reached from the graph input (breadth first), or None."""
    frontier, seen = [model.graph.input[0].name], set()
    while frontier:
        tensor = frontier.pop(0)
        for node in model.find_consumers(tensor) or []:
            if node.name in seen:
                continue
            seen.add(node.name)
            if node.op_type == "BatchNormalization":
                return node
            frontier.extend(node.output)
    return None


def input_scale_ratio(model, images: np.ndarray, count: int = 16) -> float | None:
    """How far the verification images' scale is from the one the network was trained on.

    The first BatchNorm's running variance is what its input varied by during training; the median over
    channels of (observed RMS deviation from the running mean) / sqrt(running variance) on ``count``
    images is ~1 for inputs like the training data and ~255 for a network trained on inputs in [0, 1]
    fed raw pixels 0..255. None when the graph has no BatchNorm or untrained statistics (mean 0, var 1)."""
    from qonnx.core.onnx_exec import execute_onnx

    bn = first_batchnorm(model)
    if bn is None or len(bn.input) < 5:
        return None
    mean, var = model.get_initializer(bn.input[3]), model.get_initializer(bn.input[4])
    if mean is None or var is None or (np.all(mean == 0) and np.all(var == 1)):
        return None
    name, shape = model.graph.input[0].name, model.get_tensor_shape(model.graph.input[0].name)
    seen = []
    for image in images[:count]:
        context = execute_onnx(model, {name: image.reshape(shape).astype(np.float32)}, return_full_exec_context=True)
        seen.append(context[bn.input[0]])
    x = np.concatenate(seen)  # (images, channels, ...)
    axes = tuple(i for i in range(x.ndim) if i != 1)
    shape_c = [1, -1] + [1] * (x.ndim - 2)
    rms = np.sqrt(np.mean((x - mean.reshape(shape_c)) ** 2, axis=axes))
    return float(np.median(rms / np.sqrt(np.maximum(var, 1e-12))))


def warn_input_scale(model, images: np.ndarray, stream=None, limit: float = 16.0) -> float | None:
    """Warn when the images' scale is ``limit`` times off the training scale (``input_scale_ratio``)."""
    import sys

    ratio = input_scale_ratio(model, images)
    if ratio is not None and not 1 / limit <= ratio <= limit:
        print(
            f"warning: the verification images vary {ratio:.3g}x as much as the network's first BatchNorm saw in "
            "training: the build feeds raw pixel values 0..255; a network trained on inputs scaled to [0, 1] "
            "must scale them itself (e.g. a Mul by 1/255 before its first layer)",
            file=stream or sys.stderr,
        )
    return ratio
