"""The zoo models' graphs as the folding step receives them, stored small: test data of tests/test_zoo_fit.py.

    python -m tests.zoo_skeletons [NAME ...]     # regenerate tests/data/zoo/<name>.onnx.gz (minutes each)

A skeleton is the graph after ``specialize_layers`` (what ``step_folding`` folds) of ``build_model(name)``
at the registry's default arguments (untrained: what ``flow/build.py --model NAME`` builds), with its
weights replaced by values that compress to nothing but leave every quantity the lowering, the cycle
and the resource models read unchanged:
- binary weights (bnn_mvau) -> all +1: only the shape and "values in {-1, +1}" are read;
- integer weights (int_mvau) -> zeros except one column holding the original column with the lowest
  and one with the highest reachable accumulator value: ``int_mvau.acc_range`` (the accumulator and
  threshold widths) is unchanged.
Thresholds are kept (their values decide which re-quantizations fuse into an add). A full-size
ResNet takes minutes to compile (ResNet-34: 143 CPU s, 15 min wall on 2 loaded cores), so the fast
test reads these instead; the slow
test ``test_skeleton_is_current`` compiles the MLP again and compares.
"""

from __future__ import annotations

import gzip
import sys
import tempfile
from pathlib import Path

import numpy as np

ZOO_DIR = Path(__file__).resolve().parent / "data" / "zoo"
# registry models that FINN maps to hardware at their default arguments
MAPPABLE = ("xnor_mlp", "xnor_cnv", "bireal_cnv", "bireal_resnet18_hw", "bireal_resnet34_hw", "xnor_resnet18_hw")
# the float-stem zoo models: FINN cannot map them (docs/resnet_hw.md), the build stops with a MappingError
UNMAPPABLE = ("xnor_resnet18", "bireal_resnet18", "bireal_resnet34")


def compile_prefold(name: str, workdir: Path):
    """export + compile steps up to ``specialize_layers`` of the untrained default model ``name``."""
    from qonnx.transformation.general import GiveUniqueNodeNames

    import flow.core.finn_env  # noqa: F401
    from brevitas_models.registry import build_model, input_shape
    from flow.builder.compile import compile_config, run_compile_steps
    from flow.compiler.export import export_model
    from flow.core.boards import get_board

    cfg = compile_config(get_board("Pynq-Z2"), workdir)
    cfg.model_dir.mkdir(parents=True, exist_ok=True)
    graph = export_model(build_model(name).eval(), input_shape(name, {}), cfg.model_dir / "qonnx.onnx")
    state = run_compile_steps(graph, cfg, until="specialize_layers", save=False)
    return state.model.transform(GiveUniqueNodeNames())


def skeletonize(model):
    """Weights replaced as the module docstring says (in place); returns ``model``."""
    from qonnx.custom_op.registry import getCustomOp

    from flow.core.hw_graph import binary_weights, generic_op_type
    from hw.golden import int_mvau

    for node in model.graph.node:
        if generic_op_type(node.op_type) != "MVAU":
            continue
        W = model.get_initializer(node.input[1])
        if binary_weights(model, node):
            model.set_initializer(node.input[1], np.ones_like(W))
            continue
        idt = getCustomOp(node).get_input_datatype(0)
        x_lo, x_hi = idt.min(), idt.max()
        lows, highs = np.minimum(W * x_lo, W * x_hi).sum(0), np.maximum(W * x_lo, W * x_hi).sum(0)
        if W.shape[1] > 1:
            small = np.zeros_like(W)
            small[:, 0], small[:, -1] = W[:, int(np.argmin(lows))], W[:, int(np.argmax(highs))]
            assert int_mvau.acc_range(small, idt.bitwidth(), idt.signed()) == int_mvau.acc_range(
                W, idt.bitwidth(), idt.signed()
            )
            model.set_initializer(node.input[1], small)
    return model


def path_of(name: str) -> Path:
    return ZOO_DIR / f"{name}.onnx.gz"


def load(name: str):
    from qonnx.core.modelwrapper import ModelWrapper

    import flow.core.finn_env  # noqa: F401

    return ModelWrapper(gzip.decompress(path_of(name).read_bytes()))


def save(model, name: str) -> Path:
    ZOO_DIR.mkdir(parents=True, exist_ok=True)
    path = path_of(name)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(gzip.compress(model.model.SerializeToString(), 9, mtime=0))
    tmp.replace(path)
    return path


def main(names: list[str]) -> int:
    for name in names or MAPPABLE:
        with tempfile.TemporaryDirectory() as work:
            path = save(skeletonize(compile_prefold(name, Path(work))), name)
        print(f"{path} ({path.stat().st_size:,} bytes)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
