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
- ``InferDataTypes`` (issue 27 item 5; the largest cost left after the above, a third of the time):
  every datatype lookup scanned all annotations, value infos and initializers (decoding the tensor
  to learn its type); the pass now runs with name-indexed lookups (``_IndexedDatatypes``).
- ``FoldConstants`` (one node per call, ~100 calls at export): each call decoded every initializer
  (11 M weights) for its execution context and to test which inputs are constant, then deep-copied the
  model for its shape inference; now name lookups, a context that decodes what the node reads, and
  the shape inference on the model it already changed.
- ``InferShapes`` keeps the model's own initializers instead of copying the big ones back into ONNX's
  result (``_take_all_but_initializers``).

tests/test_qonnx_speed.py checks each against the original on generated and real graphs.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnx.shape_inference as si
import qonnx.core.onnx_exec as oxe
import qonnx.util.onnx as onnxutil
from finn.custom_op.fpgadataflow import matrixvectoractivation, thresholding
from finn.custom_op.fpgadataflow.hls import matrixvectoractivation_hls
from finn.custom_op.fpgadataflow.rtl import thresholding_rtl
from onnx import TensorProto, helper, numpy_helper
from qonnx.core.datatype import DataType, IntType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation import fold_constants, general, infer_datatypes, infer_shapes
from toposort import CircularDependencyError

# Initializers of more elements than this reach ONNX's shape inference as stubs without data.
STUB_ELEMENTS = 1024
# FINN modules whose threshold checks run ``np.vectorize(dt.allowed)`` over every threshold.
FINN_THRESHOLD_CHECKS = (matrixvectoractivation, matrixvectoractivation_hls, thresholding, thresholding_rtl)
# qonnx's get_tensor_datatype: ONNX element types read as QONNX types (the rest is FLOAT32)
ONNX_TO_QONNX = {TensorProto.FLOAT: "FLOAT32", TensorProto.FLOAT16: "FLOAT16"}
ORIGINAL = {
    "InferShapes": infer_shapes.InferShapes.apply,
    "InferDataTypes": infer_datatypes.InferDataTypes.apply,
    "FoldConstants": fold_constants.FoldConstants.apply,
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
    _take_all_but_initializers(inferred, model.model)  # the tensors stay where they are: no copy of 11 M weights
    result = ModelWrapper(model.model, fix_missing_initializer_valueinfo=False)
    _add_initializer_valueinfo(result)
    infer_shapes._restore_finn_ops(result, hidden_ops)
    return result, False


def _take_all_but_initializers(source: onnx.ModelProto, target: onnx.ModelProto) -> None:
    """``target`` becomes ``source`` except for the graph's initializers, which it keeps (shape inference
    changes no initializer; ``source``'s are the stubs)."""
    for field in target.DESCRIPTOR.fields:
        if field.name != "graph":
            target.ClearField(field.name)
    for field in target.graph.DESCRIPTOR.fields:
        if field.name != "initializer":
            target.graph.ClearField(field.name)
    _copy_fields(source, target, skip="graph")
    _copy_fields(source.graph, target.graph, skip="initializer")


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


def infer_datatypes_apply(self, model: ModelWrapper):
    """qonnx's InferDataTypes with the model's datatype lookups indexed for the pass (``_IndexedDatatypes``):
    each lookup scanned every annotation, value info and initializer (decoding it): quadratic."""
    index = _IndexedDatatypes.of(model)
    if index is None:  # duplicate names: qonnx's own lookups raise or pick as they do
        return ORIGINAL["InferDataTypes"](self, model)
    model.get_tensor_datatype, model.set_tensor_datatype = index.get, index.set
    try:
        modified = False
        for node in model.graph.node:
            modified |= infer_datatypes._infer_node_datatype(model, node, self.allow_scaledint_dtypes)
    finally:
        del model.get_tensor_datatype, model.set_tensor_datatype  # the class's methods again
    return model, modified


class _IndexedDatatypes:
    """``ModelWrapper.get/set_tensor_datatype`` of one model over name -> annotation / value info /
    initializer type maps built once, kept current by ``set`` (the only writer during InferDataTypes).
    A name the maps do not know goes to qonnx's own lookup, so a value info added meanwhile is found."""

    def __init__(self, model: ModelWrapper, annotations: dict, infos: dict, init_types: dict):
        self.model, self.annotations, self.infos, self.init_types = model, annotations, infos, init_types

    @classmethod
    def of(cls, model: ModelWrapper):
        graph = model.graph
        annotations = {qa.tensor_name: qa for qa in graph.quantization_annotation}
        infos = {vi.name: vi for vi in (*graph.input, *graph.output, *graph.value_info)}
        if len(annotations) < len(graph.quantization_annotation):
            return None
        if len(infos) < len(graph.input) + len(graph.output) + len(graph.value_info):
            return None
        init_types = {}
        for t in graph.initializer:
            init_types.setdefault(t.name, t.data_type)  # qonnx's get_initializer takes the first
        return cls(model, annotations, infos, init_types)

    @staticmethod
    def _entry(annotation):
        entries = [e for e in annotation.quant_parameter_tensor_names if e.key == "finn_datatype"]
        if len(entries) > 1:
            raise Exception("Found multiple get_by_name matches, undefined behavior")
        return entries[0] if entries else None

    def get(self, name: str):
        annotation = self.annotations.get(name)
        entry = self._entry(annotation) if annotation is not None else None
        if entry is not None:
            return DataType[entry.value]
        if name in self.infos:
            onnx_type = self.infos[name].type.tensor_type.elem_type
        elif name in self.init_types:
            onnx_type = self.init_types[name]
        else:
            return ModelWrapper.get_tensor_datatype(self.model, name)
        return DataType[ONNX_TO_QONNX.get(onnx_type, "FLOAT32")]

    def set(self, name: str, datatype) -> None:
        annotation = self.annotations.get(name)
        if annotation is None:
            if datatype is not None:
                ModelWrapper.set_tensor_datatype(self.model, name, datatype)  # appends a new annotation
                self.annotations[name] = self.model.graph.quantization_annotation[-1]
            return
        entry = self._entry(annotation)
        if entry is not None:
            if datatype is None:
                entry.Clear()
            else:
                entry.value = datatype.name
        elif datatype is not None:
            annotation.quant_parameter_tensor_names.append(
                onnx.StringStringEntryProto(key="finn_datatype", value=datatype.name)
            )


def fold_constants_apply(self, model: ModelWrapper):
    """qonnx's FoldConstants (one node per call, as there) without decoding every initializer on each call
    (for each node scanned, and all of them for the execution context) or copying the model: whether an
    input is constant is a name lookup, and the context decodes only what the folded node reads."""
    opset_version = model.model.opset_import[0].version
    constants = {t.name for t in model.graph.initializer}
    context = _LazyContext(model.graph)
    for n in model.graph.node:
        is_all_constant_inputs = all(name in constants for name in n.input)
        if len(n.input) > 0:
            ishape = model.get_tensor_shape(n.input[0])
            is_const_shape = (n.op_type == "Shape") and (ishape is not None)
            is_no_input = False
        else:
            is_no_input = True
        if (is_all_constant_inputs or is_const_shape or is_no_input) and n.op_type not in self.exclude_op_types:
            for inp in n.input:  # qonnx 'touches' every input's shape (adds missing initializer ValueInfos)
                model.get_tensor_shape(inp, fix_missing_init_shape=True)
            oxe.execute_node(n, context, model.graph, opset_version=opset_version)
            model.set_initializer(n.output[0], context[n.output[0]])
            model.graph.node.remove(n)
            # qonnx deep-copies the model here (11 M weights per folded node); it was changed in place already
            return model.transform(infer_shapes.InferShapes(), make_deepcopy=False), True
    return model, False


class _LazyContext(dict):
    """``ModelWrapper.make_empty_exec_context()`` built on demand: a tensor is made when first read, as
    that function makes it (an initializer's values, else zeros of its last ValueInfo; "" is None)."""

    def __init__(self, graph):
        super().__init__({"": None})
        self.graph = graph

    def __missing__(self, name: str):
        init = next((t for t in self.graph.initializer if t.name == name), None)
        if init is not None:
            value = numpy_helper.to_array(init)
        else:
            infos = [vi for vi in (*self.graph.input, *self.graph.output, *self.graph.value_info) if vi.name == name]
            if not infos:
                raise KeyError(name)
            value = onnxutil.valueinfo_to_tensor(infos[-1])
        self[name] = value
        return value

    def get(self, name, default=None):
        try:
            return self[name]
        except KeyError:
            return default


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
    infer_datatypes.InferDataTypes.apply = infer_datatypes_apply
    fold_constants.FoldConstants.apply = fold_constants_apply
    general.SortGraph.apply = sort_graph_apply
    general.GiveUniqueParameterTensors.apply = unique_parameters_apply
    for module in FINN_THRESHOLD_CHECKS:
        module.np = _NumpyArrayAllowed()


def uninstall() -> None:
    """qonnx's own passes back (tests compare both)."""
    infer_shapes.InferShapes.apply = ORIGINAL["InferShapes"]
    infer_datatypes.InferDataTypes.apply = ORIGINAL["InferDataTypes"]
    fold_constants.FoldConstants.apply = ORIGINAL["FoldConstants"]
    general.SortGraph.apply = ORIGINAL["SortGraph"]
    general.GiveUniqueParameterTensors.apply = ORIGINAL["GiveUniqueParameterTensors"]
    for module in FINN_THRESHOLD_CHECKS:
        module.np = np
