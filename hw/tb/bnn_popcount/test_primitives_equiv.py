"""The compressor units as synthesis sees them (Xilinx LUT6_2 / CARRY4 primitives, flattened with yosys'
own simulation models of those cells, techlibs/xilinx/cells_sim.v) are formally equivalent (SAT) to the
behavioural models every simulation runs (shiftbnn_lut6_2 / shiftbnn_carry4 without SYNTHESIS): what
Verilator checks against the golden model is what the netlist computes."""

import json
import subprocess
import sys

import pytest

from hw.sources import RTL_DEPENDENCIES, RTL_DIR, YOSYS_PRIMITIVES

WORKER = r"""
import json, sys, tempfile
from pyosys import libyosys as ys
a = json.loads(sys.argv[1])
files, mod, params = " ".join(a["files"]), a["module"], a["params"]
tmp = tempfile.mkdtemp()
gate = ys.Design()  # synthesis view: primitives, flattened with yosys' models of the Xilinx cells
ys.run_pass(f"read_slang --top {mod} {params} {a['stubs']} {files}", gate)
ys.run_pass("read_verilog -overwrite +/xilinx/cells_sim.v", gate)
ys.run_pass(f"hierarchy -top {mod}; proc; flatten; opt_clean; rename {mod} gate", gate)
ys.run_pass(f"write_verilog -noattr {tmp}/gate.v", gate)
d = ys.Design()  # simulation view: SYNTHESIS undefined
ys.run_pass(f"read_slang -U SYNTHESIS --top {mod} {params} {files}", d)
ys.run_pass(f"rename {mod} gold; read_verilog {tmp}/gate.v; proc", d)
ys.run_pass("miter -equiv -flatten -make_outputs gold gate miter", d)
ys.run_pass("hierarchy -top miter; flatten; opt_clean", d)
ys.run_pass("sat -verify -prove trigger 0 miter", d)  # raises when a counterexample exists
print("EQUIVALENT")
"""

CASES = [("bnn_gpc", {"Inputs": 3}), ("bnn_gpc", {"Inputs": 5}), ("bnn_gpc", {"Inputs": 6}),
         ("bnn_gpc", {"Inputs": 7}), ("bnn_add3", {"Width": 1}), ("bnn_add3", {"Width": 7})]  # fmt: skip


@pytest.mark.sim
@pytest.mark.parametrize("module,params", CASES, ids=[f"{m}-{next(iter(p.values()))}" for m, p in CASES])
def test_synthesis_view_equals_simulation_view(module, params):
    files = [str(RTL_DIR / f) for f in (*RTL_DEPENDENCIES[module], f"{module}.sv")]
    args = {
        "files": files,
        "module": module,
        "params": " ".join(f"-G {k}={v}" for k, v in params.items()),
        "stubs": str(YOSYS_PRIMITIVES),
    }
    res = subprocess.run([sys.executable, "-c", WORKER, json.dumps(args)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and "EQUIVALENT" in res.stdout, (res.stdout + res.stderr)[-3000:]
