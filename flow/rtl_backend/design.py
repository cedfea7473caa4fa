"""The RTL steps of a build: generate rtl/ (with sized FIFOs), simulate it bit-exactly, synthesize it.

``generate(folded, parent, workdir, board, inputs)`` writes ``workdir/rtl`` and returns a ``Design``;
``simulate(design, inputs, reference)`` builds ``workdir/rtlsim/shiftbnn_sim`` and returns the
``rtlsim`` block of report/summary.json. Inputs are accelerator inputs, i.e. the images after the
dataflow parent graph's software prefix (``accelerator_inputs``).
"""

from __future__ import annotations

import copy
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper

from flow.compiler.export import execute_graph
from flow.compiler.ties import label_agrees
from flow.rtl_backend.emit import generate_rtl
from flow.rtl_backend.fifo import size_fifos
from flow.rtl_backend.graph import rtl_graph
from flow.rtl_backend.sim import build_sim, run_sim

SIZING_IMAGES = 8
STALL_IMAGES = 50  # a second run with random input stalls and output backpressure


@dataclass
class Design:
    graph: ModelWrapper
    rtl_dir: Path
    sim_dir: Path
    top: dict
    fifo_sizing: dict | None


def accelerator_inputs(parent: ModelWrapper, images: np.ndarray) -> np.ndarray:
    """Run the parent graph's software prefix (e.g. NCHW->NHWC) and flatten to stream order."""
    (sdp,) = parent.get_nodes_by_op_type("StreamingDataflowPartition")
    tensor = sdp.input[0]
    if tensor == parent.graph.input[0].name:
        return np.asarray(images).reshape(len(images), -1).astype(np.int64)
    prefix = copy.deepcopy(parent)
    shape = prefix.get_tensor_shape(tensor)
    prefix.graph.node.remove(next(n for n in prefix.graph.node if n.op_type == "StreamingDataflowPartition"))
    for info in [v for v in prefix.graph.value_info if v.name == tensor]:
        prefix.graph.value_info.remove(info)
    del prefix.graph.output[:]
    prefix.graph.output.append(helper.make_tensor_value_info(tensor, TensorProto.FLOAT, shape))
    return execute_graph(prefix, images, batch=250).reshape(len(images), -1).astype(np.int64)


def nhwc_shape(parent: ModelWrapper) -> list[int]:
    """The network input as NHWC (driver side): NCHW images are transposed by the prefix."""
    shape = list(parent.get_tensor_shape(parent.graph.input[0].name))
    return [shape[0], shape[2], shape[3], shape[1]] if len(shape) == 4 else shape


def generate(folded, parent, workdir: Path, board, inputs: np.ndarray | None) -> Design:
    """rtl/ for the folded graph; FIFOs sized by simulation when ``inputs`` are given."""
    graph = rtl_graph(folded, board.part)
    sim_dir = workdir / "rtlsim"
    sizing = None
    if inputs is not None:
        sizing_dir = sim_dir / "fifo_sizing"
        sizing = size_fifos(graph, sizing_dir, board.part, board.clock_mhz, nhwc_shape(parent), inputs[:SIZING_IMAGES])
        shutil.rmtree(sizing_dir, ignore_errors=True)
    top = generate_rtl(graph, workdir / "rtl", board.part, board.clock_mhz, nhwc_shape(parent))
    return Design(graph, workdir / "rtl", sim_dir, top, sizing)


def simulate(
    design: Design,
    inputs: np.ndarray,
    reference: np.ndarray,
    exe: Path | None = None,
    layers: Path | None = None,
    acceptable: np.ndarray | None = None,
):
    """Build the simulator (unless ``exe`` is given), run every image, compare the top-1 label with
    ``reference`` (the integer graph's labels). Returns (rtlsim summary, mismatch message or None).

    ``acceptable`` (N, C): the labels within float tolerance of the float reference's maximum
    (flow/compiler/ties.py); a label in it agrees (an output tie), the exact count against
    ``reference`` is reported beside (``equal_to_reference``). ``layers``: an executable (generic-op)
    dataflow graph; on a mismatch its per-layer outputs for the first differing image are saved beside
    the simulator for debugging (``expected_layers_image<i>.npz``)."""
    top = design.top
    exe = exe or build_sim(design.rtl_dir, design.sim_dir, top)
    run = run_sim(exe, design.rtl_dir, top, inputs, design.sim_dir / "run")
    labels = run.outputs[:, 0]
    exact = labels == np.asarray(reference).reshape(-1)
    equal = exact if acceptable is None else exact | label_agrees(acceptable, labels)
    stall_n = min(STALL_IMAGES, len(inputs))
    stall = run_sim(
        exe, design.rtl_dir, top, inputs[:stall_n], design.sim_dir / "stall", 0.7, 0.7, seed=7, timeout_cycles=10**7
    )
    stall_equal = int((stall.outputs[:, 0] == labels[:stall_n]).sum())
    summary = _rtlsim_summary(design, run, equal, exact, acceptable)
    summary["stall_run"] = {
        "images": stall_n,
        "in_valid_prob": 0.7,
        "out_ready_prob": 0.7,
        "matches_free_run": stall_equal,
        "cycles": int(stall.stats["cycles"]),
    }
    message = None
    bad = np.flatnonzero(~equal)
    if len(bad):
        i = int(bad[0])
        dump = ""
        if layers is not None:
            path = dump_expected_layers(layers, inputs[i], design.sim_dir / f"expected_layers_image{i}.npz")
            dump = f"; expected per-layer outputs: {path}"
        message = (
            f"RTL simulation matched {int(equal.sum())}/{len(inputs)} images; first differing image #{i} "
            f"(expected label {int(np.asarray(reference).reshape(-1)[i])}, RTL {int(labels[i])}){dump}; "
            f"reproduce: {run.command}"
        )
    elif stall_equal != stall_n:
        message = (
            f"RTL simulation with random stalls differs from the free run on {stall_n - stall_equal}/{stall_n} "
            f"images; reproduce: {stall.command}"
        )
    return summary, message


def _rtlsim_summary(design: Design, run, equal: np.ndarray, exact: np.ndarray, acceptable) -> dict:
    """The ``rtlsim`` block of summary.json for one free run (matches, cycles, speed, FIFOs)."""
    top = design.top
    cpf = float(run.stats["cycles_per_frame"])
    return {
        "images": int(len(equal)),
        "matches": int(equal.sum()),
        "equal_to_reference": int(exact.sum()),
        "output_ties": None if acceptable is None else int((acceptable.sum(axis=1) > 1).sum()),
        "cycles_per_frame": cpf,
        "latency_cycles": int(run.stats["latency_cycles"]),
        "fps": top["clock_mhz"] * 1e6 / cpf if cpf > 0 else None,
        "clock_mhz": top["clock_mhz"],
        "total_cycles": int(run.stats["cycles"]),
        "sim_seconds": round(run.seconds, 3),
        "sim_images_per_s": round(len(equal) / run.seconds, 1),
        "fifo_depths": top["fifo_depths"],
        "fifo_sizing": design.fifo_sizing,
        "first_mismatch": int(np.flatnonzero(~equal)[0]) if not equal.all() else None,
        "command": run.command,
    }


def dump_expected_layers(graph_path: Path, accel_input: np.ndarray, path: Path) -> Path:
    """Every node's output of the generic dataflow graph for one image, keyed ``<node>:<tensor>``."""
    from qonnx.core.onnx_exec import execute_onnx

    graph = ModelWrapper(str(graph_path))
    name = graph.graph.input[0].name
    x = np.asarray(accel_input, dtype=np.float32).reshape(graph.get_tensor_shape(name))
    context = execute_onnx(graph, {name: x}, return_full_exec_context=True)
    arrays = {f"{n.name}:{n.output[0]}": context[n.output[0]] for n in graph.graph.node}
    np.savez(path, **arrays)
    return path
