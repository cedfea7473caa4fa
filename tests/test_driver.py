"""The board driver (flow/deploy/driver.py) and the deploy package, without a board:

- packing/unpacking (the driver's standalone numpy copy) against the project's one packer
  hw/golden/stream.py and FINN's own finnpy_to_packed_bytearray;
- shape/dtype/range validation with clear errors, and the CLI's one-line errors;
- the sim backend against a fake harness that follows the rtl_interface.md CLI and file formats;
- the pynq backend against a fake `pynq` module (Overlay + DMA loopback through the same fake model);
- the driver imports nothing but the standard library, numpy and (lazily) pynq.

The bit-exact test against the real Verilator harness is in test_board_flow.py (slow).
"""

import json
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

from flow.deploy import driver as drv
from flow.deploy.package import DeployError, make_deploy_package
from hw.golden.stream import pack_bytes, unpack_bytes

pytestmark = pytest.mark.fast

TOP = {
    "top": "shiftbnn_top",
    "in_width": 64,
    "out_width": 8,
    "in_elem_bits": 8,
    "in_elems_per_beat": 8,
    "in_beats_per_image": 98,
    "in_datatype": "UINT8",
    "in_shape_nhwc": [1, 28, 28, 1],
    "out_elem_bits": 8,
    "out_elems_per_beat": 1,
    "out_beats_per_image": 1,
    "out_datatype": "UINT8",
    "out_shape": [1, 1],
    "clock_mhz": 100.0,
}
SUMMARY = {"board": "Pynq-Z2", "part": "xc7z020clg400-1", "model": "xnor_mlp", "shift": 0.3,
           "input_shape": [1, 1, 28, 28], "clock_mhz": 100.0}  # fmt: skip

# A stand-in for the network: label = (sum of the image's input elements) mod 10, computed by a
# fake harness from the *packed stream* with the golden unpacker. Equal labels from the driver
# therefore prove packing, image order and unpacking.
FAKE_HARNESS = textwrap.dedent(
    """
    import argparse, json, sys
    import numpy as np
    sys.path.insert(0, {repo!r})
    from hw.golden.stream import pack_bytes, unpack_bytes
    p = argparse.ArgumentParser()
    for a in ("--input", "--output", "--stats"): p.add_argument(a)
    p.add_argument("--images", type=int)
    a, _ = p.parse_known_args()
    top = json.load(open("top.json"))
    nb, ib = top["in_beats_per_image"], top["in_width"] // 8
    raw = np.fromfile(a.input, np.uint8).reshape(-1, ib)
    if raw.shape[0] != a.images * nb:
        sys.exit("short input")
    elems = unpack_bytes(raw, top["in_elem_bits"], top["in_elems_per_beat"]).reshape(a.images, -1)
    labels = elems.sum(axis=1) % 10
    pack_bytes(labels, top["out_elem_bits"], top["out_elems_per_beat"], top["out_width"] // 8).tofile(a.output)
    json.dump({{"images": a.images, "cycles": 100 * a.images + 20, "latency_cycles": 120,
               "cycles_per_frame": 100}}, open(a.stats, "w"))
    """
)


def reference_labels(images_nchw):
    nhwc = np.asarray(images_nchw).transpose(0, 2, 3, 1).reshape(len(images_nchw), -1)
    return nhwc.astype(np.int64).sum(axis=1) % 10


@pytest.fixture
def build_dir(tmp_path):
    """A build folder as the flow leaves it: rtl/ (top.json, a .dat) and rtlsim/shiftbnn_sim."""
    from pathlib import Path

    repo = str(Path(__file__).resolve().parent.parent)
    (tmp_path / "rtl").mkdir()
    (tmp_path / "rtl" / "top.json").write_text(json.dumps(TOP))
    (tmp_path / "rtl" / "mvau_0_weights.dat").write_text("ff\n00\n")
    (tmp_path / "rtlsim").mkdir()
    sim = tmp_path / "rtlsim" / "shiftbnn_sim"
    sim.write_text(f"#!{sys.executable}\n" + FAKE_HARNESS.format(repo=repo))
    sim.chmod(0o755)
    return tmp_path


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, size=(7, 1, 28, 28)).astype(np.uint8)


# --- packing ----------------------------------------------------------------------------------


PACK_CASES = [(8, 8, 64, "UINT8"), (8, 3, 32, "UINT8"), (1, 12, 16, "BIPOLAR"), (1, 16, 16, "BINARY"),
              (4, 5, 24, "INT4"), (2, 7, 16, "UINT2"), (16, 2, 32, "INT16"), (3, 4, 16, "INT3")]  # fmt: skip


def random_elements(dtype: str, per_beat: int) -> np.ndarray:
    lo, hi, bipolar = drv.datatype_range(dtype)
    elems = np.random.default_rng(per_beat * 7 + len(dtype)).integers(lo, hi + 1, size=(5, per_beat * 3))
    return np.where(elems > 0, 1, -1) if bipolar else elems


@pytest.mark.parametrize("elem_bits,per_beat,width,dtype", PACK_CASES)
def test_driver_packing_equals_the_one_packer(elem_bits, per_beat, width, dtype):
    """The driver's copy (it runs on the board with numpy only) writes the bytes hw/golden/stream.py does."""
    elems = random_elements(dtype, per_beat)
    lo, _, bipolar = drv.datatype_range(dtype)
    raw = drv.pack_stream(elems, elem_bits, per_beat, width, dtype)
    golden = pack_bytes((elems > 0) if bipolar else elems, elem_bits, per_beat, width // 8)
    np.testing.assert_array_equal(raw, golden)
    back = drv.unpack_stream(raw, elem_bits, per_beat, dtype)
    np.testing.assert_array_equal(back, elems.reshape(-1))
    if not bipolar:
        np.testing.assert_array_equal(unpack_bytes(golden, elem_bits, per_beat, signed=lo < 0), back)


@pytest.mark.parametrize("elem_bits,per_beat,width,dtype", PACK_CASES)
def test_driver_packing_equals_finn(elem_bits, per_beat, width, dtype):
    """FINN's finnpy_to_packed_bytearray packs each beat's elements MSB-first with the first byte most
    significant by default; with reverse_inner and reverse_endian it is our layout (element 0 in the
    least significant bits, byte 0 least significant), zero-padded to whole bytes; our beats are then
    zero-padded further to the port width."""
    from finn.util.data_packing import finnpy_to_packed_bytearray
    from qonnx.core.datatype import DataType

    elems = random_elements(dtype, per_beat)
    raw = drv.pack_stream(elems, elem_bits, per_beat, width, dtype)
    beats = elems.reshape(-1, per_beat).astype(np.float32)
    finn = finnpy_to_packed_bytearray(beats, DataType[dtype], reverse_inner=True, reverse_endian=True)
    assert finn.shape == (len(raw), (elem_bits * per_beat + 7) // 8)
    np.testing.assert_array_equal(raw[:, : finn.shape[1]], finn)
    assert not raw[:, finn.shape[1] :].any()
    # FINN's default is the mirror image: elements in reverse order in the word, bytes big-endian
    values = (elems > 0) if drv.datatype_range(dtype)[2] else elems
    mirror = pack_bytes(values.reshape(-1, per_beat)[:, ::-1], elem_bits, per_beat)[:, ::-1]
    np.testing.assert_array_equal(finnpy_to_packed_bytearray(beats, DataType[dtype]), mirror)


def test_pack_images_nchw_to_nhwc(build_dir, images):
    make_deploy_package(build_dir, SUMMARY)
    design = drv.Design(build_dir / "deploy")
    raw = design.pack_images(images)
    assert raw.shape == (7 * 98, 8)
    assert np.array_equal(raw.reshape(7, -1), images.transpose(0, 2, 3, 1).reshape(7, -1))


def test_pack_images_3_channels(tmp_path):
    top = {**TOP, "in_shape_nhwc": [1, 4, 4, 3], "in_elems_per_beat": 3, "in_beats_per_image": 16,
           "in_width": 24}  # fmt: skip
    (tmp_path / "top.json").write_text(json.dumps(top))
    (tmp_path / "deploy.json").write_text(json.dumps({"input_shape": [1, 3, 4, 4]}))
    design = drv.Design(tmp_path)
    img = np.arange(48).reshape(1, 3, 4, 4)
    raw = design.pack_images(img)
    first_beat = raw[0]  # pixel (0,0): channels 0, 1, 2 of NCHW at offsets 0, 16, 32
    assert list(first_beat) == [0, 16, 32]


# --- validation and errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad,fragment",
    [
        (np.zeros((2, 28, 28), np.uint8), "shape (N, 1, 28, 28)"),
        (np.zeros((0, 1, 28, 28), np.uint8), "N = 0"),
        (np.full((1, 1, 28, 28), 256), "[0, 255]"),
        (np.full((1, 1, 28, 28), -1), "[0, 255]"),
        (np.full((1, 1, 28, 28), 0.5), "non-integer"),
        (np.full((1, 1, 28, 28), np.nan), "non-integer"),
        (np.full((1, 1, 28, 28), "a"), "dtype"),
    ],
)
def test_bad_images_clear_errors(build_dir, bad, fragment):
    make_deploy_package(build_dir, SUMMARY)
    acc = drv.Accelerator(build_dir / "deploy", backend="sim")
    with pytest.raises(drv.DriverError) as exc:
        acc.execute(bad)
    assert fragment in str(exc.value)


def test_single_image_and_float_input(build_dir, images):
    make_deploy_package(build_dir, SUMMARY)
    acc = drv.Accelerator(build_dir / "deploy", backend="sim")
    assert acc.execute(images[0].astype(np.float32)).shape == (1, 1)


def test_missing_files_clear_errors(build_dir, tmp_path):
    with pytest.raises(drv.DriverError, match="top.json"):
        drv.Design(tmp_path / "nowhere")
    make_deploy_package(build_dir, SUMMARY)
    with pytest.raises(drv.DriverError, match="simulator not found"):
        drv.Accelerator(build_dir / "deploy", backend="sim", sim_binary=tmp_path / "nope")
    with pytest.raises(drv.DriverError, match="bitstream not found|pynq package"):
        drv.Accelerator(build_dir / "deploy", backend="pynq")
    with pytest.raises(DeployError, match="top.json"):
        make_deploy_package(tmp_path / "empty", SUMMARY)


def test_simulator_failure_is_one_line(build_dir, images):
    make_deploy_package(build_dir, SUMMARY)
    sim = build_dir / "rtlsim" / "shiftbnn_sim"
    sim.write_text("#!/bin/sh\necho 'error: timeout after 1000 cycles (deadlock?)' >&2\nexit 3\n")
    acc = drv.Accelerator(build_dir / "deploy", backend="sim")
    with pytest.raises(drv.DriverError, match=r"simulator failed \(3\): error: timeout"):
        acc.execute(images)


# --- sim backend ---------------------------------------------------------------------------------


def test_sim_backend_execute_and_throughput(build_dir, images):
    deploy = make_deploy_package(build_dir, SUMMARY, images, reference_labels(images))
    acc = drv.Accelerator(deploy, backend="sim", batch_size=3)  # 3 simulator runs: 3 + 3 + 1
    assert acc.backend_name == "sim"
    np.testing.assert_array_equal(acc.predict(images), reference_labels(images))
    tp = acc.throughput_test(images)
    assert tp["fps"] == pytest.approx(1e6) and tp["latency_ms"] == pytest.approx(1.2e-3)


def test_auto_backend_without_board_is_sim(build_dir, monkeypatch):
    make_deploy_package(build_dir, SUMMARY)
    monkeypatch.delenv("SHIFTBNN_BACKEND", raising=False)
    assert drv.Accelerator(build_dir / "deploy").backend_name == "sim"
    monkeypatch.setenv("SHIFTBNN_BACKEND", "nonsense")
    with pytest.raises(drv.DriverError, match="unknown backend"):
        drv.Accelerator(build_dir / "deploy")


def test_deploy_package_contents(build_dir, images):
    deploy = make_deploy_package(build_dir, SUMMARY, images.astype(np.float32), reference_labels(images))
    names = sorted(p.name for p in deploy.iterdir())
    assert names == ["README.md", "deploy.json", "driver.py", "expected_outputs.npy", "test_images.npy",
                     "test_labels.npy", "top.json", "weights"]  # fmt: skip
    assert np.load(deploy / "test_images.npy").dtype == np.uint8
    assert (deploy / "weights" / "mvau_0_weights.dat").is_file()
    meta = json.loads((deploy / "deploy.json").read_text())
    assert meta["bitfile"] == "shiftbnn.bit" and meta["bitstream_built"] is False
    assert "Pynq-Z2" in (deploy / "README.md").read_text()


def test_cli_accuracy_json_and_errors(build_dir, images):
    deploy = make_deploy_package(build_dir, SUMMARY, images, reference_labels(images))
    cmd = [sys.executable, str(deploy / "driver.py")]
    out = subprocess.run([*cmd, "--json"], capture_output=True, text=True, check=True)
    report = json.loads(out.stdout)
    assert report["backend"] == "sim" and report["images"] == 7 and report["accuracy"] == 1.0
    assert report["throughput"]["cycles_per_frame"] == 100 and report["equal_to_rtl_sim"] == 7
    text = subprocess.run([*cmd, "--limit", "2"], capture_output=True, text=True, check=True).stdout
    assert "accuracy     100.00 %" in text and "img/s" in text and "bit-exact    2/2" in text
    bad = subprocess.run([*cmd, "--images", str(deploy / "missing.npy")], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [f"error: images not found: {deploy}/missing.npy"]


def test_driver_imports_only_stdlib_numpy_pynq():
    code = (
        "import sys, runpy; runpy.run_path(sys.argv[1]);"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('onnx','torch','qonnx','finn','flow','hw')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    subprocess.run([sys.executable, "-c", code, drv.__file__], check=True)


# --- pynq backend with a fake pynq module ---------------------------------------------------------


class FakeBuffer(np.ndarray):
    def flush(self):
        self.flushed = True

    def invalidate(self):
        pass

    def freebuffer(self):
        pass


class FakeChannel:
    def __init__(self, dma, role):
        self.dma, self.role = dma, role

    def transfer(self, buf):
        if self.role == "recv":
            self.dma.out_buf = buf
        else:
            self.dma.loopback(buf)

    def wait(self):
        pass


class FakeDMA:
    """MM2S -> fake network -> S2MM, honouring the one-transfer-per-batch TLAST contract."""

    def __init__(self):
        self.sendchannel, self.recvchannel = FakeChannel(self, "send"), FakeChannel(self, "recv")
        self.out_buf = None

    def loopback(self, ibuf):
        elems = np.asarray(ibuf).reshape(-1, TOP["in_beats_per_image"] * 8).astype(np.int64)
        labels = elems.sum(axis=1) % 10
        assert self.out_buf.shape == (len(labels), 1), "S2MM buffer must hold exactly the batch"
        self.out_buf[:, 0] = labels


def fake_pynq(n_devices=1):
    mod = types.ModuleType("pynq")
    dma = FakeDMA()

    class Overlay:
        def __init__(self, bitfile, download=True):
            self.bitfile, self.axi_dma_0 = bitfile, dma

    mod.Overlay = Overlay
    mod.allocate = lambda shape, dtype: np.zeros(shape, dtype).view(FakeBuffer)
    mod.Device = types.SimpleNamespace(devices=[object()] * n_devices)
    return mod


def test_pynq_backend_with_fake_overlay(build_dir, images, monkeypatch):
    deploy = make_deploy_package(build_dir, SUMMARY)
    (deploy / "shiftbnn.bit").write_bytes(b"\0")
    (deploy / "shiftbnn.hwh").write_text("<xml/>")
    monkeypatch.setitem(sys.modules, "pynq", fake_pynq())
    monkeypatch.delenv("SHIFTBNN_BACKEND", raising=False)
    acc = drv.Accelerator(deploy, batch_size=4)  # auto picks pynq: a device is present
    assert acc.backend_name == "pynq"
    np.testing.assert_array_equal(acc.predict(images), reference_labels(images))
    tp = acc.throughput_test(images)
    assert tp["backend"] == "pynq" and tp["images"] == 4 and tp["fps"] > 0 and tp["latency_ms"] > 0
    acc.close()
    monkeypatch.setitem(sys.modules, "pynq", fake_pynq(n_devices=0))
    assert drv.Accelerator(deploy).backend_name == "sim"


def test_pynq_backend_missing_hwh(build_dir, monkeypatch):
    deploy = make_deploy_package(build_dir, SUMMARY)
    (deploy / "shiftbnn.bit").write_bytes(b"\0")
    monkeypatch.setitem(sys.modules, "pynq", fake_pynq())
    with pytest.raises(drv.DriverError, match="hardware handoff not found"):
        drv.Accelerator(deploy, backend="pynq")


def test_driver_parses_as_python_38():
    """PYNQ images ship Python 3.8 (v2.7) to 3.10 (v3.0): no newer syntax in the board's file."""
    import ast
    from pathlib import Path

    ast.parse(Path(drv.__file__).read_text(), feature_version=(3, 8))


def test_runtime_weights_packaged_and_streamed_once_at_start_up(build_dir, images, monkeypatch):
    """A top with run-time weights: the package writes the s_axis_wgt beats, the pynq backend streams
    them through the weight DMA once when it loads the overlay, the sim backend hands them to the
    harness; a truncated file is a clear error."""
    top = {**TOP, "runtime_weights": [{"node": "MVAU_0", "file": "mvau_0_weights.dat", "width": 40, "words": 2,
                                       "beats": 4}]}  # fmt: skip
    (build_dir / "rtl" / "top.json").write_text(json.dumps(top))
    (build_dir / "rtl" / "mvau_0_weights.dat").write_text("ab12345678\n0000000001\n")
    deploy = make_deploy_package(build_dir, SUMMARY)
    beats = np.fromfile(deploy / "runtime_weights.bin", dtype="<u4")
    np.testing.assert_array_equal(beats, [0x12345678, 0xAB, 0x1, 0x0])  # slices least significant first
    (deploy / "shiftbnn.bit").write_bytes(b"\0")
    (deploy / "shiftbnn.hwh").write_text("<xml/>")
    fake = fake_pynq()
    sent = []
    fake.Overlay.axi_dma_weights = types.SimpleNamespace(
        sendchannel=types.SimpleNamespace(transfer=lambda buf: sent.append(np.array(buf)), wait=lambda: None)
    )
    monkeypatch.setitem(sys.modules, "pynq", fake)
    acc = drv.Accelerator(deploy, backend="pynq", batch_size=4)
    assert len(sent) == 1 and np.array_equal(sent[0], beats)
    np.testing.assert_array_equal(acc.predict(images), reference_labels(images))
    assert len(sent) == 1  # once, at start-up
    np.testing.assert_array_equal(drv.Accelerator(deploy, backend="sim").predict(images), reference_labels(images))
    (deploy / "runtime_weights.bin").write_bytes(beats[:3].tobytes())
    with pytest.raises(drv.DriverError, match="takes 4 32-bit beats"):
        drv.Accelerator(deploy, backend="pynq")


@pytest.mark.parametrize("bad, fragment", [("x" * 300, "file name too long"), ("a\0b", "NUL byte")])
def test_unusable_path_arguments_are_one_error_line(tmp_path, capsys, bad, fragment):
    """A path the OS cannot look up is refused while parsing (found by tests/test_cli_fuzz.py: it used to be
    an OSError inside the run, reported as ``error: internal``)."""
    from flow.deploy import driver

    for option in ("--images", "--labels", "--output", "--deploy"):
        assert driver.main(["--deploy", str(tmp_path), option, bad]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"error: argument {option}: ") and fragment in err[0], err
