"""Red team: bad input and faults against every CLI (issue 17). Each case asserts the exit status,
exactly one ``error:`` line and no traceback on stderr, and that every file that existed before is
byte-for-byte unchanged afterwards (nothing created either). The inputs are checked before any work,
so almost every case fails in milliseconds; the few that need a build are in the ``slow`` tier.
docs/safety.md lists the cases and their outcome."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import onnx
import onnx.numpy_helper
import pytest
import torch
from onnx import TensorProto, helper

from brevitas_models.checkpoint import FORMAT, read_checkpoint, save_checkpoint
from brevitas_models.registry import build_model
from flow.files import MARKER

ROOT = Path(__file__).resolve().parent.parent
KWARGS = {"hidden": [16, 16], "shift": 0.25}
TINY = ["--dataset", "digits", "--hidden", "16,16,16", "--threads", "1", "--no-progress", "--epochs", "1"]


# ------------------------------------------------------------------------------------------ sandbox
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


class Evil:
    """Unpickling this runs ``touch <marker>``: what a crafted CIFAR batch could do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _model(changes: dict | None = None):
    model = build_model("xnor_mlp", **KWARGS)
    tensors = {**dict(model.named_buffers()), **dict(model.named_parameters())}
    with torch.no_grad():
        for name, value in (changes or {}).items():
            tensors[name].view(-1)[0] = value  # one bad value is enough
    return model.eval()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Path:
    box = tmp_path_factory.mktemp("redteam")
    run = box / "run"
    save_checkpoint(run / "checkpoint.pt", "xnor_mlp", KWARGS, _model(), {"dataset": "digits"})
    (run / "metrics.json").write_text('{"test_accuracy": 0.5}')
    save_checkpoint(box / "outer" / "inner" / "checkpoint.pt", "xnor_mlp", KWARGS, _model())
    bn = next(n for n, _ in _model().named_buffers() if n.endswith("running_var"))
    weight = next(n for n, _ in _model().named_parameters() if n.endswith("weight"))
    save_checkpoint(box / "nan_weight.pt", "xnor_mlp", KWARGS, _model({weight: float("nan")}))
    save_checkpoint(box / "neg_var.pt", "xnor_mlp", KWARGS, _model({bn: -1.0}))
    gamma = next(n for n, _ in _model().named_parameters() if n.startswith("features.1") and n.endswith("weight"))
    save_checkpoint(box / "zero_gamma.pt", "xnor_mlp", KWARGS, _model({gamma: 0.0}))
    payload = {"format": FORMAT, "model": "xnor_mlp", "state_dict": _model().state_dict(), "meta": {}}
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
    return box


def snapshot(root: Path) -> dict:
    """Every entry under ``root``: file hash, link target or folder (symlinks not followed)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = "link:" + os.readlink(path)
            elif path.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def assert_one_error(code: int, err: str, expected_code: int, fragment: str) -> None:
    assert code == expected_code, err
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if "error:" in ln]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert fragment in lines[0], lines[0]


# --------------------------------------------------------------------------------- the CLI cases
def _build(*a):
    return ["--board", "Pynq-Z2", *a]


# (tool, argv with {box} for the sandbox, expected exit, fragment of the error line)
CASES = {
    # flow/build.py
    "build-shift-nan": ("build", _build("--shift", "nan"), 2, "finite number"),
    "build-shift-minus-inf": ("build", _build("--shift=-inf"), 2, "finite number"),
    "build-shift-inf": ("build", _build("--shift", "inf"), 2, "finite number"),
    "build-shift-text": ("build", _build("--shift", "abc"), 2, "want a number"),
    "build-fps-tiny": ("build", _build("--target-fps", "1e-9"), 2, "--target-fps must lie between 1"),
    "build-fps-inf": ("build", _build("--target-fps", "inf"), 2, "finite number"),
    "build-fps-above-clock": ("build", _build("--target-fps", "1e9"), 2, "one image per cycle"),
    "build-verify-huge": ("build", _build("--verify-images", "1000000000000"), 2, "between 1 and 100000"),
    "build-verify-zero": ("build", _build("--verify-images", "0"), 2, "between 1 and 100000"),
    "build-no-board": ("build", [], 2, "--board is required"),
    "build-unknown-board": ("build", ["--board", "Arty"], 2, "unknown board 'Arty'"),
    "build-unknown-flag": ("build", _build("--frobnicate"), 2, "unrecognized arguments"),
    "build-unknown-model": ("build", _build("--model", "nope"), 2, "unknown model 'nope'"),
    "build-model-kwargs-unknown-key": (
        "build",
        _build("--model", "xnor_mlp", "--model-kwargs", '{"foo": 1}'),
        2,
        "unexpected keyword argument 'foo'",
    ),
    "build-model-args-alias-unknown-key": (
        "build",
        _build("--model", "xnor_mlp", "--model-args", '{"foo": 1}'),
        2,
        "'foo'",
    ),
    "build-model-kwargs-not-object": (
        "build",
        _build("--model", "xnor_mlp", "--model-kwargs", "[1]"),
        2,
        "JSON object",
    ),
    "build-model-kwargs-nan": ("build", _build("--model", "xnor_mlp", "--model-kwargs", '{"shift": NaN}'), 2, "NaN"),
    "build-model-kwargs-zero-hidden": (
        "build",
        _build("--model", "xnor_mlp", "--model-kwargs", '{"hidden": [0]}'),
        2,
        "cannot be built",
    ),
    "build-model-kwargs-bad-in-size": (
        "build",
        _build("--model", "bireal_cnv", "--model-kwargs", '{"in_size": 30}'),
        2,
        "cannot be built",
    ),
    "build-kwargs-with-checkpoint": (
        "build",
        _build("--checkpoint", "{box}/run", "--model-kwargs", "{}"),
        2,
        "a checkpoint fixes the arguments",
    ),
    "build-checkpoint-other-model": (
        "build",
        _build("--model", "xnor_cnv", "--checkpoint", "{box}/run"),
        2,
        "holds model 'xnor_mlp'",
    ),
    "build-checkpoint-missing": ("build", _build("--checkpoint", "{box}/nope.pt"), 2, "checkpoint not found"),
    "build-checkpoint-folder-without": (
        "build",
        _build("--checkpoint", "{box}/notbuild"),
        2,
        "folder without checkpoint.pt",
    ),
    "build-checkpoint-not-torch": ("build", _build("--checkpoint", "{box}/afile.txt"), 2, "not a readable torch file"),
    "build-checkpoint-no-kwargs": ("build", _build("--checkpoint", "{box}/no_kwargs.pt"), 2, "field 'kwargs'"),
    "build-onnx-int64-input": ("build", _build("--onnx", "{box}/onnx/int64.onnx"), 2, "is INT64"),
    "build-onnx-fp16-input": ("build", _build("--onnx", "{box}/onnx/fp16.onnx"), 2, "is FLOAT16"),
    "build-onnx-dynamic-batch": ("build", _build("--onnx", "{box}/onnx/dynbatch.onnx"), 2, "static shape"),
    "build-onnx-nan-weight": (
        "build",
        _build("--onnx", "{box}/onnx/nan_weight.onnx", "--output", "{box}/o"),
        2,
        "tensor W holds 1 NaN/inf value(s)",
    ),
    "build-onnx-garbage": ("build", _build("--onnx", "{box}/onnx/garbage.onnx"), 2, "not a valid ONNX model"),
    "build-onnx-with-shift": ("build", _build("--onnx", "{box}/onnx/int64.onnx", "--shift", "1"), 2, "--shift applies"),
    "build-folding-pe-true": ("build", _build("--folding", "{box}/fold/pe_true.json"), 2, "positive integer, got True"),
    "build-folding-bad-defaults": ("build", _build("--folding", "{box}/fold/bad_defaults.json"), 2, "Defaults.PE"),
    "build-folding-nan": ("build", _build("--folding", "{box}/fold/nan.json"), 2, "not valid JSON"),
    "build-folding-not-object": ("build", _build("--folding", "{box}/fold/list.json"), 2, "must be an object"),
    "build-folding-missing": ("build", _build("--folding", "{box}/fold/nope.json"), 2, "folding JSON not found"),
    "build-output-cwd": ("build", _build("--output", "."), 2, "current directory"),
    "build-output-cwd-forced": ("build", _build("--output", ".", "--force"), 2, "current directory"),
    "build-output-parent-of-cwd": ("build", _build("--output", ".."), 2, "current directory or a folder above"),
    "build-output-holds-checkpoint": (
        "build",
        _build("--checkpoint", "{box}/run", "--output", "{box}/run", "--force"),
        2,
        "holds the input",
    ),
    "build-output-parent-of-input": (
        "build",
        _build("--checkpoint", "{box}/outer/inner", "--output", "{box}/outer", "--force"),
        2,
        "holds the input",
    ),
    "build-output-repository": ("build", _build("--output", str(ROOT), "--force"), 2, "shiftbnn repository"),
    "build-output-symlink": ("build", _build("--output", "{box}/link", "--force"), 2, "symbolic link"),
    "build-output-file": ("build", _build("--output", "{box}/afile.txt", "--force"), 2, "existing file"),
    "build-output-not-a-build": ("build", _build("--output", "{box}/notbuild"), 2, "--force to replace it"),
    "build-nan-weights": ("build", _build("--checkpoint", "{box}/nan_weight.pt", "--output", "{box}/o"), 2, "NaN/inf"),
    "build-negative-bn-variance": (
        "build",
        _build("--checkpoint", "{box}/neg_var.pt", "--output", "{box}/o"),
        2,
        "variance",
    ),
    "build-zero-bn-weight": (
        "build",
        _build("--checkpoint", "{box}/zero_gamma.pt", "--output", "{box}/o"),
        2,
        "has weight 0 in channel 0",
    ),
    # flow/train.py
    "train-epochs-zero": ("train", ["--model", "xnor_mlp", "--epochs", "0", "--output", "{box}/t"], 2, ">= 1, got 0"),
    "train-epochs-negative": ("train", ["--model", "xnor_mlp", "--epochs", "-1", "--output", "{box}/t"], 2, ">= 1"),
    "train-batch-zero": ("train", ["--model", "xnor_mlp", "--batch-size", "0", "--output", "{box}/t"], 2, ">= 1"),
    "train-threads-negative": ("train", ["--model", "xnor_mlp", "--threads", "-1", "--output", "{box}/t"], 2, ">= 1"),
    "train-device-tpu": ("train", ["--model", "xnor_mlp", "--device", "tpu", "--output", "{box}/t"], 2, "cuda:N"),
    "train-train-limit-zero": (
        "train",
        ["--model", "xnor_mlp", "--train-limit", "0", "--output", "{box}/t"],
        2,
        ">= 1",
    ),
    "train-width-negative": ("train", ["--model", "xnor_cnv", "--width", "-1", "--output", "{box}/t"], 2, "> 0"),
    "train-augment-pad-negative": (
        "train",
        ["--model", "xnor_cnv", "--augment-pad", "-3", "--output", "{box}/t"],
        2,
        "between 0 and 64",
    ),
    "train-lr-nan": ("train", ["--model", "xnor_mlp", "--lr", "nan", "--output", "{box}/t"], 2, "finite"),
    "train-shift-inf": ("train", ["--model", "xnor_mlp", "--shift", "0,inf,0", "--output", "{box}/t"], 2, "finite"),
    "train-hidden-zero": ("train", ["--model", "xnor_mlp", "--hidden", "16,0", "--output", "{box}/t"], 2, "positive"),
    "train-model-kwargs-unknown": (
        "train",
        ["--model", "xnor_mlp", "--model-kwargs", '{"foo": 1}', "--output", "{box}/t"],
        2,
        "'foo'",
    ),
    "train-model-kwargs-bad-json": (
        "train",
        ["--model", "xnor_mlp", "--model-kwargs", "{", "--output", "{box}/t"],
        2,
        "not valid JSON",
    ),
    "train-average-last-too-many": (
        "train",
        ["--model", "xnor_mlp", "--epochs", "2", "--average-last", "5", "--output", "{box}/t"],
        2,
        "--epochs 2",
    ),
    "train-init-from-missing": (
        "train",
        ["--model", "xnor_mlp", "--init-from", "{box}/nope.pt", "--output", "{box}/t"],
        2,
        "not found",
    ),
    "train-over-finished-run": ("train", ["--model", "xnor_mlp", *TINY, "--output", "{box}/run"], 2, "--resume"),
    "train-resume-without-resume-file": (
        "train",
        ["--model", "xnor_mlp", *TINY, "--resume", "--output", "{box}/run"],
        2,
        "nothing to resume",
    ),
    "train-output-is-file": (
        "train",
        ["--model", "xnor_mlp", *TINY, "--output", "{box}/afile.txt"],
        2,
        "existing file",
    ),
    "train-truncated-resume": (
        "train",
        ["--model", "xnor_mlp", *TINY, "--resume", "--output", "{box}/truncated"],
        2,
        "resume.pt is not readable",
    ),
    "train-cifar-malicious-pickle": (
        "train",
        ["--model", "xnor_cnv", "--dataset", "cifar10", "--data-dir", "{box}/cifar", "--output", "{box}/t"],
        2,
        "global posix.system is not part of the CIFAR-10 format",
    ),
    "train-mnist-missing": (
        "train",
        ["--model", "xnor_mlp", "--dataset", "mnist", "--data-dir", "{box}/notbuild", "--output", "{box}/t"],
        2,
        "not found",
    ),
    # flow/sweep.py
    "sweep-jobs-zero": ("sweep", ["--model", "xnor_mlp", "--jobs", "0", "--output", "{box}/s"], 2, ">= 1"),
    "sweep-seed-negative": ("sweep", ["--model", "xnor_mlp", "--seeds", "-1", "--output", "{box}/s"], 2, ">= 0"),
    "sweep-shift-nan": ("sweep", ["--model", "xnor_mlp", "--shifts", "0", "nan", "--output", "{box}/s"], 2, "finite"),
    "sweep-epochs-zero": ("sweep", ["--model", "xnor_mlp", "--epochs", "0", "--output", "{box}/s"], 2, ">= 1"),
    "sweep-device-tpu": ("sweep", ["--model", "xnor_mlp", "--device", "tpu", "--output", "{box}/s"], 2, "cuda:N"),
    "sweep-model-kwargs-unknown": (
        "sweep",
        ["--model", "xnor_mlp", "--model-kwargs", '{"foo": 1}', "--output", "{box}/s"],
        2,
        "'foo'",
    ),
    "sweep-other-config-in-folder": (
        "sweep",
        [
            "--model",
            "xnor_mlp",
            "--dataset",
            "digits",
            "--shifts",
            "0",
            "--seeds",
            "0",
            "--epochs",
            "1",
            "--output",
            "{box}/sweep",
        ],
        2,
        "trained with other settings (epochs 99 -> 1)",
    ),
    "sweep-output-is-file": ("sweep", ["--model", "xnor_mlp", "--output", "{box}/afile.txt"], 2, "existing file"),
    # flow/throughput.py
    "throughput-threads-zero": ("throughput", ["--threads", "0", "--output", "{box}/tp.json"], 2, ">= 1"),
    "throughput-steps-zero": ("throughput", ["--steps", "0", "--output", "{box}/tp.json"], 2, ">= 1"),
    "throughput-unknown-case": ("throughput", ["--only", "nope", "--output", "{box}/tp.json"], 2, "no case 'nope'"),
    "throughput-device-tpu": ("throughput", ["--device", "tpu", "--output", "{box}/tp.json"], 2, "cuda:N"),
    "throughput-output-folder": ("throughput", ["--output", "{box}/notbuild"], 2, "is a folder"),
    # flow/experiments/results_summary.py
    "results-missing-root": ("results_summary", ["{box}/nope"], 2, "results folder not found"),
    "results-broken-json": ("results_summary", ["{box}/results"], 2, "is not readable JSON"),
    "results-metrics-missing-fields": ("results_summary", ["{box}/results_metrics"], 2, "lacks what the tables need"),
    "results-docs-without-block": (
        "results_summary",
        ["{box}/results_ok", "--docs", "{box}/doc_without_block.md"],
        2,
        "results:begin",
    ),
    "results-docs-missing": ("results_summary", ["{box}/results_ok", "--docs", "{box}/nope.md"], 2, "not found"),
    # flow/vivado/build_bitstream.py
    "bitstream-missing-folder": ("build_bitstream", ["{box}/nope", "--board", "Pynq-Z2"], 2, "build folder not found"),
    "bitstream-unknown-board": ("build_bitstream", ["{box}/notbuild", "--board", "Arty"], 2, "unknown board"),
    "bitstream-no-rtl": ("build_bitstream", ["{box}/notbuild", "--board", "Pynq-Z2", "--tcl-only"], 2, "not found"),
    "bitstream-timeout-zero": ("build_bitstream", ["{box}/notbuild", "--board", "Pynq-Z2", "--timeout", "0"], 2, "> 0"),
}


def _main(tool: str):
    if tool == "build":
        from flow.build import main
    elif tool == "train":
        from flow.train import main
    elif tool == "sweep":
        from flow.sweep import main
    elif tool == "throughput":
        from flow.throughput import main
    elif tool == "results_summary":
        from flow.experiments.results_summary import main
    else:
        from flow.vivado.build_bitstream import main
    return main


@pytest.mark.fast
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_and_touches_nothing(case, sandbox, capsys, monkeypatch):
    tool, argv, expected, fragment = CASES[case]
    monkeypatch.chdir(sandbox / "cwd")  # "--output ." is a folder with the user's files
    before = snapshot(sandbox)
    code = _main(tool)([a.replace("{box}", str(sandbox)) for a in argv])
    err = capsys.readouterr().err
    assert_one_error(code, err, expected, fragment)
    assert snapshot(sandbox) == before  # nothing changed, nothing created, nothing removed
    assert not (sandbox / "PWNED").exists()  # the malicious pickle never ran


@pytest.mark.fast
def test_cuda_without_gpu_is_one_line(sandbox, capsys):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: --device cuda is valid here")
    from flow.train import main

    code = main(["--model", "xnor_mlp", "--device", "cuda", "--output", str(sandbox / "t")])
    assert_one_error(code, capsys.readouterr().err, 2, "torch sees no CUDA GPU")


@pytest.mark.fast
def test_internal_error_is_one_line_with_a_log(monkeypatch, capsys):
    """A bug (here: a function that raises) gives ``error: internal`` and the traceback in a log file."""
    import flow.build

    def broken(args):
        raise KeyError("surprise")

    monkeypatch.setattr(flow.build, "make_options", broken)
    code = flow.build.main(["--board", "Pynq-Z2"])
    err = capsys.readouterr().err
    assert_one_error(code, err, 1, "error: internal: KeyError: 'surprise'")
    log = Path(err.split("traceback in ")[1].split(")")[0])
    assert "Traceback" in log.read_text() and "surprise" in log.read_text()
    log.unlink()


@pytest.mark.fast
def test_sweep_deduplicates_shifts_and_seeds(tmp_path, capsys):
    from flow.sweep import main

    argv = ["--model", "xnor_mlp", "--dataset", "digits", "--hidden", "8,8,8", "--epochs", "1", "--threads", "1"]
    argv += ["--shifts", "0", "0.5", "0.5", "--seeds", "0", "0", "--output", str(tmp_path / "s")]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "--shifts lists t=0.5 more than once" in err and "--seeds lists 0 more than once" in err
    results = json.loads((tmp_path / "s" / "results.json").read_text())
    assert [len(g["accuracies"]) for g in results["summary"]] == [1, 1]  # each run counted once


# ------------------------------------------------------------------------------ the board driver
FAKE_SIM = textwrap.dedent(
    """\
    #!{python}
    import argparse, json, time
    import numpy as np
    p = argparse.ArgumentParser()
    for a in ("--input", "--output", "--stats"): p.add_argument(a)
    p.add_argument("--images", type=int)
    a, _ = p.parse_known_args()
    {body}
    np.zeros(a.images, np.uint8).tofile(a.output)
    json.dump({{"cycles_per_frame": 10, "latency_cycles": 12, "cycles": 10 * a.images}}, open(a.stats, "w"))
    """
)
TOP = {"top": "shiftbnn_top", "in_width": 8, "out_width": 8, "in_elem_bits": 8, "in_elems_per_beat": 1,
       "in_beats_per_image": 4, "in_datatype": "UINT8", "in_shape_nhwc": [1, 2, 2, 1], "out_elem_bits": 8,
       "out_elems_per_beat": 1, "out_beats_per_image": 1, "out_datatype": "UINT8", "out_shape": [1, 1]}  # fmt: skip


@pytest.fixture
def deploy(tmp_path) -> Path:
    from flow.deploy.package import make_deploy_package

    (tmp_path / "rtl").mkdir()
    (tmp_path / "rtl" / "top.json").write_text(json.dumps(TOP))
    (tmp_path / "rtlsim").mkdir()
    sim = tmp_path / "rtlsim" / "shiftbnn_sim"
    sim.write_text(FAKE_SIM.format(python=sys.executable, body="pass"))
    sim.chmod(0o755)
    summary = {"board": "Pynq-Z2", "model": "m", "shift": 0.0, "input_shape": [1, 1, 2, 2], "clock_mhz": 100.0}
    images = np.arange(12, dtype=np.uint8).reshape(3, 1, 2, 2)
    return make_deploy_package(tmp_path, summary, images, np.zeros(3, np.int64))


def _driver(deploy: Path, *argv: str, timeout: float = 60):
    cmd = [sys.executable, str(deploy / "driver.py"), "--no-throughput", *argv]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def _driver_case(deploy: Path, case: str) -> list[str]:
    """Prepare the fault ``case`` in ``deploy``; returns the driver's arguments."""
    box = deploy.parent
    if case == "object-npy":
        np.save(box / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
        return ["--images", str(box / "obj.npy")]
    if case == "garbage-npy":
        (box / "garbage.npy").write_bytes(b"\x93NUMPY garbage")
        return ["--images", str(box / "garbage.npy")]
    if case == "short-labels":
        np.save(box / "labels.npy", np.zeros(1, np.int64))
        return ["--labels", str(box / "labels.npy")]
    if case == "corrupt-top-json":
        (deploy / "top.json").write_text("{")
    elif case == "top-json-wrong-shape":
        (deploy / "top.json").write_text(json.dumps({**TOP, "out_shape": [1, 1000]}))
    elif case == "corrupt-deploy-json":
        (deploy / "deploy.json").write_text("[1, 2")
    elif case == "sim-not-executable":
        (box / "rtlsim" / "shiftbnn_sim").chmod(0o644)
    elif case == "sim-never-exits":
        sim = box / "rtlsim" / "shiftbnn_sim"
        sim.write_text(FAKE_SIM.format(python=sys.executable, body="time.sleep(600)"))
        return ["--sim-timeout", "2"]
    return {"limit-zero": ["--limit", "0"], "batch-zero": ["--batch", "0"], "timeout-nan": ["--sim-timeout", "nan"],
            "backend-unknown": ["--backend", "fpga"]}.get(case, [])  # fmt: skip


DRIVER_CASES = {
    "limit-zero": "positive integer",
    "batch-zero": "positive integer",
    "timeout-nan": "positive number of seconds",
    "backend-unknown": "invalid choice",
    "object-npy": "not a numeric .npy array",
    "garbage-npy": "not a numeric .npy array",
    "short-labels": "1 labels for 3 images",
    "corrupt-top-json": "top.json is not readable JSON",
    "top-json-wrong-shape": "does not fit the output beats",
    "corrupt-deploy-json": "deploy.json is not readable JSON",
    "sim-not-executable": "is not executable",
    "sim-never-exits": "simulator timed out after 2 s",
}


@pytest.mark.fast
@pytest.mark.parametrize("case", list(DRIVER_CASES))
def test_driver_bad_input_is_one_line(case, deploy):
    argv = _driver_case(deploy, case)
    before = snapshot(deploy.parent)
    proc = _driver(deploy, *argv)
    assert_one_error(proc.returncode, proc.stderr, 2, DRIVER_CASES[case])
    assert snapshot(deploy.parent) == before


@pytest.mark.fast
def test_driver_api_rejects_bad_counts(deploy):
    from flow.deploy import driver as drv

    acc = drv.Accelerator(deploy, backend="sim")
    with pytest.raises(drv.DriverError, match="n must be a positive integer"):
        acc.throughput_test(n=-3)
    with pytest.raises(drv.DriverError, match="batch_size must be a positive integer"):
        drv.Accelerator(deploy, backend="sim", batch_size=0)


# ------------------------------------------------------------------------ timeouts and signals
@pytest.mark.fast
def test_subprocess_timeout_names_what_and_kills_the_group(tmp_path):
    from flow import proc

    child = tmp_path / "child.pid"
    script = f"sleep 600 & echo $! > {child}; wait"
    with pytest.raises(proc.ProcessTimeout, match="RTL simulation timed out after 1 s"):
        proc.run(["bash", "-c", script], "RTL simulation", 1.0)
    pid = int(child.read_text())
    deadline = time.monotonic() + 10
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(pid)  # the grandchild went with the group


def _running(pid: int) -> bool:
    """Alive and not a zombie (a killed process stays one until its reaper collects it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.fast
def test_rtl_simulation_that_never_exits_times_out(tmp_path):
    from flow.rtl_backend.sim import SimError, run_sim

    exe = tmp_path / "sim"
    exe.write_text("#!/bin/sh\nsleep 600\n")
    exe.chmod(0o755)
    top = {"in_elem_bits": 8, "in_elems_per_beat": 1, "in_width": 8, "in_beats_per_image": 4}
    with pytest.raises(SimError, match="RTL simulation timed out after 1 s.*reproduce"):
        run_sim(exe, tmp_path, top, np.zeros((2, 4), np.int64), tmp_path / "work", timeout_s=1.0)


@pytest.mark.fast
def test_vivado_that_never_exits_times_out(tmp_path, monkeypatch):
    from flow.vivado.build_bitstream import run_vivado

    build = tmp_path / "b"
    (build / "rtl").mkdir(parents=True)
    (build / "rtl" / "top.json").write_text(json.dumps({**TOP, "in_width": 8, "out_width": 8}))
    (build / "rtl" / "filelist.f").write_text("")
    vivado = tmp_path / "vivado" / "bin" / "vivado"
    vivado.parent.mkdir(parents=True)
    vivado.write_text("#!/bin/sh\nsleep 600\n")
    vivado.chmod(0o755)
    monkeypatch.setenv("XILINX_VIVADO", str(tmp_path / "vivado"))
    record = run_vivado(build, "Pynq-Z2", timeout_s=1.0)
    assert record["status"] == "failed" and "Vivado timed out after 1 s" in record["reason"]


@pytest.mark.fast
def test_timeout_scale_must_be_positive(monkeypatch):
    from flow import proc

    monkeypatch.setenv("SHIFTBNN_TIMEOUT_SCALE", "2")
    assert proc.scaled_timeout(10, 1, 5) == 30
    monkeypatch.setenv("SHIFTBNN_TIMEOUT_SCALE", "-1")
    with pytest.raises(ValueError, match="positive number"):
        proc.scaled_timeout(10)


def _signal_build(sandbox: Path, out: Path, signum: int) -> subprocess.CompletedProcess:
    """Start a build, wait until its temporary folder exists, send ``signum``."""

    cmd = [sys.executable, str(ROOT / "flow" / "build.py"), "--board", "Pynq-Z2", "--checkpoint", str(sandbox / "run")]
    cmd += ["--verify-images", "5", "--output", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while not list(out.parent.glob(f".{out.name}.partial-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # inside a step
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


@pytest.mark.slow
@pytest.mark.parametrize(("signame", "code", "word"), [("SIGTERM", 143, "terminated"), ("SIGINT", 130, "interrupted")])
def test_signal_during_build_removes_the_partial_folder(sandbox, tmp_path, signame, code, word):
    import signal

    out = tmp_path / "o"
    result = _signal_build(sandbox, out, getattr(signal, signame))
    assert_one_error(result.returncode, result.stderr, code, word)
    assert not out.exists() and list(tmp_path.iterdir()) == []  # no .partial-*, no output


# ----------------------------------------------------------------------------- files and folders
@pytest.mark.fast
def test_failed_swap_restores_the_previous_build(tmp_path, monkeypatch):
    from flow import build

    old, new = tmp_path / "out", tmp_path / ".out.partial-x"
    old.mkdir()
    (old / "keep").write_text("previous")
    new.mkdir()
    real_replace, calls = os.replace, []

    def failing_replace(src, dst):
        calls.append(src)
        if len(calls) == 2:  # the new folder cannot be moved in (disk, permissions, ...)
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(build.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        build.swap_into_place(new, old)
    assert (old / "keep").read_text() == "previous"


@pytest.mark.fast
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_outputs_follow_the_umask(tmp_path, umask):
    from flow.files import make_temp_dir, write_atomically

    previous = os.umask(umask)
    try:
        folder = make_temp_dir(".x.partial-", tmp_path)
        path = write_atomically(tmp_path / "f.json", "{}")
        save_checkpoint(tmp_path / "c.pt", "xnor_mlp", KWARGS, _model())
    finally:
        os.umask(previous)
    assert folder.stat().st_mode & 0o777 == 0o777 & ~umask
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert (tmp_path / "c.pt").stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.fast
def test_checkpoint_with_meta_none_loads(sandbox):
    assert read_checkpoint(sandbox / "meta_none.pt")["meta"] == {}


@pytest.mark.fast
def test_cifar_reader_refuses_globals_and_reads_numpy_1_pickles(tmp_path):
    from flow.training.data import read_cifar_batch
    from flow.training.datasets import DatasetError

    marker = tmp_path / "PWNED"
    evil = tmp_path / "evil"
    evil.write_bytes(pickle.dumps({b"data": Evil(marker), b"labels": [0]}, protocol=2))
    with pytest.raises(DatasetError, match="posix.system is not part of the CIFAR-10 format"):
        read_cifar_batch(evil)
    assert not marker.exists()
    data = np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072) % 251
    batch = {b"data": data, b"labels": [3, 9], b"batch_label": b"x", b"filenames": [b"a.png", b"b.png"]}
    numpy1 = pickle.dumps(batch, protocol=2).replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    assert b"numpy.core.multiarray\n_reconstruct" in numpy1  # protocol 2 names globals as text lines
    for raw in (numpy1, pickle.dumps(batch, protocol=4)):  # numpy 1 (official files) and numpy 2 names
        (tmp_path / "ok").write_bytes(raw)
        images, labels = read_cifar_batch(tmp_path / "ok")
        assert images.shape == (2, 3, 32, 32) and np.array_equal(images.reshape(2, -1), data)
        assert labels.tolist() == [3, 9]
    (tmp_path / "bad").write_bytes(pickle.dumps({b"data": data, b"labels": [3, 12]}))
    with pytest.raises(DatasetError, match="integers 0..9"):
        read_cifar_batch(tmp_path / "bad")


# ------------------------------------------------------------------------- the build's user journey
@pytest.mark.slow
def test_checkpoint_alone_shift_warning_and_replacing_a_build(sandbox, tmp_path, capsys):
    """--checkpoint names its model (a run folder works); --shift on it reports the accuracy change;
    a second build replaces the first (marked) one and says so; the folder follows the umask."""
    from flow.build import main

    out = tmp_path / "o"
    argv = ["--board", "Pynq-Z2", "--checkpoint", str(sandbox / "run"), "--shift", "0.5", "--verify-images", "12"]
    argv += ["--skip-rtlsim", "--output", str(out)]
    assert main(argv) == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert "warning: --shift 0.5 changes a trained network (trained with shift 0.25)" in err
    assert "no labels" in err  # digits' 8x8 images do not fit the 28x28 model: random images, no labels
    summary = json.loads((out / "report" / "summary.json").read_text())
    assert summary["model"] == "xnor_mlp" and summary["shift_override"]["trained_shift"] == 0.25
    assert (out / MARKER).is_file() and out.stat().st_mode & 0o777 == 0o777 & ~_umask()
    (out / "user_note.txt").write_text("inside a previous build")
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert f"{out} holds a previous build" in err and f"replaced the previous build in {out}" in err
    assert not (out / "user_note.txt").exists() and [p.name for p in tmp_path.iterdir()] == ["o"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.slow
def test_unknown_folding_attribute_is_one_line(sandbox, tmp_path, capsys):
    from flow.build import main

    argv = ["--board", "Pynq-Z2", "--checkpoint", str(sandbox / "run"), "--folding"]
    argv += [str(sandbox / "fold" / "unknown_attr.json"), "--output", str(tmp_path / "o")]
    assert_one_error(main(argv), capsys.readouterr().err, 2, "MVAU_hls_0: MVAU_hls has no attribute 'PEE'")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.fast
def test_shift_override_accuracy_change_and_constant_labels(capsys):
    """The two build warnings as functions: the accuracy before/after a --shift, and one label for all."""
    import io

    from flow.compiler.network import Network, report_shift_override, warn_if_constant

    trained = _model()
    shifted = _model()
    from brevitas_models.quant import set_model_shift

    set_model_shift(shifted, 3.0)
    net = Network("xnor_mlp", shifted, (1, 28, 28), 3.0, None, trained, 0.25)
    images = np.random.default_rng(0).integers(0, 256, (20, 1, 28, 28)).astype(np.float32)
    labels = np.zeros(20, np.int64)
    stream = io.StringIO()
    record = report_shift_override(net, images, labels, stream)
    assert "accuracy on the 20 verification images" in stream.getvalue() and "->" in stream.getvalue()
    assert 0 <= record["accuracy_trained"] <= 1 and 0 <= record["accuracy_shifted"] <= 1
    assert warn_if_constant(labels, "random", stream) and "does not depend on its input" in stream.getvalue()
    assert not warn_if_constant(np.arange(20) % 3, "random", stream)


@pytest.mark.fast
def test_safety_doc_lists_every_case():
    """docs/safety.md's table is the list of cases this module replays: none missing, none invented."""
    doc = (ROOT / "docs" / "safety.md").read_text()
    listed = {line.split("`")[1] for line in doc.splitlines() if line.startswith("| `")}
    assert listed == set(CASES) | set(DRIVER_CASES)


@pytest.mark.fast
def test_onnx_trained_on_unit_inputs_fed_pixels_warns(tmp_path):
    """A network trained on inputs in [0, 1] (here: the default model without its 1/255 input Mul) fed
    raw pixels: its first BatchNorm sees ~255x the variation it was trained on, and the build says so."""
    import io

    from qonnx.core.modelwrapper import ModelWrapper

    from brevitas_models.checkpoint import load_checkpoint
    from flow.compiler.checks import warn_input_scale
    from flow.compiler.export import export_model
    from flow.compiler.network import DEFAULT_CHECKPOINT

    model, _ = load_checkpoint(DEFAULT_CHECKPOINT)
    graph = export_model(model, (1, 28, 28), tmp_path / "m.onnx")
    pixels = np.random.default_rng(0).integers(0, 256, (16, 1, 28, 28)).astype(np.float32)
    stream = io.StringIO()
    assert 0.5 < warn_input_scale(graph, pixels, stream) < 2 and stream.getvalue() == ""  # scales itself
    scale = next(
        n.input[1] for n in graph.graph.node if n.op_type == "Mul" and graph.get_initializer(n.input[1]) is not None
    )
    graph.set_initializer(scale, np.array(1.0, np.float32))  # now it expects inputs in [0, 1]
    ratio = warn_input_scale(ModelWrapper(graph.model), pixels, stream)
    assert ratio > 100 and "scaled to [0, 1]" in stream.getvalue()


@pytest.mark.slow
def test_sigterm_during_a_parallel_sweep_stops_every_worker(tmp_path):
    """--jobs 2: SIGTERM to the sweep terminates its pool; the workers unwind without tracebacks, leave
    no temporary files, and each run's resume.pt of its last finished epoch stays for a later resume."""
    out = tmp_path / "s"
    cmd = [sys.executable, str(ROOT / "flow" / "sweep.py"), "--model", "xnor_mlp", "--dataset", "digits"]
    cmd += ["--hidden", "16,16,16", "--shifts", "0", "--seeds", "0", "1", "--epochs", "500", "--threads", "1"]
    cmd += ["--jobs", "2", "--output", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    deadline = time.monotonic() + 240
    while len(list(out.glob("runs/*/resume.pt"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)  # both workers are training
    workers = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
    proc.terminate()
    _, stderr = proc.communicate(timeout=120)
    assert_one_error(proc.returncode, stderr, 143, "terminated (SIGTERM)")
    assert len(list(out.glob("runs/*/resume.pt"))) == 2 and not list(out.rglob("*.tmp"))
    deadline = time.monotonic() + 10
    while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_running(pid) for pid in workers)


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.mark.fast
def test_train_reuses_a_run_folder_only_when_asked(tmp_path, capsys):
    """A finished run: --force trains over it; --resume with other settings is refused (the fingerprint
    in resume.pt), with the same settings it only evaluates."""
    from flow.train import main

    out = tmp_path / "r"
    argv = ["--model", "xnor_mlp", *TINY, "--batch-size", "256", "--output", str(out)]
    assert main(argv) == 0
    assert main([*argv, "--resume"]) == 0  # nothing left to train: the same run, evaluated
    first = hashlib.sha256((out / "checkpoint.pt").read_bytes()).hexdigest()
    assert main([*argv, "--resume", "--lr", "0.01"]) == 2
    assert "written with other settings (lr 0.002 -> 0.01)" in capsys.readouterr().err
    assert hashlib.sha256((out / "checkpoint.pt").read_bytes()).hexdigest() == first  # refused: untouched
    assert main([*argv, "--force", "--seed", "5"]) == 0  # trained again from scratch
    again = json.loads((out / "metrics.json").read_text())
    assert again["config"]["seed"] == 5 and len(again["history"]) == 1
    assert hashlib.sha256((out / "checkpoint.pt").read_bytes()).hexdigest() != first
