"""flow/build.py end to end: outputs, shift -> thresholds, and every bad-input path (one line, exit 2,
nothing half-written, an existing output never destroyed)."""

import json
from pathlib import Path

import numpy as np
import pytest
from qonnx.core.modelwrapper import ModelWrapper
from torch import nn

from brevitas_models.checkpoint import save_checkpoint
from brevitas_models.quant import ShiftedBinaryAct
from brevitas_models.random_bn import randomize_batchnorm
from brevitas_models.registry import build_model
from flow.build import main
from flow.builder.pipeline import STEP_NAMES
from flow.compiler.export import export_model
from flow.core.files import MARKER
from flow.data.builtin import fashion_mnist_dir

pytestmark = pytest.mark.slow
KWARGS = {"hidden": [32, 32], "shift": 0.0}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "mlp.pt"
    model = randomize_batchnorm(build_model("xnor_mlp", **KWARGS), spread=10)
    save_checkpoint(path, "xnor_mlp", KWARGS, model, {"dataset": "fashion-mnist"})
    return path


def run(capsys, *args):
    """``(exit code, stderr)``; stdout (the result table and the output line) in ``run.out``."""
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    run.out = captured.out
    return code, captured.err


def assert_one_line_error(code, err, *fragments):
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ")
    for fragment in fragments:
        assert fragment in last, last


def leftovers(folder):
    return [p.name for p in folder.iterdir() if ".partial-" in p.name or ".old-" in p.name]


def folded_thresholds(out):
    model = ModelWrapper(str(out / "model" / "folded.onnx"))
    return [model.get_initializer(n.input[2]) for n in model.graph.node if len(n.input) > 2]


def test_build_from_checkpoint_writes_outputs_and_verifies(tmp_path, capsys, checkpoint):
    out = tmp_path / "mlp"
    code, err = run(
        capsys,
        "--board",
        "Pynq-Z1",
        "--model",
        "xnor_mlp",
        "--checkpoint",
        checkpoint,
        "--verify-images",
        40,
        "--output",
        out,
    )
    assert code == 0, err
    summary = json.loads((out / "report" / "summary.json").read_text())
    assert summary["board"] == "Pynq-Z1" and summary["part"] == "xc7z020clg400-1"
    v = summary["verification"]
    assert v["images"] == 40 and v["brevitas_vs_qonnx"] == 40 and v["brevitas_vs_finn"] == 40
    # the generated RTL is simulated by default (Verilator), synthesis only with --synth
    assert v["brevitas_vs_rtl"] == 40 and summary["rtlsim"]["matches"] == 40 and summary["synth"] is None
    assert (out / "rtl" / "shiftbnn_top.sv").is_file() and (out / "rtlsim" / "shiftbnn_sim").is_file()
    assert summary["bitstream"]["status"] == "skipped" and "Vivado" in summary["bitstream"]["reason"]
    assert (out / "deploy" / "driver.py").is_file() and (out / "deploy" / "expected_outputs.npy").is_file()
    assert summary["estimate"]["lut"] > 0 and summary["estimate"]["cycles_per_frame"] > 0
    assert {s["name"] for s in summary["steps"]} >= {"export_qonnx", "streamline", "folding", "verify"}
    # the progress total ([i/N]) is derived from these lists: every step the build runs is in them
    expected = list(STEP_NAMES)
    assert [s["name"] for s in summary["steps"]] == expected  # rewritten when the last step ("deploy") ended
    assert all(s["status"] in ("ok", "skipped") for s in summary["steps"])
    assert (out / "report" / "report.html").is_file() and (out / "report" / "breakdown.png").is_file()
    assert (out / "model" / "qonnx.onnx").is_file() and (out / "model" / "folded.onnx").is_file()
    ops = {n.op_type for n in ModelWrapper(str(out / "model" / "folded.onnx")).graph.node}
    assert ops == {"MVAU_hls", "LabelSelect_hls"}
    # the moved output is self-contained: the parent graph points into it
    assert str(out) in (out / "model" / "dataflow_parent.onnx").read_bytes().decode(errors="ignore")
    assert f"[{expected.index('streamline') + 1:2d}/{len(expected)}] streamline" in err and "elapsed" in err
    assert not leftovers(tmp_path)


def test_shift_changes_thresholds_not_resources(tmp_path, capsys, checkpoint):
    outs = {}
    for shift in ("0", "0.3"):
        outs[shift] = tmp_path / f"s{shift}"
        code, err = run(
            capsys,
            "--board",
            "Pynq-Z2",
            "--model",
            "xnor_mlp",
            "--checkpoint",
            checkpoint,
            "--shift",
            shift,
            "--verify-images",
            20,
            "--skip-rtlsim",
            "--output",
            outs[shift],
        )
        assert code == 0, err
    t0, t3 = folded_thresholds(outs["0"]), folded_thresholds(outs["0.3"])
    assert len(t0) == len(t3) == 2  # the two hidden layers carry thresholds, the last is raw
    assert all(a.shape == b.shape for a, b in zip(t0, t3, strict=True))
    assert any(not np.array_equal(a, b) for a, b in zip(t0, t3, strict=True))
    s0, s3 = (json.loads((o / "report" / "summary.json").read_text()) for o in outs.values())
    assert s0["shift"] == 0.0 and s3["shift"] == 0.3
    assert s0["estimate"]["lut"] == s3["estimate"]["lut"] and s0["estimate"]["bram36"] == s3["estimate"]["bram36"]


def test_build_from_onnx_uses_qonnx_as_reference(tmp_path, capsys):
    model = randomize_batchnorm(build_model("xnor_mlp", hidden=[16, 16], shift=0.2), seed=3, spread=10)
    onnx_path = tmp_path / "user.onnx"
    export_model(model, (1, 28, 28), onnx_path)
    code, err = run(
        capsys,
        "--board",
        "ZCU104",
        "--onnx",
        onnx_path,
        "--verify-images",
        12,
        "--target-fps",
        20000,
        "--output",
        tmp_path / "o",
    )
    assert code == 0, err
    v = json.loads((tmp_path / "o" / "report" / "summary.json").read_text())["verification"]
    # the user's QONNX graph is the reference, and the keys say so; random inputs unless --dataset
    assert v["reference"] == "qonnx" and v["qonnx_vs_finn"] == 12 and v["qonnx_vs_rtl"] == 12
    assert not any(k.startswith("brevitas_vs_") for k in v) and v["stages"] == {
        "streamlined": 12,
        "finn": 12,
        "rtl": 12,
    }
    assert v["source"] == "random" and "random UINT8 inputs (a QONNX file" in v["source_note"]
    out = run.out  # the result table and the output line on stdout
    assert (
        "qonnx = finn " in out and "QONNX file" in out and out.strip().splitlines()[-1] == f"output: {tmp_path / 'o'}"
    )
    assert (tmp_path / "o" / "vivado" / "build.tcl").is_file()  # the Vivado Tcl, even without Vivado


def test_unknown_board(tmp_path, capsys):
    code, err = run(capsys, "--board", "Arty-A7", "--output", tmp_path / "o")
    assert_one_line_error(code, err, "unknown board 'Arty-A7'", "Pynq-Z2", "KV260")
    assert not (tmp_path / "o").exists()


def test_missing_and_corrupt_checkpoint(tmp_path, capsys):
    code, err = run(
        capsys,
        "--board",
        "Pynq-Z2",
        "--model",
        "xnor_mlp",
        "--checkpoint",
        tmp_path / "nope.pt",
        "--output",
        tmp_path / "o",
    )
    assert_one_line_error(code, err, "checkpoint not found")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00garbage" * 100)
    code, err = run(
        capsys, "--board", "Pynq-Z2", "--model", "xnor_mlp", "--checkpoint", bad, "--output", tmp_path / "o"
    )
    assert_one_line_error(code, err, "not a readable torch file")
    assert not (tmp_path / "o").exists() and not leftovers(tmp_path)


def test_checkpoint_of_another_model(tmp_path, capsys, checkpoint):
    code, err = run(
        capsys, "--board", "Pynq-Z2", "--model", "xnor_cnv", "--checkpoint", checkpoint, "--output", tmp_path / "o"
    )
    assert_one_line_error(code, err, "holds model 'xnor_mlp', not 'xnor_cnv'")


def test_corrupt_onnx(tmp_path, capsys):
    bad = tmp_path / "bad.onnx"
    bad.write_text("this is not a protobuf")
    code, err = run(capsys, "--board", "Pynq-Z2", "--onnx", bad, "--output", tmp_path / "o")
    assert_one_line_error(code, err, "is not a valid ONNX model")
    assert not (tmp_path / "o").exists() and not leftovers(tmp_path)


@pytest.mark.parametrize("float_layer_at", ["middle", "end"])
def test_unmappable_network_names_the_node(tmp_path, capsys, float_layer_at):
    """A float (unquantized) linear layer has no FINN hardware layer: in the middle FINN's own
    conversion refuses the threshold after it; at the end our mapping check finds the float MatMul."""
    binary = build_model("xnor_mlp", hidden=[16]).features
    if float_layer_at == "middle":
        net = nn.Sequential(nn.Flatten(), binary, nn.Linear(16, 16), ShiftedBinaryAct(0.0), nn.Linear(16, 10))
        expected = ("FINN cannot map this network", "MultiThreshold_1")
    else:
        net = nn.Sequential(nn.Flatten(), binary, nn.Linear(16, 10))
        expected = ("FINN cannot map node", "(op MatMul)")
    randomize_batchnorm(net, spread=10)
    path = tmp_path / "float_layer.onnx"
    export_model(net, (1, 28, 28), path)
    code, err = run(capsys, "--board", "Pynq-Z2", "--onnx", path, "--output", tmp_path / "o")
    assert_one_line_error(code, err, *expected)
    assert not (tmp_path / "o").exists() and not leftovers(tmp_path)


@pytest.mark.parametrize(
    "folding, message",
    [
        ({"MVAU_hls_9": {"PE": 1}}, "'MVAU_hls_9' matches no layer"),
        ({"MVAU_hls_0": {"PE": 5, "SIMD": 16}}, "PE=5 does not divide MH=32"),
    ],
)
def test_bad_folding_keeps_existing_output(tmp_path, capsys, checkpoint, folding, message):
    out = tmp_path / "o"
    out.mkdir()
    (out / MARKER).write_text("{}")  # a previous build: the failing build must still leave it alone
    (out / "keep.txt").write_text("previous build")
    cfg = tmp_path / "fold.json"
    cfg.write_text(json.dumps(folding))
    code, err = run(
        capsys,
        "--board",
        "Pynq-Z2",
        "--model",
        "xnor_mlp",
        "--checkpoint",
        checkpoint,
        "--folding",
        cfg,
        "--output",
        out,
    )
    assert_one_line_error(code, err, message)
    assert (out / "keep.txt").read_text() == "previous build"
    assert not leftovers(tmp_path)


def test_folding_json_is_applied(tmp_path, capsys, checkpoint):
    cfg = tmp_path / "fold.json"
    cfg.write_text(json.dumps({"MVAU_hls_0": {"PE": 4, "SIMD": 49}, "MVAU_hls_2": {"PE": 2, "SIMD": 8}}))
    code, err = run(
        capsys,
        "--board",
        "Pynq-Z2",
        "--model",
        "xnor_mlp",
        "--checkpoint",
        checkpoint,
        "--folding",
        cfg,
        "--verify-images",
        5,
        "--skip-rtlsim",
        "--output",
        tmp_path / "o",
    )
    assert code == 0, err
    folding = json.loads((tmp_path / "o" / "report" / "summary.json").read_text())["folding"]
    fold = {name: {k: folding[name][k] for k in ("PE", "SIMD")} for name in ("MVAU_hls_0", "MVAU_hls_2")}
    assert fold == {"MVAU_hls_0": {"PE": 4, "SIMD": 49}, "MVAU_hls_2": {"PE": 2, "SIMD": 8}}


@pytest.mark.skipif(fashion_mnist_dir() is None, reason="needs Debian's dataset-fashion-mnist")
def test_default_build_verifies_1000_real_images(default_build):
    """`make build`'s job: the embedded default, every verification count equal to >= 1,000 images."""
    # the session's one build of the default (tests/conftest.py); its RTL checks: tests/test_rtl_backend.py
    summary = json.loads((default_build / "report" / "summary.json").read_text())
    v = summary["verification"]
    assert v["images"] >= 1000 and v["source"] == "fashion-mnist"
    assert v["brevitas_vs_qonnx"] == v["brevitas_vs_streamlined"] == v["brevitas_vs_finn"] == v["images"]
    assert summary["shift"] != 0
    assert v["accuracy"]["finn"] > 0.8


def test_failed_build_keeps_the_log_its_error_names(tmp_path, capsys, checkpoint, monkeypatch):
    """A step that fails with a log (here Verilator, replaced by a script that fails like 5.48 on vpc.sv)
    deletes the temporary build folder, but the log the error line names exists afterwards, beside the
    output; nothing else is left."""
    from flow.rtl_backend import sim

    fake = tmp_path / "verilator"
    fake.write_text("#!/bin/sh\necho '%Error: vpc.sv:412:24: Internal: Unexpected Call'\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sim, "_verilator", lambda: str(fake))
    out = tmp_path / "o"
    args = ["--board", "Pynq-Z2", "--model", "xnor_mlp", "--checkpoint", checkpoint, "--verify-images", 4]
    code, err = run(capsys, *args, "--output", out)
    assert_one_line_error(code, err, "Verilator build failed (%Error: vpc.sv:412:24: Internal: Unexpected Call)")
    log = Path(err.strip().splitlines()[-1].rsplit("log: ", 1)[1])
    assert log.is_file() and "Unexpected Call" in log.read_text()
    assert tmp_path / "o.failed-logs" in log.parents
    assert not out.exists() and not leftovers(tmp_path)
    # a second failure replaces the logs this tool wrote; a folder of that name the user made is kept
    code, err = run(capsys, *args, "--output", out)
    assert code == 2 and log.is_file()
    (tmp_path / "p.failed-logs").mkdir()
    code, err = run(capsys, *args, "--output", tmp_path / "p")
    assert code == 2 and not any((tmp_path / "p.failed-logs").iterdir())
    assert "p.failed-logs-" in err.strip().splitlines()[-1]
