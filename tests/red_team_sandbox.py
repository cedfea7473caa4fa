"""The red-team sandbox (``build_sandbox(box)``): every file and folder the cases of
tests/red_team_cases.py refer to. The second round's (issue 28, ``extend_sandbox``): a git work tree, a
checkpoint that records its data folder, malformed resume files and JSON, an ONNX file whose node
domain names a Python module, a FIFO. Used by tests/test_red_team.py and tests/test_cli_fuzz.py."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
from pathlib import Path

import numpy as np
import onnx
import onnx.numpy_helper
import torch
from onnx import TensorProto, helper
from red_team_inputs import KWARGS, Evil, tiny_model

from brevitas_models.checkpoint import FORMAT, save_checkpoint
from flow.core.files import MARKER

DEEP = "[" * 5000 + "]" * 5000  # deeper than Python's JSON parser recurses


def git_tree(box) -> None:
    """``repo/``: a git work tree with a tracked results/ folder."""
    repo = box / "repo"
    (repo / "results").mkdir(parents=True)
    (repo / "results" / "table.md").write_text("tracked result\n")
    (repo / "notes.json").write_text('{"mine": 1}\n')
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@t"
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "x"]):
        subprocess.run(["git", *cmd], cwd=repo, check=True, env=env, capture_output=True)


def checkpoints(box) -> None:
    """A checkpoint recording its data folder (inside an earlier build); bad keyword arguments."""
    data = box / "prev_with_data" / "data"
    data.mkdir(parents=True)
    (data / "t10k-images-idx3-ubyte.gz").write_bytes(b"the user's data")
    (box / "prev_with_data" / MARKER).write_text("{}")
    meta = {"dataset": "fashion-mnist", "data_dir": str(data)}
    save_checkpoint(box / "records_data.pt", "xnor_mlp", KWARGS, tiny_model(), meta)
    state = tiny_model().state_dict()
    for name, kwargs in (
        ("shift_nan", {**KWARGS, "shift": float("nan")}),
        ("shift_mode", {**KWARGS, "shift_mode": "x"}),
    ):
        torch.save({"format": FORMAT, "model": "xnor_mlp", "kwargs": kwargs, "state_dict": state, "meta": {}},
                   box / f"{name}.pt")  # fmt: skip


def resume_files(box) -> None:
    """Run folders whose resume.pt lies: an epoch beyond the run, a missing field, a wrong type."""
    good = {"model": "xnor_mlp", "kwargs": {}, "state_dict": {}, "optimizer": {}, "scheduler": {}}
    cases = {"resume99": {**good, "epoch": 99, "history": []}, "resume_keys": {"model": "xnor_mlp"},
             "resume_type": {**good, "epoch": "3", "history": []}}  # fmt: skip
    for folder, state in cases.items():
        (box / folder).mkdir()
        torch.save(state, box / folder / "resume.pt")


def onnx_files(box) -> None:
    """A node in the domain ``os`` (qonnx would import it), an input annotated BIPOLAR."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 784])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 784])
    node = helper.make_node("Identity", ["x"], ["y"], domain="os")
    graph = helper.make_graph([node], "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("os", 1)])
    onnx.save(model, str(box / "onnx" / "domain_os.onnx"))
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y])
    graph.quantization_annotation.add(
        tensor_name="x",
        quant_parameter_tensor_names=[onnx.StringStringEntryProto(key="finn_datatype", value="BIPOLAR")],
    )
    onnx.save(helper.make_model(graph), str(box / "onnx" / "bipolar.onnx"))


def json_files(box) -> None:
    fold = box / "fold"
    (fold / "deep.json").write_text(DEEP)
    (fold / "fifo_depths.json").write_text('{"MVAU_hls_0": {"inFIFODepths": [4]}}')
    (fold / "uram.json").write_text('{"MVAU_hls_0": {"ram_style": "ultra"}}')
    (fold / "default_fifo.json").write_text('{"Defaults": {"outFIFODepths": [[8], "all"]}}')
    rtl = box / "notbuild_rtl" / "rtl"
    rtl.mkdir(parents=True)
    (rtl / "top.json").write_text(json.dumps({"in_width": 8, "out_width": 8, "in_beats_per_image": 1,
                                              "out_beats_per_image": 1}))  # fmt: skip
    (rtl / "filelist.f").write_text("")
    bad = box / "bad_top" / "rtl"
    bad.mkdir(parents=True)
    (bad / "top.json").write_text(json.dumps({"in_width": "8", "out_width": 8, "in_beats_per_image": 1,
                                              "out_beats_per_image": 1}))  # fmt: skip
    (bad / "filelist.f").write_text("")
    (box / "bad_top" / MARKER).write_text("{}")
    deep = box / "deep_top" / "rtl"
    deep.mkdir(parents=True)
    (deep / "top.json").write_text(DEEP)
    (deep / "filelist.f").write_text("")
    (box / "deep_results" / "a").mkdir(parents=True)
    (box / "deep_results" / "a" / "results.json").write_text(DEEP)


def _onnx_identity(path: Path, elem_type: int, shape: list) -> None:
    x = helper.make_tensor_value_info("x", elem_type, shape)
    y = helper.make_tensor_value_info("y", elem_type, shape)
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y])
    onnx.save(helper.make_model(graph), str(path))


def _onnx_nan_matmul(path: Path) -> None:
    """A float32 graph of static shape (the input checks pass) whose weight holds one NaN."""
    weight = np.ones((784, 10), np.float32)
    weight[3, 4] = np.nan
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 784])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])
    w = onnx.numpy_helper.from_array(weight, "W")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"])], "g", [x], [y], [w])
    onnx.save(helper.make_model(graph), str(path))


def build_sandbox(box: Path) -> Path:
    """Every file and folder the CLI cases (red_team_cases.CASES) refer to, under ``box``."""
    run = box / "run"
    save_checkpoint(run / "checkpoint.pt", "xnor_mlp", KWARGS, tiny_model(), {"dataset": "digits"})
    (run / "metrics.json").write_text('{"test_accuracy": 0.5}')
    save_checkpoint(box / "outer" / "inner" / "checkpoint.pt", "xnor_mlp", KWARGS, tiny_model())
    bn = next(n for n, _ in tiny_model().named_buffers() if n.endswith("running_var"))
    weight = next(n for n, _ in tiny_model().named_parameters() if n.endswith("weight"))
    save_checkpoint(box / "nan_weight.pt", "xnor_mlp", KWARGS, tiny_model({weight: float("nan")}))
    save_checkpoint(box / "neg_var.pt", "xnor_mlp", KWARGS, tiny_model({bn: -1.0}))
    gamma = next(n for n, _ in tiny_model().named_parameters() if n.startswith("features.1") and n.endswith("weight"))
    save_checkpoint(box / "zero_gamma.pt", "xnor_mlp", KWARGS, tiny_model({gamma: 0.0}))
    payload = {"format": FORMAT, "model": "xnor_mlp", "state_dict": tiny_model().state_dict(), "meta": {}}
    torch.save(payload, box / "no_kwargs.pt")
    torch.save({**payload, "kwargs": KWARGS, "meta": None}, box / "meta_none.pt")
    (box / "prev_build").mkdir()
    (box / "prev_build" / MARKER).write_text("{}")
    (box / "notbuild").mkdir()
    (box / "notbuild" / "keep.txt").write_text("not a build")
    (box / "cwd").mkdir()  # the user's current folder during the cases
    (box / "cwd" / "notes.txt").write_text("the user's files")
    (box / "afile.txt").write_text("a file")
    (box / "link").symlink_to(box / "prev_build")
    (box / "empty_run").mkdir()
    (box / "truncated").mkdir()
    (box / "truncated" / "resume.pt").write_bytes(b"PK\x03\x04 truncated")
    onnx_dir = box / "onnx"
    onnx_dir.mkdir()
    _onnx_identity(onnx_dir / "int64.onnx", TensorProto.INT64, [1, 784])
    _onnx_identity(onnx_dir / "fp16.onnx", TensorProto.FLOAT16, [1, 784])
    _onnx_identity(onnx_dir / "dynbatch.onnx", TensorProto.FLOAT, ["N", 784])
    (onnx_dir / "garbage.onnx").write_bytes(b"\x08\x01garbage")
    _onnx_nan_matmul(onnx_dir / "nan_weight.onnx")
    fold = box / "fold"
    fold.mkdir()
    (fold / "pe_true.json").write_text('{"MVAU_hls_0": {"PE": true}}')
    (fold / "bad_defaults.json").write_text('{"Defaults": {"PE": 4}}')
    (fold / "nan.json").write_text('{"MVAU_hls_0": {"PE": NaN}}')
    (fold / "list.json").write_text("[1, 2]")
    (fold / "unknown_attr.json").write_text('{"MVAU_hls_0": {"PEE": 2}}')
    cifar = box / "cifar" / "cifar-10-batches-py"
    cifar.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (cifar / name).write_bytes(pickle.dumps({b"data": Evil(box / "PWNED"), b"labels": [0]}))
    sweep_run = box / "sweep" / "runs" / "t0_shift_seed0"
    sweep_run.mkdir(parents=True)
    kwargs = {"weight_scaling": "per_tensor", "shift": 0.0}
    config = {"model": "xnor_mlp", "dataset": "digits", "model_kwargs": kwargs, "epochs": 99, "seed": 0}
    (sweep_run / "metrics.json").write_text(json.dumps({"config": config, "test_accuracy": 0.5}))
    results = box / "results"
    (results / "broken").mkdir(parents=True)
    (results / "broken" / "results.json").write_text("{not json")
    (results / "README.md").write_text("old tables\n")
    (box / "results_metrics" / "run").mkdir(parents=True)
    (box / "results_metrics" / "run" / "metrics.json").write_text('{"model": "xnor_mlp"}')  # fields missing
    ok = box / "results_ok"
    (ok / "a").mkdir(parents=True)
    (ok / "README.md").write_text("old tables\n")
    (box / "doc_without_block.md").write_text("# no results block here\n")
    extend_sandbox(box)
    return box


def extend_sandbox(box) -> None:
    git_tree(box)
    checkpoints(box)
    resume_files(box)
    onnx_files(box)
    json_files(box)
    (box / "mnistdir").mkdir()
    (box / "mnistdir" / "train-images-idx3-ubyte").write_bytes(b"the user's data")
    os.mkfifo(box / "fifo.json")
