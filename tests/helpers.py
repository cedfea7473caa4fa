"""Helpers shared by several test modules (fixtures shared by them are in tests/conftest.py; helpers the
benchmarks use too live in the packages, e.g. brevitas_models/random_bn.py).

- The Vivado stand-ins: ``run_stub`` runs a generated Tcl under tests/vivado_stub.tcl (tclsh, recording
  every Vivado command); ``fake_vivado`` is an $XILINX_VIVADO whose ``vivado`` does that and writes
  sample reports (UTIL, TIMING, HIER).
- ``onnx_model``: a one-input, one-output ONNX graph of the given nodes, constants and tensor types, with
  shapes and types inferred (the transformation tests build their small graphs with it).
"""

import shutil
import subprocess
import textwrap
from pathlib import Path

STUB = Path(__file__).resolve().parent / "vivado_stub.tcl"
TCLSH = shutil.which("tclsh")
UTIL = textwrap.dedent("""\
    | Slice LUTs*             | 12345 |     0 |          0 |     53200 | 23.20 |
    | Slice Registers         |  2345 |     0 |          0 |    106400 |  2.20 |
    | Block RAM Tile          |  12.5 |     0 |          0 |       140 |  8.93 |
    | DSPs                    |     0 |     0 |          0 |       220 |  0.00 |
""")  # fmt: skip
TIMING = textwrap.dedent("""\
    | Design Timing Summary
    | ---------------------
        WNS(ns)      TNS(ns)  TNS Failing Endpoints  TNS Total Endpoints      WHS(ns)      THS(ns)
        -------      -------  ---------------------  -------------------      -------      -------
          1.234        0.000                      0                 4242        0.051        0.000
""")  # fmt: skip

HIER = textwrap.dedent("""\
    +--------------------+-----------+------------+------------+------+--------+--------+--------------+
    |      Instance      |   Module  | Total LUTs | Logic LUTs |  FFs | RAMB36 | RAMB18 | DSP48 Blocks |
    +--------------------+-----------+------------+------------+------+--------+--------+--------------+
    | shiftbnn_wrapper   |     (top) |       4000 |       3900 | 5000 |      2 |      3 |            0 |
    |   shiftbnn_i       |  shiftbnn |       4000 |       3900 | 5000 |      2 |      3 |            0 |
    |     accel          |   accel_0 |       3000 |       2950 | 3000 |      2 |      3 |            0 |
    |       inst         |   dma_top |       3000 |       2950 | 3000 |      2 |      3 |            0 |
    |         core       |       top |       2990 |       2940 | 2980 |      2 |      3 |            0 |
    |           mvau_0   |  bnn_mvau |       2000 |       2000 | 1500 |      1 |      1 |            0 |
    |         tlast      | tlast_gen |         10 |         10 |   20 |      0 |      0 |            0 |
    |     axi_dma_0      |   axi_dma |        900 |        850 | 1500 |      0 |      0 |            0 |
    +--------------------+-----------+------------+------------+------+--------+--------+--------------+
""")  # fmt: skip


def run_stub(tcl: Path) -> list[list[str]]:
    calls = tcl.parent / "calls.txt"
    proc = subprocess.run([TCLSH, str(STUB), str(tcl), str(calls)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return [line.split("\x1f") for line in calls.read_text().splitlines()]


def fake_vivado(root: Path, fail: bool = False) -> Path:
    """$XILINX_VIVADO/bin/vivado that runs the Tcl under the stub, writes a log and sample reports.
    The folder is named like an installation (<root>/Vivado/2024.2): FINN parses the version from it."""
    root = root / "Vivado" / "2024.2"
    exe = root / "bin" / "vivado"
    exe.parent.mkdir(parents=True)
    body = (
        'echo "ERROR: [Synth 8-439] module \'shiftbnn_top\' not found" > "$log"; exit 1'
        if fail
        else f'{TCLSH} {STUB} "$src" calls.txt > "$log" || exit 1\n'
        f"cp {root}/util.rpt ../report/vivado_utilization.rpt && cp {root}/timing.rpt ../report/vivado_timing.rpt"
        f" && cp {root}/hier.rpt ../report/vivado_utilization_hier.rpt"
    )
    (root / "hier.rpt").write_text(HIER)
    (root / "util.rpt").write_text(UTIL)
    (root / "timing.rpt").write_text(TIMING)
    exe.write_text(
        "#!/bin/bash\n"
        'while [ $# -gt 0 ]; do case "$1" in -log) log=$2; shift;; -source) src=$2; shift;; esac; shift; done\n'
        + body + "\n"
    )  # fmt: skip
    exe.chmod(0o755)
    return root


def onnx_model(nodes, x_shape, y_shape, inits, x_dtype="FLOAT32", dtypes=None):
    """Input ``x`` and output ``y`` (float tensors of the given shapes); ``inits``: constants (int64 ones,
    e.g. a Reshape's shape, stay int64; the rest float32); ``dtypes``: FINN datatypes of named tensors."""
    import numpy as np
    from onnx import TensorProto, helper
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.infer_datatypes import InferDataTypes
    from qonnx.transformation.infer_shapes import InferShapes

    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)],
    )
    model = ModelWrapper(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))
    for name, value in inits.items():
        value = np.asarray(value)
        model.set_initializer(name, value if value.dtype == np.int64 else value.astype(np.float32))
    model.set_tensor_datatype("x", DataType[x_dtype])
    for name, dt in (dtypes or {}).items():
        model.set_tensor_datatype(name, DataType[dt])
    return model.transform(InferShapes()).transform(InferDataTypes())
