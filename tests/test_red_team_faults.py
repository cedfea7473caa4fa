"""Red team, faults: the board driver's bad inputs and broken deploy folders (cases in
tests/red_team_cases.py), subprocesses that never exit, SIGTERM during a parallel sweep, a failing
swap, the umask, the CIFAR-10 unpickler, and the build's warnings. docs/safety.md lists them."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from red_team_cases import DRIVER_CASES
from red_team_checks import ROOT, assert_one_error, env, running, snapshot
from red_team_inputs import FAKE_SIM, KWARGS, TOP, Evil, fake_deploy, tiny_model

from brevitas_models.checkpoint import save_checkpoint


# ------------------------------------------------------------------------------ the board driver
@pytest.fixture
def deploy(tmp_path) -> Path:
    return fake_deploy(tmp_path)


def _driver(deploy: Path, *argv: str, timeout: float = 60):
    cmd = [sys.executable, str(deploy / "driver.py"), "--no-throughput", *argv]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def _edit_json(path: Path, **changes) -> list[str]:
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))
    return []


def _labels(box: Path, values) -> list[str]:
    np.save(box / "labels.npy", np.asarray(values))
    return ["--labels", str(box / "labels.npy")]


def _fifo(box: Path) -> list[str]:
    os.mkfifo(box / "images.npy")
    return ["--images", str(box / "images.npy")]


ROUND2_DRIVER = {
    "deep-top-json": lambda d, box: (d / "top.json").write_text("[" * 5000 + "]" * 5000) and [],
    "clock-true": lambda d, box: _edit_json(d / "deploy.json", clock_mhz=True),
    "width-text": lambda d, box: _edit_json(d / "top.json", in_width="8"),
    "datatype-number": lambda d, box: _edit_json(d / "top.json", in_datatype=7),
    "labels-nan": lambda d, box: _labels(box, [0.0, np.nan, 1.0]),
    "labels-2d": lambda d, box: _labels(box, np.zeros((3, 2), np.int64)),
    "labels-long": lambda d, box: _labels(box, np.zeros(5, np.int64)),
    "labels-negative": lambda d, box: _labels(box, [0, -1, 1]),
    "output-is-input": lambda d, box: ["--output", str(d / "test_images.npy")],
    "output-folder": lambda d, box: ["--output", str(box)],
    "images-fifo": lambda d, box: _fifo(box),
}


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
    elif case in ROUND2_DRIVER:
        return ROUND2_DRIVER[case](deploy, box)
    elif case == "sim-never-exits":
        sim = box / "rtlsim" / "shiftbnn_sim"
        sim.write_text(FAKE_SIM.format(python=sys.executable, body="time.sleep(600)"))
        return ["--sim-timeout", "2"]
    return {"limit-zero": ["--limit", "0"], "batch-zero": ["--batch", "0"], "timeout-nan": ["--sim-timeout", "nan"],
            "backend-unknown": ["--backend", "fpga"]}.get(case, [])  # fmt: skip


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
    from flow.core import proc

    child = tmp_path / "child.pid"
    script = f"sleep 600 & echo $! > {child}; wait"
    with pytest.raises(proc.ProcessTimeout, match="RTL simulation timed out after 1 s"):
        proc.run(["bash", "-c", script], "RTL simulation", 1.0)
    pid = int(child.read_text())
    deadline = time.monotonic() + 10
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(pid)  # the grandchild went with the group


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
    from flow.core import proc

    monkeypatch.setenv("SHIFTBNN_TIMEOUT_SCALE", "2")
    assert proc.scaled_timeout(10, 1, 5) == 30
    monkeypatch.setenv("SHIFTBNN_TIMEOUT_SCALE", "-1")
    with pytest.raises(ValueError, match="positive number"):
        proc.scaled_timeout(10)


@pytest.mark.slow
def test_sigterm_during_a_parallel_sweep_stops_every_worker(tmp_path):
    """--jobs 2: SIGTERM to the sweep terminates its pool; the workers unwind without tracebacks, leave
    no temporary files, and each run's resume.pt of its last finished epoch stays for a later resume."""
    out = tmp_path / "s"
    cmd = [sys.executable, str(ROOT / "flow" / "sweep.py"), "--model", "xnor_mlp", "--dataset", "digits"]
    cmd += ["--hidden", "16,16,16", "--shifts", "0", "--seeds", "0", "1", "--epochs", "500", "--threads", "1"]
    cmd += ["--jobs", "2", "--output", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
    deadline = time.monotonic() + 240
    while len(list(out.glob("runs/*/resume.pt"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)  # both workers are training
    workers = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
    proc.terminate()
    _, stderr = proc.communicate(timeout=120)
    assert_one_error(proc.returncode, stderr, 143, "terminated (SIGTERM)")
    assert len(list(out.glob("runs/*/resume.pt"))) == 2 and not list(out.rglob("*.tmp"))
    deadline = time.monotonic() + 10
    while any(running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(running(pid) for pid in workers)


# ----------------------------------------------------------------------------- files and folders
@pytest.mark.fast
def test_failed_swap_restores_the_previous_build(tmp_path, monkeypatch):
    from flow.core import outputs

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

    monkeypatch.setattr(outputs.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        outputs.swap_into_place(new, old)
    assert (old / "keep").read_text() == "previous"


@pytest.mark.fast
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_outputs_follow_the_umask(tmp_path, umask):
    from flow.core.files import make_temp_dir, write_atomically

    previous = os.umask(umask)
    try:
        folder = make_temp_dir(".x.partial-", tmp_path)
        path = write_atomically(tmp_path / "f.json", "{}")
        save_checkpoint(tmp_path / "c.pt", "xnor_mlp", KWARGS, tiny_model())
    finally:
        os.umask(previous)
    assert folder.stat().st_mode & 0o777 == 0o777 & ~umask
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert (tmp_path / "c.pt").stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.fast
def test_cifar_reader_refuses_globals_and_reads_numpy_1_pickles(tmp_path):
    from flow.data.builtin import DatasetError
    from flow.data.readers import read_cifar_batch

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
    (tmp_path / "bad").write_bytes(pickle.dumps({b"data": data, b"labels": [3, -1]}))
    with pytest.raises(DatasetError, match="non-negative integers"):
        read_cifar_batch(tmp_path / "bad")


# ---------------------------------------------------------------------------------- build warnings
@pytest.mark.fast
def test_shift_override_accuracy_change_and_constant_labels(capsys):
    """The two build warnings as functions: the accuracy before/after a --shift, and one label for all."""
    import io

    from flow.compiler.network import Network, report_shift_override, warn_if_constant

    trained = tiny_model()
    shifted = tiny_model()
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
