"""Run-time weights end to end (issue 27 item 3): a small CNV built with ``--runtime-weights`` loads every
MVAU's weights through s_axis_wgt, and what counts is the load, not the bitstream's contents.

- the build: every MVAU is marked and its memory streams in (top.json); the build's own RTL simulation
  (weights streamed after reset, then the images) equals Brevitas = QONNX = FINN on every image (its
  verification, the independent golden model); the deploy package carries the beats, and
  expected_outputs.npy holds that verified simulation's outputs;
- the simulation with the memory files' initial contents negated still gives those outputs (the load
  overwrote them), and with negated beats streamed in it does not (the load is what the outputs follow);
- the PYNQ driver off board: a fake overlay whose weight DMA records what the driver writes and whose
  data DMA runs the Verilator model with exactly those beats gives the verified outputs.
"""

from __future__ import annotations

import json
import sys
import types

import numpy as np
import pytest

from brevitas_models.checkpoint import save_checkpoint
from brevitas_models.random_bn import randomize_batchnorm
from brevitas_models.registry import build_model
from hw.golden.mem_files import read_mem_words

pytestmark = pytest.mark.slow
KWARGS = {"in_channels": 1, "in_size": 28, "width": 0.125, "shift": 0.2}
IMAGES = 4


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(build folder, Brevitas model) of the CNV on the ZCU104 with every weight loaded at run time."""
    from flow.build import main

    root = tmp_path_factory.mktemp("rtw")
    model = randomize_batchnorm(build_model("xnor_cnv", **KWARGS), seed=3, spread=10)
    save_checkpoint(root / "cnv.pt", "xnor_cnv", KWARGS, model, {"dataset": "fashion-mnist"})
    out = root / "cnv-rtw"
    args = ["--board", "ZCU104", "--checkpoint", root / "cnv.pt", "--runtime-weights", "--target-fps", "2000"]
    assert main([str(a) for a in [*args, "--verify-images", IMAGES, "--output", out]]) == 0
    return out, model


def negate_words(path, width: int) -> None:
    """Every weight bit of a memory file of ``width``-bit words flipped (bipolar: every weight negated)."""
    digits = len(path.read_text().split()[0])
    path.write_text("".join(f"{~w & ((1 << width) - 1):0{digits}x}\n" for w in read_mem_words(path)))


def test_every_layer_loads_at_run_time_and_the_build_is_bit_exact(built):
    out, _ = built
    summary = json.loads((out / "report" / "summary.json").read_text())
    top = json.loads((out / "rtl" / "top.json").read_text())
    folded = [name for name, f in summary["folding"].items() if name.startswith("MVAU")]
    assert folded and all(summary["folding"][n].get("runtime_writeable_weights") == 1 for n in folded)
    assert sorted(e["node"] for e in top["runtime_weights"]) == sorted(folded)
    assert ".RuntimeWeights(1)" in (out / "rtl" / "shiftbnn_top.sv").read_text().replace(" ", "")
    rtlsim = summary["rtlsim"]
    assert rtlsim["matches"] == rtlsim["images"] == IMAGES and "--weights" in rtlsim["command"]
    beats = np.fromfile(out / "deploy" / "runtime_weights.bin", dtype="<u4")
    assert beats.size == sum(e["beats"] for e in top["runtime_weights"]) > 0
    assert np.load(out / "deploy" / "expected_outputs.npy").shape[0] == IMAGES


def test_the_load_overwrites_the_initial_contents(built, tmp_path):
    """Memory files negated: the streamed weights still give Brevitas' labels. Beats negated: not."""
    import shutil

    from flow.deploy.driver import Accelerator

    out, _ = built
    build = tmp_path / "copy"
    for part in ("rtl", "rtlsim", "deploy"):
        shutil.copytree(out / part, build / part, symlinks=True)
    top = json.loads((build / "rtl" / "top.json").read_text())
    images, expected = (np.load(build / "deploy" / f) for f in ("test_images.npy", "expected_outputs.npy"))
    for entry in top["runtime_weights"]:
        negate_words(build / "rtl" / entry["file"], entry["width"])
    np.testing.assert_array_equal(Accelerator(build / "deploy", backend="sim").execute(images), expected)
    weights = build / "deploy" / "runtime_weights.bin"
    (~np.fromfile(weights, dtype="<u4")).astype("<u4").tofile(weights)
    assert not np.array_equal(Accelerator(build / "deploy", backend="sim").execute(images), expected)


class SimulatedDma:
    """A fake pynq DMA pair: the weight DMA's MM2S records beats; the data DMA's MM2S runs the Verilator
    model of the build on the input buffer with the recorded beats as s_axis_wgt, S2MM gets its output."""

    def __init__(self, sim, weights: list):
        self.sim, self.weights, self.out_buf = sim, weights, None
        self.sendchannel = types.SimpleNamespace(transfer=self.send, wait=lambda: None)
        self.recvchannel = types.SimpleNamespace(transfer=self.receive, wait=lambda: None)

    def receive(self, buf):
        self.out_buf = buf

    def send(self, buf):
        n = buf.shape[0] // self.sim.design.top["in_beats_per_image"]
        self.out_buf[:] = self.sim.run(np.asarray(buf), n).reshape(self.out_buf.shape)


def test_the_pynq_driver_writes_the_weights_the_hardware_runs_on(built, tmp_path, monkeypatch):
    import shutil

    from flow.deploy import driver as drv

    out, _ = built
    deploy = tmp_path / "deploy"
    shutil.copytree(out / "deploy", deploy)
    (deploy / "shiftbnn.bit").write_bytes(b"\0")
    (deploy / "shiftbnn.hwh").write_text("<xml/>")
    written: list[np.ndarray] = []
    recorded = tmp_path / "written.bin"

    class RecordingSim(drv.SimBackend):  # the model loads what the driver wrote, not the package's file
        def run(self, packed, n, extra_args=()):
            np.concatenate(written).astype("<u4").tofile(recorded)
            self.design.runtime_weights_file = lambda: recorded
            return super().run(packed, n, extra_args)

    design = drv.Design(deploy)
    sim = RecordingSim(design, binary=out / "rtlsim" / "shiftbnn_sim", rtl_dir=out / "rtl")

    class Overlay:
        def __init__(self, bitfile, download=True):
            self.axi_dma_0 = SimulatedDma(sim, written)
            self.axi_dma_weights = types.SimpleNamespace(sendchannel=types.SimpleNamespace(
                transfer=lambda buf: written.append(np.array(buf, dtype=np.uint32)), wait=lambda: None))  # fmt: skip

    class Buffer(np.ndarray):
        def flush(self):
            pass

        invalidate = freebuffer = flush

    fake = types.ModuleType("pynq")
    fake.Overlay, fake.Device = Overlay, types.SimpleNamespace(devices=[object()])
    fake.allocate = lambda shape, dtype: np.zeros(shape, dtype).view(Buffer)
    monkeypatch.setitem(sys.modules, "pynq", fake)
    images, expected = (np.load(deploy / f) for f in ("test_images.npy", "expected_outputs.npy"))
    acc = drv.Accelerator(deploy, backend="pynq", batch_size=IMAGES)
    assert len(written) == 1  # once, at start-up, before any image
    np.testing.assert_array_equal(written[0], np.fromfile(deploy / "runtime_weights.bin", dtype="<u4"))
    np.testing.assert_array_equal(acc.execute(images), expected)
