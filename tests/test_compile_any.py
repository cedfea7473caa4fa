"""Networks written elsewhere through every stage to bit-exact RTL (brevitas_models/corpus.py):
Brevitas' own bnn_pynq TFC and CNV (CI sizes) and odd shapes (zero-padded integer input, stride 2,
1x1 and even kernels, max-pool, per-channel and out-of-range shifts, negative BatchNorm scales,
non-square inputs, tiny heads with output ties). Each is exported to QONNX and built by
``flow/build.py --onnx`` as a user would; the full-size networks are in bench/compile_any.py.

Checked per network: QONNX = streamlined = folded graph = RTL simulation (tie-aware at the output,
output ties counted), Brevitas' own logits accept the labels the RTL reproduces, and the folding
search's cycle model equals the cycles per frame measured in RTL simulation. Bad graphs: one line.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from brevitas_examples.bnn_pynq.models.FC import FC

from brevitas_models.corpus import PixelInput, corpus_network
from brevitas_models.random_bn import randomize_batchnorm
from flow.build import main
from flow.compiler.export import export_model, torch_forward
from flow.compiler.ties import acceptable_labels, label_agrees
from flow.data.builtin import fashion_mnist_dir
from flow.rtl_backend.fifo import TOLERANCE as FIFO_TOLERANCE

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
IMAGES = 8

# (corpus name, --target-fps); odd-even-kernel is built for "max" below
CORPUS = [
    ("tfc-small", 200_000),
    ("cnv-small", 20_000),
    ("odd-pad-stride", 50_000),
    ("odd-mlp-big-shift", 100_000),
]


def build(capsys, onnx, out, *extra):
    args = ["--board", "Pynq-Z2", "--onnx", onnx, "--verify-images", IMAGES, "--output", out, *extra]
    code = main([str(a) for a in args])
    captured = capsys.readouterr()  # the result table is on stdout, progress and errors on stderr
    return code, captured.out + captured.err


def check_network(tmp_path, capsys, name: str, fps) -> dict:
    """Build corpus network ``name`` for ``--target-fps fps`` and check every stage; returns the summary."""
    model, shape = corpus_network(name)
    export_model(model, shape, tmp_path / f"{name}.onnx")
    code, err = build(capsys, tmp_path / f"{name}.onnx", tmp_path / "out", "--target-fps", fps)
    assert code == 0, err
    summary = json.loads((tmp_path / "out" / "report" / "summary.json").read_text())
    v, r, t = summary["verification"], summary["rtlsim"], summary["target"]
    assert v["images"] == IMAGES and v["reference"] == "qonnx"
    assert v["qonnx_vs_streamlined"] == v["qonnx_vs_finn"] == v["qonnx_vs_rtl"] == IMAGES
    assert r["matches"] == r["equal_to_reference"] == IMAGES  # RTL = folded integer graph, exactly
    assert isinstance(v["output_ties"], int)
    # Brevitas itself (torch, float32) accepts the labels the hardware reproduces
    images = np.load(tmp_path / "out" / "deploy" / "test_images.npy").astype(np.float32)
    logits = torch_forward(model, images.reshape(IMAGES, *shape))
    expected = np.load(tmp_path / "out" / "deploy" / "expected_outputs.npy").reshape(IMAGES, -1)[:, 0]
    assert label_agrees(acceptable_labels(logits), expected).all()
    # the folding search's cycle model is what RTL simulation measures with deep FIFOs (FINN's
    # sliding-window formula counts its whole buffer fill, part of which overlaps the previous frame: an
    # upper bound); FIFO sizing then keeps that interval within its tolerance
    deep = r["fifo_sizing"]["deep_cycles_per_frame"]
    assert deep <= t["model_cycles_per_frame"] <= 1.03 * deep
    assert r["cycles_per_frame"] <= deep * FIFO_TOLERANCE
    assert t["reached"] or t["limit"]  # a missed target names what limits it
    summary["stderr"] = err
    return summary


@pytest.mark.parametrize("name, fps", CORPUS, ids=[c[0] for c in CORPUS])
def test_network_from_elsewhere_compiles_to_bit_exact_rtl(tmp_path, capsys, name, fps):
    summary = check_network(tmp_path, capsys, name, fps)
    assert summary["target"]["reached"] == (summary["rtlsim"]["fps"] >= fps)


def test_target_max_is_the_fastest_folding_that_fits(tmp_path, capsys):
    """Even kernel, max-pool after a binary activation, a 2-class head; folded for the maximum."""
    summary = check_network(tmp_path, capsys, "odd-even-kernel", "max")
    t = summary["target"]
    assert t["target_fps"] == "max" and t["reached"] and t["cost_model"]["fits"]
    assert summary["rtlsim"]["fps"] > 100_000  # far beyond the default target on this small network
    assert "max (fastest that fits)" in summary["stderr"]


def _softmax_over_the_batch():
    """softmax over the batch axis of one image: every output 1.0, no label to compute (zero-padded
    bipolar maps and 2-bit weights, refused here before, compile now: tests/test_compile_any_generated.py,
    docs/compile_any.md)."""
    torch.manual_seed(0)
    return torch.nn.Sequential(PixelInput(randomize_batchnorm(FC(10, 1, 1, 1, 1, [16, 16]), spread=4)),
                               torch.nn.Softmax(dim=0))  # fmt: skip


@pytest.mark.parametrize(
    "make, shape, fragments",
    [(_softmax_over_the_batch, (1, 28, 28), ("'Softmax_0' (Softmax) normalises over an axis other than", "export"))],
    ids=["softmax-over-batch"],
)
def test_unmappable_graph_gives_one_line(tmp_path, capsys, make, shape, fragments):
    export_model(make().eval(), shape, tmp_path / "bad.onnx")
    code, err = build(capsys, tmp_path / "bad.onnx", tmp_path / "out")
    assert code == 2 and "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ") and all(f in last for f in fragments), last
    assert not (tmp_path / "out").exists()


def test_verification_data_follows_the_checkpoint_or_dataset(tmp_path, capsys):
    """A checkpoint trained on digits is verified on digits' test images and labels by default
    (summary and deploy package say so); a named data set that cannot load is one error line."""
    from brevitas_models.checkpoint import save_checkpoint
    from brevitas_models.registry import build_model
    from flow.data.builtin import load_split

    kwargs = {"in_features": 64, "hidden": [16], "shift": 0.2}
    model = randomize_batchnorm(build_model("xnor_mlp", **kwargs), spread=3)
    save_checkpoint(tmp_path / "m.pt", "xnor_mlp", kwargs, model, {"dataset": "digits"})
    common = ["--board", "Pynq-Z2", "--model", "xnor_mlp", "--checkpoint", tmp_path / "m.pt", "--verify-images", 30]
    code = main([str(a) for a in [*common, "--skip-rtlsim", "--output", tmp_path / "o"]])
    err = capsys.readouterr().err
    assert code == 0, err
    v = json.loads((tmp_path / "o" / "report" / "summary.json").read_text())["verification"]
    assert v["source"] == "digits" and v["brevitas_vs_finn"] == 30 and "reference" in v["accuracy"]
    labels = np.load(tmp_path / "o" / "deploy" / "test_labels.npy")
    assert np.array_equal(labels, load_split("digits", train=False).labels[:30].numpy())
    code = main([str(a) for a in [*common, "--dataset", "mnist", "--skip-rtlsim", "--output", tmp_path / "p"]])
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2 and last.startswith("error: ") and "mnist needs --data-dir" in last


@pytest.mark.skipif(fashion_mnist_dir() is None, reason="needs Debian's dataset-fashion-mnist")
def test_the_network_of_the_docs_trains_exports_and_builds(tmp_path, capsys):
    """docs/compile_any.md's first code block, run as a user would, then its build command."""
    text = (ROOT / "docs" / "compile_any.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    (tmp_path / "tiny_bnn.py").write_text(code)
    proc = subprocess.run([sys.executable, "tiny_bnn.py"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "--onnx tiny_bnn.onnx --dataset fashion-mnist" in text
    # the RTL of such MLPs is simulated by the other tests here; this one checks the page's code and command
    code, err = build(
        capsys, tmp_path / "tiny_bnn.onnx", tmp_path / "out", "--dataset", "fashion-mnist", "--skip-rtlsim"
    )
    assert code == 0, err
    v = json.loads((tmp_path / "out" / "report" / "summary.json").read_text())["verification"]
    assert v["source"] == "fashion-mnist" and v["stages"] == {"streamlined": IMAGES, "finn": IMAGES, "rtl": None}
    assert v["accuracy"]["reference"] > 0.3  # trained a little on raw pixels, verified on raw pixels
