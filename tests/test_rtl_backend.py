"""RTL backend: the default network as one generated SystemVerilog top, simulated with Verilator on
1,000 Fashion-MNIST images bit-exactly against Brevitas, plus the contract of docs/rtl_interface.md
(folder layout, top ports, top.json, harness CLI) and the error paths.

The default network is built once per session (the ``default_build`` fixture of tests/conftest.py,
``flow/build.py --board Pynq-Z2``, ~2-3 min on 2 cores); the tests reuse its rtl/ and its simulator binary.
"""

import json
import re
import subprocess

import numpy as np
import pytest
from qonnx.core.modelwrapper import ModelWrapper

from flow.data.builtin import fashion_mnist_dir
from flow.rtl_backend.emit import generate_rtl
from flow.rtl_backend.graph import RtlGraphError, rtl_graph

needs_data = pytest.mark.skipif(fashion_mnist_dir() is None, reason="needs Debian's dataset-fashion-mnist")


@pytest.mark.slow
@needs_data
def test_default_network_rtl_bit_exact_on_1000_images(default_build):
    summary = json.loads((default_build / "report" / "summary.json").read_text())
    v, r = summary["verification"], summary["rtlsim"]
    assert v["images"] == 1000 and v["brevitas_vs_rtl"] == 1000 == r["matches"] == r["images"]
    # steady state reaches FINN's analytical bottleneck (sized FIFOs: no stage stalls the pipeline)
    assert r["cycles_per_frame"] <= summary["estimate"]["cycles_per_frame"] * 1.02
    assert r["fps"] == pytest.approx(summary["clock_mhz"] * 1e6 / r["cycles_per_frame"])
    assert 0 < r["latency_cycles"] < 10 * r["cycles_per_frame"]
    assert r["fifo_sizing"]["deep_cycles_per_frame"] == pytest.approx(r["cycles_per_frame"], rel=0.02)
    assert r["stall_run"]["matches_free_run"] == r["stall_run"]["images"]
    assert set(r["fifo_depths"].values()) and min(r["fifo_depths"].values()) >= 2
    assert {s["name"]: s["status"] for s in summary["steps"]}["rtlsim"] == "ok"


@pytest.mark.slow
def test_rtl_folder_follows_the_contract(default_build):
    rtl = default_build / "rtl"
    files = (rtl / "filelist.f").read_text().split()
    assert files[-1] == "shiftbnn_top.sv" and all("/" not in f and (rtl / f).is_file() for f in files)
    top = json.loads((rtl / "top.json").read_text())
    keys = {"top", "in_width", "out_width", "in_elem_bits", "in_elems_per_beat", "in_beats_per_image"}
    keys |= {"in_datatype", "in_shape_nhwc", "out_elem_bits", "out_elems_per_beat", "out_beats_per_image"}
    assert keys | {"out_datatype", "out_shape", "clock_mhz"} <= set(top)
    assert top["in_width"] % 8 == 0 and top["out_width"] % 8 == 0
    assert top["in_shape_nhwc"] == [1, 28, 28, 1] and top["in_datatype"] == "UINT8"
    assert top["in_beats_per_image"] * top["in_elems_per_beat"] == 784 and top["out_shape"] == [1, 1]
    sv = (rtl / "shiftbnn_top.sv").read_text()
    for port in ("ap_clk", "ap_rst_n", "s_axis_tdata", "s_axis_tvalid", "s_axis_tready"):
        assert re.search(rf"\b{port}\b", sv)
    assert re.search(rf"input\s+logic\s+\[{top['in_width'] - 1}:0\]\s+s_axis_tdata", sv)
    assert re.search(rf"output\s+logic\s+\[{top['out_width'] - 1}:0\]\s+m_axis_tdata", sv)
    # every MVAU is shiftbnn's bnn_mvau with its weights in a memory file beside the sources
    assert sv.count("bnn_mvau #(") == 4 and sv.count("bnn_labelselect #(") == 1
    for name in re.findall(r'\.WeightFile\s*\("([^"]+)"\)', sv) + re.findall(r'\.ThresholdFile\s*\("([^"]+)"\)', sv):
        assert (rtl / name).is_file()
    assert (default_build / "rtlsim" / "shiftbnn_sim").is_file()


def run_harness(build, *args):
    return subprocess.run(
        ["../rtlsim/shiftbnn_sim", *map(str, args)], cwd=build / "rtl", capture_output=True, text=True
    )


@pytest.mark.slow
def test_harness_cli_stalls_and_errors(default_build, tmp_path):
    top = json.loads((default_build / "rtl" / "top.json").read_text())
    src = default_build / "rtlsim" / "run" / "in.bin"
    beat_bytes = top["in_width"] // 8 * top["in_beats_per_image"]
    data = src.read_bytes()[: 20 * beat_bytes]
    (tmp_path / "in.bin").write_bytes(data)
    ref = (default_build / "rtlsim" / "run" / "out.bin").read_bytes()[:20]
    outs = []
    for extra in ([], ["--in-valid-prob", 0.5, "--out-ready-prob", 0.3, "--seed", 3]):
        res = run_harness(
            default_build, "--input", tmp_path / "in.bin", "--output", tmp_path / "out.bin", "--images", 20,
            "--stats", tmp_path / "stats.json", *extra,
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
        outs.append((tmp_path / "out.bin").read_bytes())
        stats = json.loads((tmp_path / "stats.json").read_text())
        assert {"images", "cycles", "latency_cycles", "cycles_per_frame", "in_stall_prob"} <= set(stats)
    assert outs[0] == outs[1] == ref
    assert stats["in_stall_prob"] == pytest.approx(0.5)
    short = run_harness(default_build, "--input", tmp_path / "in.bin", "--output", tmp_path / "o", "--images", 21)
    assert short.returncode != 0 and len(short.stderr.strip().splitlines()) == 1
    assert "input file holds" in short.stderr


@pytest.mark.slow
def test_mismatch_names_first_image_and_reproduce_command(default_build):
    """A wrong reference (as a broken RTL block would give) is reported with the command to rerun."""
    from flow.core.boards import get_board
    from flow.rtl_backend.design import Design, simulate
    from hw.golden.stream import unpack_bytes as unpack

    top = json.loads((default_build / "rtl" / "top.json").read_text())
    raw = np.fromfile(default_build / "rtlsim" / "run" / "in.bin", dtype=np.uint8)
    raw = raw.reshape(-1, top["in_width"] // 8)[: 5 * top["in_beats_per_image"]]
    inputs = unpack(raw, top["in_elem_bits"], top["in_elems_per_beat"]).reshape(5, -1)
    labels = np.fromfile(default_build / "rtlsim" / "run" / "out.bin", dtype=np.uint8)[:5].astype(np.int64)
    wrong = labels.copy()
    wrong[3] = (wrong[3] + 1) % 10
    design = Design(None, default_build / "rtl", default_build / "rtlsim", top, None)
    assert get_board("Pynq-Z2").clock_mhz == top["clock_mhz"]
    exe, layers = default_build / "rtlsim" / "shiftbnn_sim", default_build / "model" / "folded_generic.onnx"
    summary, message = simulate(design, inputs, wrong, exe=exe, layers=layers)
    assert summary["matches"] == 4 and summary["first_mismatch"] == 3
    assert "first differing image #3" in message and "reproduce: cd " in message and "shiftbnn_sim" in message
    dump = np.load(default_build / "rtlsim" / "expected_layers_image3.npz")
    assert [k.split(":")[0] for k in dump.files][:2] == ["MVAU_hls_0", "MVAU_hls_1"]
    assert int(dump[dump.files[-1]].reshape(-1)[0]) == labels[3]  # the last layer's output is the label


@pytest.mark.slow
def test_node_without_rtl_is_a_clear_error(default_build, tmp_path):
    model = ModelWrapper(str(default_build / "model" / "folded.onnx"))
    graph = rtl_graph(model, "xc7z020clg400-1")
    node = next(n for n in graph.graph.node if n.op_type == "LabelSelect_hls")
    node.op_type = "StreamingMaxPool_hls"
    with pytest.raises(RtlGraphError, match=r"node 'LabelSelect_hls_0' \(op StreamingMaxPool_hls\) has no RTL"):
        generate_rtl(graph, tmp_path / "rtl", "xc7z020clg400-1", 100.0, [1, 28, 28, 1])


def compile_to_folded(model, shape, workdir):
    """The build's compile steps without its verification (for networks checked here against Brevitas)."""
    from flow.builder.compile import compile_config, run_compile_steps
    from flow.compiler.export import export_model
    from flow.core.boards import get_board

    (workdir / "model").mkdir(parents=True)
    cfg = compile_config(get_board("Pynq-Z2"), workdir, target_fps=20000)
    state = run_compile_steps(export_model(model, shape, workdir / "model" / "qonnx.onnx"), cfg)
    return state.model, state.parent


@pytest.mark.slow
@pytest.mark.parametrize(
    "name,kwargs,images",
    [
        ("xnor_mlp", {"hidden": [64, 32], "shift": 0.25}, 8),
        ("xnor_cnv", {"in_channels": 1, "in_size": 28, "width": 0.25, "shift": 0.2}, 4),
    ],
)
def test_zoo_xnor_model_rtl_equals_brevitas(name, kwargs, images, tmp_path):
    """Every layer type of the zoo's XNOR models in RTL (CNV: sliding window, 8-bit first layer, max
    pool), bit-exact against Brevitas' labels on random images."""
    from brevitas_models.random_bn import randomize_batchnorm
    from brevitas_models.registry import build_model, input_shape
    from flow.compiler.export import torch_forward
    from flow.compiler.verify import labels_of
    from flow.core.boards import get_board
    from flow.rtl_backend import design as rtl_design

    model = randomize_batchnorm(build_model(name, **kwargs), seed=1, spread=10)
    shape = input_shape(name, kwargs)
    folded, parent = compile_to_folded(model, shape, tmp_path / "build")
    x = np.random.default_rng(0).integers(0, 256, size=(images, *shape)).astype(np.float32)
    reference = labels_of(torch_forward(model, x))
    inputs = rtl_design.accelerator_inputs(parent, x)
    design = rtl_design.generate(folded, parent, tmp_path / "build", get_board("Pynq-Z2"), inputs)
    summary, message = rtl_design.simulate(design, inputs, reference)
    assert message is None and summary["matches"] == images
    ops = {n.op_type for n in design.graph.graph.node}
    if name == "xnor_cnv":
        assert {"ConvolutionInputGenerator_rtl", "ShiftbnnPool_rtl", "MVAU_hls"} <= ops


@pytest.mark.fast
def test_synth_counts_and_budget_say_by_how_much():
    from flow.core.boards import get_board
    from flow.rtl_backend.synth import count_cells, fit

    cells = {"LUT6": 50000, "LUT2": 5000, "RAM64M": 10, "SRLC32E": 4, "FDRE": 900, "RAMB36E1": 150}
    cells |= {"RAMB18E1": 3, "DSP48E1": 2, "CARRY4": 7}
    counts = count_cells(cells)
    assert counts["lut"] == 55000 + 40 + 4 and counts["lut_memory"] == 44 and counts["ff"] == 900
    assert counts["bram36"] == 151.5 and counts["dsp"] == 2
    result = fit(counts, get_board("Pynq-Z2"))
    assert not result["fits"] and result["over_budget"] == {"lut": 55044 - 53200, "bram36": 11.5}
    assert fit({"lut": 1, "ff": 1, "bram36": 0, "dsp": 0}, get_board("Pynq-Z2"))["fits"]
