"""Linear-time versions of the qonnx / FINN passes that dominate compile time, with the same results.

Profile of export -> folded graph for the full-size ``bireal_resnet18_hw`` (cProfile, this machine,
bench/compile_time.py; numbers in docs/resnet_hw.md): 38 % of the time in ``InferShapes`` (ONNX's shape
inference serialises and re-parses the whole model, 11 M weights, on each of its 400 calls, and the
wrapper it returns checks every tensor's shape with a linear search: quadratic), 16 % in ``SortGraph``
(``find_direct_predecessors`` scans all nodes for each input: quadratic) and 8 % in
``GiveUniqueParameterTensors`` (decodes every weight tensor to numpy to learn whether it exists); 12 % in
FINN's threshold checks (``np.vectorize(dt.allowed)``: one Python call per threshold, 3.5 M). The first
three run inside ``ModelWrapper.cleanup`` after every transformation, FINN's and qonnx's included, so they are
replaced where they are defined (``install``), with the same inputs and outputs:

- ``InferShapes``: shape inference sees the large initializers as data-less stubs (name, type, dims:
  all an operator's shape function reads of a weight; the few ops that read a constant's values, e.g.
  Reshape's shape, read small ones, which are kept), and the initializers without a ValueInfo get one
  in the order qonnx's check adds them.
- ``SortGraph``: the same dependency sets (from a tensor -> producer map), sorted as
  ``toposort_flatten`` sorts them (which is itself quadratic on a deep chain: ``toposort_order``).
- ``GiveUniqueParameterTensors``: the same renaming, with a set of initializer names.
- FINN's MVAU / Thresholding modules see numpy whose ``vectorize`` returns an integer type's ``allowed``
  unchanged (it is elementwise numpy already: ``_NumpyArrayAllowed``).

tests/test_qonnx_speed.py checks each against the original on generated and real graphs.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnx.shape_inference as si
from finn.custom_op.fpgadataflow import matrixvectoractivation, thresholding
from finn.custom_op.fpgadataflow.hls import matrixvectoractivation_hls
from finn.custom_op.fpgadataflow.rtl import thresholding_rtl
from onnx import TensorProto, helper
from qonnx.core.datatype import IntType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation import general, infer_shapes
from toposort import CircularDependencyError

# Initializers of more elements than this reach ONNX's shape inference as stubs without data.
STUB_ELEMENTS = 1024
# FINN modules whose threshold checks run ``np.vectorize(dt.allowed)`` over every threshold.
FINN_THRESHOLD_CHECKS = (matrixvectoractivation, matrixvectoractivation_hls, thresholding, thresholding_rtl)
ORIGINAL = {
    "InferShapes": infer_shapes.InferShapes.apply,
    "SortGraph": general.SortGraph.apply,
    "GiveUniqueParameterTensors": general.GiveUniqueParameterTensors.apply,
}


def _elements(tensor: TensorProto) -> int:
    count = 1
    for d in tensor.dims:
        count *= d
    return count


def infer_shapes_apply(self, model: ModelWrapper):
    hidden_ops = infer_shapes._hide_finn_ops(model)
    big = {t.name: t for t in model.graph.initializer if _elements(t) > STUB_ELEMENTS}
    inferred = si.infer_shapes(_light_copy(model.model, big))
    for i, t in enumerate(inferred.graph.initializer):  # the stubs -> the original tensors
        if t.name in big:
            inferred.graph.initializer[i].CopyFrom(big[t.name])
    result = ModelWrapper(inferred, fix_missing_initializer_valueinfo=False)
    _add_initializer_valueinfo(result)
    infer_shapes._restore_finn_ops(result, hidden_ops)
    return result, False


def _copy_fields(source, target, skip: str) -> None:
    for field, value in source.ListFields():
        if field.name == skip:
            continue
        if field.label == field.LABEL_REPEATED:
            getattr(target, field.name).extend(value)
        elif field.type == field.TYPE_MESSAGE:
            getattr(target, field.name).CopyFrom(value)
        else:
            setattr(target, field.name, value)


def _light_copy(model: onnx.ModelProto, big: dict) -> onnx.ModelProto:
    """A copy of ``model`` whose ``big`` initializers are stubs (name, type, dims, no data)."""
    light = onnx.ModelProto()
    _copy_fields(model, light, skip="graph")
    _copy_fields(model.graph, light.graph, skip="initializer")
    for t in model.graph.initializer:
        stub = TensorProto(name=t.name, data_type=t.data_type, dims=t.dims) if t.name in big else t
        light.graph.initializer.append(stub)
    return light


def _add_initializer_valueinfo(model: ModelWrapper) -> None:
    """qonnx's ``check_all_tensor_shapes_specified(fix_missing_init_shape=True)`` with a name set: a
    ValueInfo for every node input/output that is an initializer without one, in node order."""
    graph = model.graph
    known = {vi.name for vi in (*graph.input, *graph.output, *graph.value_info)}
    inits = {t.name: t for t in graph.initializer}
    for node in graph.node:
        for name in (*node.input, *node.output):
            if name and name not in known and name in inits:
                t = inits[name]
                graph.value_info.append(helper.make_tensor_value_info(name, t.data_type, list(t.dims)))
                known.add(name)


def sort_graph_apply(self, model: ModelWrapper):
    graph = model.graph
    if len(graph.node) == 1:
        return model, False
    nodes = list(graph.node)
    producer = {}
    for i, n in enumerate(nodes):
        for out in n.output:
            producer.setdefault(out, i)  # find_producer: the first node in graph order
    sources = {t.name for t in graph.initializer} | {t.name for t in graph.input}
    dependencies = {}
    for i, n in enumerate(nodes):
        preds = [producer[x] for x in n.input if x in producer]
        if preds:
            dependencies[i] = set(preds)
        elif any(x in sources for x in n.input):
            dependencies[i] = set()
    order = toposort_order(dependencies)
    del graph.node[:]
    graph.node.extend(nodes[i] for i in order)
    return model, False


def toposort_order(dependencies: dict[int, set[int]]) -> list[int]:
    """``toposort_flatten(dependencies, sort=True)`` in linear time: toposort emits level by level (a
    level: the items whose dependencies are all emitted, each level sorted), so an item's level is 1 +
    its deepest dependency's (0 without any), and the order is by (level, item)."""
    deps = {item: set(d) - {item} for item, d in dependencies.items()}
    for d in list(deps.values()):
        for item in d:
            deps.setdefault(item, set())
    users: dict[int, list[int]] = {item: [] for item in deps}
    waiting = {item: len(d) for item, d in deps.items()}
    for item, d in deps.items():
        for dep in d:
            users[dep].append(item)
    level = {item: 0 for item, count in waiting.items() if count == 0}
    ready = list(level)
    while ready:
        item = ready.pop()
        for user in users[item]:
            level[user] = max(level.get(user, 0), level[item] + 1)
            waiting[user] -= 1
            if waiting[user] == 0:
                ready.append(user)
    if len(level) < len(deps) or any(waiting.values()):
        raise CircularDependencyError({k: v for k, v in deps.items() if waiting[k]})
    return sorted(deps, key=lambda item: (level[item], item))


def unique_parameters_apply(self, model: ModelWrapper):
    graph = model.graph
    inits, seen = {t.name for t in graph.initializer}, set()
    for n in graph.node:
        for idx, name in enumerate(list(n.input)):
            if name not in inits:
                continue
            if name not in seen:
                seen.add(name)
                continue
            new_name = model.make_new_valueinfo_name()
            model.set_initializer(new_name, model.get_initializer(name))
            model.set_tensor_datatype(new_name, model.get_tensor_datatype(name))
            n.input[idx] = new_name
            inits.add(new_name)
    return model, False


class _NumpyArrayAllowed:
    """numpy, except that ``vectorize(IntType.allowed)`` is ``IntType.allowed`` itself: that function is
    elementwise numpy already (``round(x) == x`` and the bounds), so the result is the same boolean array,
    without a Python call per threshold."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def vectorize(function, *args, **kwargs):
        bound_to = getattr(function, "__self__", None)
        if not args and not kwargs and type(bound_to) is IntType and function.__func__ is IntType.allowed:
            return function
        return np.vectorize(function, *args, **kwargs)


def install() -> None:
    infer_shapes.InferShapes.apply = infer_shapes_apply
    general.SortGraph.apply = sort_graph_apply
    general.GiveUniqueParameterTensors.apply = unique_parameters_apply
    for module in FINN_THRESHOLD_CHECKS:
        module.np = _NumpyArrayAllowed()


def uninstall() -> None:
    """qonnx's own passes back (tests compare both)."""
    infer_shapes.InferShapes.apply = ORIGINAL["InferShapes"]
    general.SortGraph.apply = ORIGINAL["SortGraph"]
    general.GiveUniqueParameterTensors.apply = ORIGINAL["GiveUniqueParameterTensors"]
    for module in FINN_THRESHOLD_CHECKS:
        module.np = np
