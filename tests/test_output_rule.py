"""The replace rule and the input rules as mechanisms (flow/core/outputs.py, flow/core/inputs.py): every
CLI goes through them, a held lock refuses every CLI, a rebuild keeps what no build wrote, a model
file's node domain is never imported, a FIFO is never read, Verilator and yosys take any path."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from red_team_checks import ROOT, assert_one_error, env
from red_team_inputs import KWARGS, TINY, tiny_model

from brevitas_models.checkpoint import save_checkpoint
from flow.core import outputs
from flow.core.files import MARKER, OutputError, build_files, is_build_folder, write_json
from flow.core.inputs import InputError, open_regular, read_json


# ------------------------------------------------------------------------------- one rule, every CLI
def _cli_modules() -> dict[str, Path]:
    from flow.console import COMMANDS

    mods = {name: ROOT / (module.replace(".", "/") + ".py") for name, module in COMMANDS.items()}
    return {**mods, "driver": ROOT / "flow" / "deploy" / "driver.py"}


@pytest.mark.fast
@pytest.mark.parametrize("name", list(_cli_modules()))
def test_every_cli_writes_through_the_rule(name):
    """Every entry point calls the rule (the driver its numpy-only copy, check_output_path) and no
    entry point keeps a replace rule of its own (no shutil.rmtree of an output)."""
    source = _cli_modules()[name].read_text()
    calls = {n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
             for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)}  # fmt: skip
    assert calls & {"claim_output", "claim_build_output", "check_output_path"}, name
    assert "rmtree" not in calls or name == "build", name  # build: only its own temporary folder


def _held(target: Path):
    return outputs.OutputLock(target).acquire()


LOCKED = {  # tool -> (argv, the path it writes)
    "build": (["--board", "Pynq-Z2", "--output", "{t}/b"], "b"),
    "train": (["--model", "xnor_mlp", *TINY, "--output", "{t}/r"], "r"),
    "sweep": (["--model", "xnor_mlp", "--dataset", "digits", "--output", "{t}/s"], "s"),
    "throughput": (["--output", "{t}/tp.json"], "tp.json"),
    "bitstream": (["{t}/b", "--board", "Pynq-Z2", "--tcl-only"], "b"),
}


@pytest.mark.fast
@pytest.mark.parametrize("tool", list(LOCKED))
def test_a_second_run_into_a_locked_output_refuses(tool, tmp_path, capsys, monkeypatch):
    """The lock of a run in progress (here held by the test) makes every CLI refuse at once."""
    import importlib

    from flow.console import COMMANDS

    argv, written = LOCKED[tool]
    if tool == "bitstream":  # a finished build to write the bitstream into
        (tmp_path / "b" / "rtl").mkdir(parents=True)
        top = {"in_width": 8, "out_width": 8, "in_beats_per_image": 1, "out_beats_per_image": 1}
        (tmp_path / "b" / "rtl" / "top.json").write_text(json.dumps(top))
        (tmp_path / "b" / "rtl" / "filelist.f").write_text("")
        (tmp_path / "b" / MARKER).write_text("{}")
    monkeypatch.chdir(tmp_path)
    lock = _held(tmp_path / written)
    try:
        main = importlib.import_module(COMMANDS[tool]).main
        code = main([a.replace("{t}", str(tmp_path)) for a in argv])
    finally:
        lock.release()
    assert_one_error(code, capsys.readouterr().err, 2, "is being written by another run (pid")
    assert not (tmp_path / f".{written}.lock").exists()


# --------------------------------------------------------------------------------- the rule itself
@pytest.mark.fast
def test_git_work_trees_inputs_and_force(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "kept").mkdir()
    (repo / "kept" / "f").write_text("x")
    never = lambda path: False  # noqa: E731
    refused = [(repo / ".git", ".git folder"), (repo / ".git" / "objects", ".git folder"), (repo, "git work tree"),
               (repo / "kept", "git work tree"), (tmp_path, "current")]  # fmt: skip
    for target, fragment in refused:
        with pytest.raises(OutputError, match=fragment):
            outputs.check_output(target, never, force=True)
    assert not outputs.check_output(repo / "new", never).replacing  # a new folder inside a tree is fine
    assert outputs.check_output(repo / "kept", lambda p: True).replacing  # the tool's own earlier output
    data = tmp_path / "data"
    data.mkdir()
    (data / "x").write_text("x")
    for target in (data, data / "sub", tmp_path / "data"):
        with pytest.raises(OutputError, match="input"):
            outputs.check_output(target, never, inputs=[data], force=True)
    (tmp_path / "user").mkdir()
    (tmp_path / "user" / "notes").write_text("mine")
    with pytest.raises(OutputError, match="--force"):
        outputs.check_output(tmp_path / "user", never)
    with pytest.raises(OutputError) as refused:
        outputs.check_output(tmp_path / "user", never, force=None)
    assert "--force" not in str(refused.value)  # a tool without --force does not offer it
    assert outputs.check_output(tmp_path / "user", never, force=True).replacing


@pytest.mark.fast
def test_lock_refuses_a_second_holder_and_reports_unwritable_folders(tmp_path):
    lock = _held(tmp_path / "out")
    with pytest.raises(OutputError, match=f"another run \\(pid {os.getpid()}\\)"):
        _held(tmp_path / "out")
    lock.release()
    _held(tmp_path / "out").release()  # free again, the file gone
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(OutputError, match="too long"):
        _held(tmp_path / ("x" * 300))
    if os.geteuid() != 0:  # root writes into read-only folders
        (tmp_path / "ro").mkdir(mode=0o555)
        with pytest.raises(OutputError, match="cannot"):
            _held(tmp_path / "ro" / "out")


def _fake_build(folder: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    write_json(folder / MARKER, {"tool": "flow/build.py", "files": outputs.manifest(folder, skip=(MARKER,))})


@pytest.mark.fast
def test_rebuild_keeps_files_no_build_wrote(tmp_path):
    """The previous folder is deleted when it holds only what its build wrote; with anything else (a
    copied bitstream, an edited report, a folder from before manifests) it becomes <dir>.prev; a .prev
    that holds the user's files is never replaced."""
    out = tmp_path / "out"
    _fake_build(out, {"rtl/top.sv": "x", "report/summary.json": "{}"})
    assert outputs.plan_replacement(out, is_build_folder, build_files) == []
    (out / "deploy").mkdir()
    (out / "deploy" / "user.bit").write_text("copied by the user")
    time.sleep(0.01)
    (out / "report" / "summary.json").write_text('{"edited": 1}')
    assert outputs.plan_replacement(out, is_build_folder, build_files) == ["deploy/user.bit", "report/summary.json"]
    new = tmp_path / ".out.partial"
    _fake_build(new, {"rtl/top.sv": "y"})
    kept = outputs.swap_into_place(new, out, keep_old=True)
    assert kept == tmp_path / "out.prev" and (kept / "deploy" / "user.bit").read_text() == "copied by the user"
    (out / "mine.txt").write_text("again")  # the next rebuild would need out.prev, which holds user files
    with pytest.raises(OutputError, match="out.prev"):
        outputs.plan_replacement(out, is_build_folder, build_files)
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / MARKER).write_text("{}")  # a marker from before manifests: nothing assumed
    (tmp_path / "legacy" / "a").write_text("a")
    assert outputs.plan_replacement(tmp_path / "legacy", is_build_folder, build_files) == ["a"]


# ------------------------------------------------------------------------------------ inputs are data
@pytest.mark.fast
def test_a_model_files_node_domain_is_never_imported(tmp_path, monkeypatch):
    """qonnx's getCustomOp imports a node's domain as a module (the threat, shown with a module that
    leaves a mark); check_onnx_file refuses the file before anything imports it."""
    import onnx
    from onnx import TensorProto, helper
    from qonnx.custom_op.registry import getCustomOp

    from flow.compiler.checks import check_onnx_file, registered_domains
    from flow.core.errors import BuildError

    mark = tmp_path / "IMPORTED"
    (tmp_path / "planted_module.py").write_text(f"open({str(mark)!r}, 'w').close()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    node = helper.make_node("Anything", ["x"], ["y"], domain="planted_module")
    graph = helper.make_graph([node], "g", [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    opsets = [helper.make_opsetid("", 13), helper.make_opsetid("planted_module", 1)]
    onnx.save(helper.make_model(graph, opset_imports=opsets), str(tmp_path / "m.onnx"))
    with pytest.raises(BuildError, match="domain 'planted_module'"):
        check_onnx_file(tmp_path / "m.onnx")
    assert not mark.exists()
    with pytest.raises(Exception):  # noqa: B017  (what would have happened without the check)
        getCustomOp(node)
    assert mark.exists()
    sys.modules.pop("planted_module", None)
    assert {"qonnx.custom_op.general", "finn.custom_op.fpgadataflow.hls", ""} <= registered_domains()


@pytest.mark.fast
def test_readers_refuse_fifos_deep_json_and_wrong_types(tmp_path):
    os.mkfifo(tmp_path / "a.jpg")  # no writer: a blocking open would hang here
    with pytest.raises(InputError, match="is a FIFO"):
        open_regular(tmp_path / "a.jpg")
    (tmp_path / "deep.json").write_text("[" * 100 + "]" * 100)  # parses, but deeper than the limit
    with pytest.raises(InputError, match="nested more than 64"):
        read_json(tmp_path / "deep.json", kind=None)
    (tmp_path / "list.json").write_text("[1]")
    with pytest.raises(InputError, match="must hold an object"):
        read_json(tmp_path / "list.json")
    (tmp_path / "nan.json").write_text('{"a": NaN}')
    with pytest.raises(InputError, match="not readable JSON"):
        read_json(tmp_path / "nan.json")


# ----------------------------------------------------------------------------------- training numbers
@pytest.mark.fast
def test_last_batch_of_one_image_trains(tmp_path, capsys):
    """257 images in batches of 2: the last batch holds one image, which BatchNorm cannot normalise."""
    from flow.train import main

    argv = ["--model", "xnor_mlp", *TINY, "--train-limit", "257", "--batch-size", "2", "--output", str(tmp_path / "r")]
    assert main(argv) == 0, capsys.readouterr().err
    assert (tmp_path / "r" / "checkpoint.pt").is_file()


@pytest.mark.fast
def test_checkpoint_reader_finds_nan_anywhere():
    import torch

    from brevitas_models.checkpoint import first_nonfinite

    assert first_nonfinite({"a": torch.ones(3), "k": {"shift": [0.5, 1.0]}}) is None
    assert first_nonfinite({"k": {"shift": [0.5, float("inf")]}}) == "k.shift[1] is inf (NaN/inf)"
    assert "w holds 1 NaN/inf" in first_nonfinite({"w": torch.tensor([1.0, float("nan")])})


@pytest.mark.fast
def test_shift_labels_never_merge_two_shifts():
    from flow.experiments.shift_sweep import shift_label

    assert shift_label(0.1) == "t=0.1" and shift_label(0.0) == "t=0"  # earlier sweeps' folder names
    assert shift_label(0.1) != shift_label(0.1000001) and shift_label([0.3, 1e-9]) != shift_label([0.3, 0.0])


@pytest.mark.slow
def test_parallel_sweep_with_failing_runs_stops_in_one_line(tmp_path):
    """--jobs 2, every run diverges: one error line, no worker traceback (SystemExit), no hang."""
    cmd = [sys.executable, str(ROOT / "flow" / "sweep.py"), "--model", "xnor_mlp", "--dataset", "digits"]
    cmd += ["--hidden", "16,16,16", "--shifts", "0", "0.5", "--seeds", "0", "--epochs", "1", "--threads", "1"]
    cmd += ["--lr", "1e30", "--jobs", "2", "--output", str(tmp_path / "s")]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env(), timeout=300)
    assert_one_error(proc.returncode, proc.stderr, 2, "diverged")
    assert "SystemExit" not in proc.stderr and "Exception ignored" not in proc.stderr


# ------------------------------------------------------------------------------------ paths of any kind
@pytest.mark.sim
def test_verilator_and_yosys_take_paths_with_spaces_and_non_ascii(tmp_path):
    """A one-module design in 'a b/ä ö/': Verilator builds and simulates it, yosys synthesizes it."""
    from flow.rtl_backend.sim import build_sim, run_sim
    from flow.rtl_backend.synth import synth_module

    folder = tmp_path / "a b" / "ä ö"
    (folder / "rtl").mkdir(parents=True)
    (folder / "rtl" / "top.sv").write_text(
        "module shiftbnn_top (input logic ap_clk, input logic ap_rst_n, input logic [7:0] s_axis_tdata,\n"
        "  input logic s_axis_tvalid, output logic s_axis_tready, output logic [7:0] m_axis_tdata,\n"
        "  output logic m_axis_tvalid, input logic m_axis_tready);\n"
        "  assign m_axis_tdata = s_axis_tdata + 8'd3; assign m_axis_tvalid = s_axis_tvalid;\n"
        "  assign s_axis_tready = m_axis_tready;\nendmodule\n"
    )
    (folder / "rtl" / "filelist.f").write_text("top.sv\n")
    top = {"top": "shiftbnn_top", "in_width": 8, "out_width": 8, "in_beats_per_image": 1, "out_beats_per_image": 1,
           "in_elem_bits": 8, "in_elems_per_beat": 1, "out_elem_bits": 8, "out_elems_per_beat": 1}  # fmt: skip
    exe = build_sim(folder / "rtl", folder / "rtlsim", top)
    result = run_sim(exe, folder / "rtl", top, np.arange(6).reshape(6, 1), folder / "work")
    assert result.outputs.ravel().tolist() == [i + 3 for i in range(6)]
    synth = synth_module("shiftbnn_top", ["top.sv"], folder / "synth", cwd=folder / "rtl")
    assert synth["carry"] >= 1 and (folder / "synth" / "stat.json").is_file()  # the adder's carry chain


@pytest.mark.fast
def test_checkpoint_records_its_data_folder_for_the_rule(tmp_path):
    """A checkpoint's recorded data folder counts as an input of a build (never replaced)."""
    from flow.build import build_inputs
    from flow.core.config import BuildConfig

    data = tmp_path / "data"
    data.mkdir()
    save_checkpoint(tmp_path / "c.pt", "xnor_mlp", KWARGS, tiny_model(), {"data_dir": str(data)})
    cfg = BuildConfig(board=None, backend=None, checkpoint=tmp_path / "c.pt", model="xnor_mlp")
    assert data in build_inputs(cfg)


@pytest.mark.fast
def test_a_default_folder_is_replaced_only_by_the_same_network(tmp_path):
    """--onnx default.onnx would share build/default-<board> with the default network's build."""
    from flow.build import check_default_output, source_of
    from flow.core.config import BuildConfig

    folder = tmp_path / "default-Pynq-Z2"
    folder.mkdir()
    write_json(folder / MARKER, {"tool": "flow/build.py", "source": "the default network", "files": {}})
    check_default_output(folder, BuildConfig(board=None, backend=None))  # the same network: replaced
    onnx_cfg = BuildConfig(board=None, backend=None, onnx=tmp_path / "default.onnx")
    assert source_of(onnx_cfg).startswith("ONNX ")
    with pytest.raises(OutputError, match="holds a build of another network \\(the default network\\)"):
        check_default_output(folder, onnx_cfg)


@pytest.mark.fast
def test_a_stopped_verilator_build_leaves_nothing_in_the_temp_folder(tmp_path, monkeypatch):
    """Timeout (as SIGTERM or Ctrl-C) during the C++ compile: the private folder, gcc's temporaries
    (TMPDIR points into it) and the object files go with it."""
    import tempfile

    from flow.rtl_backend.sim import SimError, build_sim

    # a temp folder of this test's own: the other pytest worker's Verilator builds use the shared one
    own_temp = tmp_path / "temp"
    own_temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(own_temp))
    (tmp_path / "rtl").mkdir()
    (tmp_path / "rtl" / "top.sv").write_text("module shiftbnn_top(input logic ap_clk); endmodule\n")
    (tmp_path / "rtl" / "filelist.f").write_text("top.sv\n")
    top = {"top": "shiftbnn_top", "in_width": 8, "out_width": 8, "in_beats_per_image": 1, "out_beats_per_image": 1}
    with pytest.raises(SimError, match="timed out"):
        build_sim(tmp_path / "rtl", tmp_path / "rtlsim", top, timeout_s=0.3)
    assert list(own_temp.iterdir()) == []


@pytest.mark.fast
def test_an_unwritable_run_folder_is_found_before_any_work(tmp_path, monkeypatch):
    """A read-only (or full) existing output folder: one line at the claim, not after an epoch (root
    writes into read-only folders, so the file system's refusal is simulated)."""
    import errno

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "resume.pt").write_text("x")
    monkeypatch.setattr(outputs.tempfile, "TemporaryFile", read_only)
    with pytest.raises(OutputError, match="cannot write into it \\(Read-only file system\\)"):
        with outputs.claim_output(tmp_path / "run", lambda p: True):
            pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # the lock went with the refusal


@pytest.mark.fast
def test_a_huge_time_limit_is_no_limit_not_an_overflow():
    from flow.core import proc

    assert proc.run(["true"], "a tool", 1e300).returncode == 0  # 1e300 s overflowed the OS clock
