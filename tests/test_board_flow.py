"""The board path on a real build, without a board: the demo model (64-64 xnor_mlp on digits) is built
by flow/build.py; the driver's sim backend runs the Verilator model of the generated RTL.

- the driver reproduces the RTL bit-exactly: its outputs equal the harness's own outputs on an input
  file packed independently (hw/golden/stream.py), and equal FINN's labels (QONNX execution);
- the deploy folder's CLI reports the accuracy and a throughput figure;
- the Vivado Tcl for the real rtl/ runs under the stub Vivado (every file it references exists)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from flow.demo import dataset_test_split, ensure_build, train_demo_model
from flow.deploy.driver import Accelerator
from hw.golden.stream import pack_bytes, unpack_bytes

pytestmark = pytest.mark.slow
N = 120


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    root = tmp_path_factory.mktemp("board")
    ckpt = train_demo_model(root / "run", epochs=2)
    return ensure_build(ckpt, root / "mlp-Pynq-Z2")


@pytest.fixture(scope="module")
def data(build):
    summary = json.loads((build / "report" / "summary.json").read_text())
    return dataset_test_split(summary, N)


def harness_outputs(build, images, tmp_path):
    """Run rtlsim/shiftbnn_sim directly on a file packed with the golden packer."""
    top = json.loads((build / "rtl" / "top.json").read_text())
    elems = images.transpose(0, 2, 3, 1).reshape(-1)  # NCHW -> NHWC stream order
    pack_bytes(elems, top["in_elem_bits"], top["in_elems_per_beat"], top["in_width"] // 8).tofile(tmp_path / "in.bin")
    cmd = [str(build / "rtlsim" / "shiftbnn_sim"), "--input", str(tmp_path / "in.bin"), "--output"]
    cmd += [str(tmp_path / "out.bin"), "--images", str(len(images))]
    subprocess.run(cmd, cwd=build / "rtl", check=True, capture_output=True)
    raw = np.fromfile(tmp_path / "out.bin", dtype=np.uint8).reshape(-1, top["out_width"] // 8)
    return unpack_bytes(raw, top["out_elem_bits"], top["out_elems_per_beat"]).reshape(len(images), -1)


def test_driver_sim_is_bit_exact(build, data, tmp_path):
    from qonnx.core.modelwrapper import ModelWrapper

    from flow.compiler.export import execute_graph
    from flow.compiler.verify import labels_of

    images, labels = data
    acc = Accelerator(build / "deploy", backend="sim", batch_size=50)  # 3 simulator runs
    out = acc.execute(images)
    harness = harness_outputs(build, images, tmp_path)
    np.testing.assert_array_equal(out.reshape(len(images), -1)[:, : harness.shape[1]], harness)
    finn = labels_of(execute_graph(ModelWrapper(str(build / "model" / "qonnx.onnx")), images, batch=N))
    np.testing.assert_array_equal(acc.predict(images), finn)
    assert np.mean(finn == labels) > 0.5  # a trained network, not a constant


def test_driver_cli_in_deploy_folder(build):
    proc = subprocess.run(
        [sys.executable, "driver.py", "--json", "--limit", "60"],
        cwd=build / "deploy",
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(proc.stdout)
    n = min(60, json.loads((build / "deploy" / "deploy.json").read_text())["test_images"])
    assert report["backend"] == "sim" and report["images"] == n and report["accuracy"] > 0.5
    assert report["equal_to_rtl_sim"] == n
    tp = report["throughput"]
    assert tp["fps"] == pytest.approx(tp["clock_mhz"] * 1e6 / tp["cycles_per_frame"]) and tp["latency_cycles"] > 0


def test_vivado_tcl_on_real_rtl(build, tmp_path):
    import shutil

    from helpers import TCLSH, run_stub

    from flow.vivado.build_bitstream import write_tcl

    if TCLSH is None:
        pytest.skip("tclsh not installed")
    out = tmp_path / "b"
    shutil.copytree(build / "rtl", out / "rtl")
    calls = run_stub(write_tcl(out, "Pynq-Z2"))
    assert (out / "deploy" / "shiftbnn.bit").is_file()
    args = [a for call in calls if call[0] == "add_files" for a in call[1:] if not a.startswith("-")]
    added = {f for a in args for f in a.split()}
    assert {p.name for p in (out / "rtl").glob("*.dat")} <= {p.rsplit("/", 1)[-1] for p in added}


def test_flow_runs_vivado_and_packages(build, tmp_path, monkeypatch):
    """flow/build.py with a (stub) Vivado: bitstream + .hwh in deploy/, Vivado's numbers in the summary."""
    from helpers import TCLSH, fake_vivado

    from flow.build import main

    if TCLSH is None:
        pytest.skip("tclsh not installed")
    monkeypatch.setenv("XILINX_VIVADO", str(fake_vivado(tmp_path / "xilinx")))
    out = tmp_path / "b"
    args = ["--board", "Pynq-Z2", "--model", "xnor_mlp", "--checkpoint", str(build.parent / "run" / "checkpoint.pt")]
    assert main([*args, "--verify-images", "10", "--skip-rtlsim", "--require-bitstream", "--output", str(out)]) == 0
    record = json.loads((out / "report" / "summary.json").read_text())["bitstream"]
    assert record["status"] == "built" and record["utilization"]["lut"] == 12345 and record["timing"]["met"]
    assert (out / "deploy" / "shiftbnn.bit").is_file() and (out / "deploy" / "shiftbnn.hwh").is_file()
    assert json.loads((out / "deploy" / "deploy.json").read_text())["bitstream_built"] is True


def test_flow_finn_hls_backend_without_vivado(build, tmp_path, monkeypatch, capsys):
    from flow.build import main

    monkeypatch.delenv("XILINX_VIVADO", raising=False)
    args = ["--board", "Pynq-Z2", "--model", "xnor_mlp", "--checkpoint", str(build.parent / "run" / "checkpoint.pt")]
    assert main([*args, "--backend", "finn-hls", "--output", str(tmp_path / "f")]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("error: --backend finn-hls needs Vivado and Vitis HLS; FINN: Environment variable")
    assert not (tmp_path / "f").exists()
