"""The second round's sandbox files (issue 28): a git work tree, a checkpoint that records its data
folder, malformed resume files and JSON, an ONNX file whose node domain names a Python module.
``extend_sandbox(box)`` adds them to tests/test_red_team.py's sandbox; the cases that use them are in
tests/red_team_cases.py (``CASES``)."""

from __future__ import annotations

import json
import os
import subprocess

import onnx
import torch
from onnx import TensorProto, helper
from red_team_cases import KWARGS, tiny_model

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


def extend_sandbox(box) -> None:
    git_tree(box)
    checkpoints(box)
    resume_files(box)
    onnx_files(box)
    json_files(box)
    (box / "mnistdir").mkdir()
    (box / "mnistdir" / "train-images-idx3-ubyte").write_bytes(b"the user's data")
    os.mkfifo(box / "fifo.json")
