"""CNV-W1A1 at --target-fps 20000 from scratch (export, streamline, fold): the search reaches it in the model
and the design fits the xc7z020 by the resource model (our xnor_cnv; Brevitas' own CNV and the RTL
simulation and yosys of both are benchmarks, bench/rtl_backend.py, not CI). Also: the committed skeleton
graphs of tests/data/zoo are what the compiler makes today."""

from __future__ import annotations

import gzip

import pytest
from zoo_skeletons import compile_prefold, path_of, skeletonize

import flow.core.finn_env  # noqa: F401  (boots FINN without Vivado)
from brevitas_models.registry import build_model, input_shape
from flow.builder.compile import compile_config, run_compile_steps
from flow.compiler.export import export_model
from flow.core.boards import get_board

pytestmark = pytest.mark.slow


def test_cnv_w1a1_reaches_20000_in_the_model_and_fits(tmp_path):
    kwargs = {"in_channels": 3, "in_size": 32}
    model, shape = build_model("xnor_cnv", **kwargs), input_shape("xnor_cnv", kwargs)
    cfg = compile_config(get_board("Pynq-Z2"), tmp_path, target_fps=20_000)
    cfg.model_dir.mkdir(parents=True)
    state = run_compile_steps(export_model(model.eval(), shape, cfg.model_dir / "qonnx.onnx"), cfg, save=False)
    result = state.search
    assert result.reached and result.fps >= 20_000 and result.limit is None
    assert result.cost["fits"] and result.cost["lut"] <= 0.9 * 53_200


def test_skeleton_is_current(tmp_path):
    """tests/data/zoo/xnor_mlp.onnx.gz is what compile_prefold + skeletonize give now (regenerate all with
    ``python -m tests.zoo_skeletons`` when a compiler change makes this fail)."""
    fresh = skeletonize(compile_prefold("xnor_mlp", tmp_path)).model
    stored = gzip.decompress(path_of("xnor_mlp").read_bytes())
    from onnx import ModelProto

    committed = ModelProto.FromString(stored)
    assert [(n.op_type, str(n.attribute)) for n in fresh.graph.node] == [
        (n.op_type, str(n.attribute)) for n in committed.graph.node
    ]
    assert {i.name: i.dims for i in fresh.graph.initializer} == {i.name: i.dims for i in committed.graph.initializer}
