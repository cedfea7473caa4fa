"""OUTPUT/deploy/: everything the board needs, nothing that needs onnx or torch.

deploy/
  driver.py            the board driver (numpy + pynq), also a CLI
  top.json             stream formats of the generated top (copied from rtl/top.json)
  deploy.json          model input shape, clock, bitstream and DMA names, simulator location
  <name>.bit, .hwh     when Vivado built them (written there by the Vivado Tcl)
  weights/             the weight and threshold memory files of the RTL (*.dat, $readmemh)
  runtime_weights.bin  when MVAUs load their weights at run time (top.json runtime_weights): the uint32
                       beats the driver streams into s_axis_wgt once after the bitstream is loaded
  test_images.npy      test images in the model's input layout, with test_labels.npy
  README.md            how to run it on the board
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

DRIVER = Path(__file__).resolve().parent / "driver.py"
DEFAULT_NAME = "shiftbnn"
DMA_NAME = "axi_dma_0"
WEIGHT_DMA_NAME = "axi_dma_weights"  # MM2S into the top's s_axis_wgt (designs with run-time weights)


class DeployError(RuntimeError):
    """The build folder lacks what the deploy package needs."""


def make_deploy_package(
    output_dir: Path,
    summary: dict,
    images: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    name: str = DEFAULT_NAME,
    location: Path | None = None,
) -> Path:
    """Write OUTPUT/deploy/ from OUTPUT/rtl/ and the build summary; returns the folder.

    ``images``/``labels``: the test images (model input layout, e.g. N x 1 x 28 x 28 UINT8 values)
    saved as test_images.npy / test_labels.npy for the board. ``location``: where the build folder will
    live (the README's commands name it; default ``output_dir``). Idempotent; an existing bitstream in
    deploy/ is kept.
    """
    output_dir = Path(output_dir)
    rtl, deploy = output_dir / "rtl", output_dir / "deploy"
    top = _copy_design(rtl, deploy)
    meta = _deploy_meta(summary, top, name, deploy)
    if top.get("runtime_weights"):
        from hw.golden.mem_files import runtime_weight_stream

        stream = runtime_weight_stream(rtl, top["runtime_weights"])
        stream.astype("<u4").tofile(deploy / "runtime_weights.bin")
        meta["runtime_weights"] = {"file": "runtime_weights.bin", "beats": int(stream.size), "dma": WEIGHT_DMA_NAME}
    _save_test_data(output_dir, deploy, meta, images, labels)
    (deploy / "deploy.json").write_text(json.dumps(meta, indent=2) + "\n")
    (deploy / "README.md").write_text(board_readme(meta, top, Path(location or output_dir)))
    return deploy


def _copy_design(rtl: Path, deploy: Path) -> dict:
    """The driver, top.json and the weight files into ``deploy`` (weights/ replaced: this tool wrote
    it); returns top.json's contents."""
    top_json = rtl / "top.json"
    if not top_json.is_file():
        raise DeployError(f"{top_json} not found: the deploy package needs the generated RTL")
    deploy.mkdir(parents=True, exist_ok=True)
    shutil.copy2(DRIVER, deploy / "driver.py")
    shutil.copy2(top_json, deploy / "top.json")
    weights = deploy / "weights"
    if weights.exists():
        shutil.rmtree(weights)
    weights.mkdir()
    for dat in sorted(rtl.glob("*.dat")):
        shutil.copy2(dat, weights / dat.name)
    return json.loads(top_json.read_text())


def _deploy_meta(summary: dict, top: dict, name: str, deploy: Path) -> dict:
    """deploy.json: what the driver needs to run the design (board, shapes, clock, DMA, files)."""
    bitfile = f"{name}.bit"
    return {
        "name": name,
        "board": summary.get("board"),
        "part": summary.get("part"),
        "board_part": summary.get("board_part"),
        "model": summary.get("model"),
        "shift": summary.get("shift"),
        "input_shape": summary.get("input_shape") or top["in_shape_nhwc"],
        "clock_mhz": summary.get("clock_mhz", top.get("clock_mhz", 100.0)),
        "bitfile": bitfile,
        "dma": DMA_NAME,
        "sim": {"binary": "../rtlsim/shiftbnn_sim", "rtl_dir": "../rtl"},
        "bitstream_built": (deploy / bitfile).is_file(),
        "classes": summary.get("classes"),  # label index -> class name, where the data set has names
        "tcl": (summary.get("bitstream") or {}).get("tcl"),  # the Vivado script, relative to the build folder
    }


def _save_test_data(output_dir: Path, deploy: Path, meta: dict, images, labels) -> None:
    """test_images.npy / test_labels.npy, and expected_outputs.npy: what the RTL computes for the test
    images (the board's outputs must equal these bit for bit), where the simulator was built."""
    if images is not None:
        images = np.asarray(images)
        np.save(deploy / "test_images.npy", images.astype(_image_dtype(images)))
        meta["test_images"] = int(images.shape[0])
    if labels is not None:
        np.save(deploy / "test_labels.npy", np.asarray(labels).astype(np.int64))
    if images is not None and (output_dir / "rtlsim" / "shiftbnn_sim").is_file():
        from flow.deploy.driver import Accelerator

        (deploy / "deploy.json").write_text(json.dumps(meta, indent=2) + "\n")  # the driver reads it
        np.save(deploy / "expected_outputs.npy", Accelerator(deploy, backend="sim").execute(images))
        meta["expected_outputs"] = "RTL simulation (rtlsim/shiftbnn_sim) of the test images"


def _image_dtype(images: np.ndarray):
    """Smallest integer dtype holding the images (uint8 for pixels); floats must be integral."""
    if images.size and np.any(images != np.round(images)):
        raise DeployError("test images must hold integer values")
    lo, hi = (int(images.min()), int(images.max())) if images.size else (0, 0)
    for dt in (np.uint8, np.int8, np.int16, np.int32):
        info = np.iinfo(dt)
        if info.min <= lo and hi <= info.max:
            return dt
    return np.int64


def board_readme(meta: dict, top: dict, build_dir: Path) -> str:
    bit, board = meta["bitfile"], meta["board"]
    shape = " x ".join(map(str, meta["input_shape"][1:]))
    return f"""# shiftbnn on {board} ({meta["model"]}, shift {meta["shift"]})

{_bitstream_steps(meta, build_dir)}

## 2. On the board (a PYNQ image)
With `{bit}` and `{bit[:-4]}.hwh` in this folder, copy it to the board and run the driver there:

    scp -r {build_dir}/deploy xilinx@pynq:~/shiftbnn
    ssh xilinx@pynq
    cd ~/shiftbnn
    sudo -E python3 driver.py                # accuracy on test_images.npy and throughput
    sudo -E python3 driver.py --json --limit 100

From Python (a notebook on the board):

    from driver import Accelerator
    acc = Accelerator(".")                   # loads {bit}, finds the DMA `{meta["dma"]}`
    labels = acc.execute(images)             # images: N x {shape}, raw UINT8 pixel values
    print(acc.throughput_test())

The driver needs only numpy and pynq (both on the PYNQ image); it does not need onnx or torch.
`expected_outputs.npy` (where present) holds what the RTL simulation computed for the test images: the
board's outputs must equal it bit for bit.{_class_names(meta)}

## Without a board
In the build folder (it has `rtl/` and `rtlsim/shiftbnn_sim` beside `deploy/`) the same driver runs
the Verilator model of the same RTL:

    cd {build_dir} && python deploy/driver.py --backend sim

## Stream format
Input: per image {top["in_beats_per_image"]} beats of {top["in_width"]} bits, {top["in_elems_per_beat"]} x
{top["in_datatype"]} elements per beat in NHWC order {top["in_shape_nhwc"]}, element 0 in the least
significant bits. Output: per image {top["out_beats_per_image"]} beat(s) of {top["out_width"]} bits, the top-K
label indices ({top["out_datatype"]}). The DMA transfer's TLAST marks the last input beat; the design
raises TLAST on the output after the same number of images.

## Files
- `weights/`: the RTL's weight and threshold memories (`$readmemh` files), for reference.
- `top.json`, `deploy.json`: stream formats and metadata the driver reads.
"""


def _bitstream_steps(meta: dict, build_dir: Path) -> str:
    """Step 1 of the README: the bitstream is here, or the exact commands that make it."""
    bit = meta["bitfile"]
    if meta["bitstream_built"]:
        return f"## 1. Bitstream\n`{bit}` and `{bit[:-4]}.hwh` are in this folder (built by Vivado with the build)."
    tcl = meta.get("tcl") or "vivado/build.tcl"
    part = meta.get("board_part") or meta["board"]
    return f"""## 1. Bitstream (on a machine with Vivado)
The bitstream was not built here (no Vivado on the build machine). The build wrote `{tcl}`: the
Zynq block design (PS, AXI DMA, this accelerator) and the synthesis/implementation run, all paths
relative to the build folder. On a machine with Vivado, with the whole build folder copied there
(`rtl/`, `vivado/`, `deploy/`):

    source /tools/Xilinx/Vivado/<version>/settings64.sh
    export SHIFTBNN_BOARD_FILES=/path/to/board_files   # if this Vivado lacks the board files of {part}
    cd {build_dir}
    vivado -mode batch -source {tcl}                    # 20-60 min; writes deploy/{bit} + .hwh, report/vivado_*.rpt

(With this repository installed there, `python -m flow.vivado.build_bitstream {build_dir} --board {meta["board"]}`
does the same and checks timing; Pynq-Z1/Z2 and Ultra96 board files are not shipped with Vivado, FINN's
`finn deps update` fetches them.)"""


def _class_names(meta: dict) -> str:
    classes = meta.get("classes")
    if not classes:
        return ""
    return "\n\nLabels are class indices: " + ", ".join(f"{i} = {name}" for i, name in enumerate(classes)) + "."
