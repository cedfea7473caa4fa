"""The bitstream step without Vivado: skipped with the reason, and an error under --require-bitstream;
with Vivado (`vivado` marker, skipped elsewhere): our Tcl flow and FINN's HLS backend build a bitstream."""

import os
import shutil
from pathlib import Path

import pytest

from flow.build import main
from flow.core import finn_env
from flow.core.boards import get_board
from flow.vivado.build_bitstream import run_vivado
from flow.vivado.finn_hls import run_finn_hls

pytestmark = pytest.mark.slow


@pytest.mark.skipif(finn_env.vivado_available(), reason="checks the behaviour without Vivado")
def test_require_bitstream_without_vivado_fails_cleanly(tmp_path, capsys):
    out = tmp_path / "o"
    code = main(
        [
            "--board",
            "Pynq-Z2",
            "--model",
            "xnor_mlp",
            "--model-kwargs",
            '{"hidden": [16]}',
            "--verify-images",
            "3",
            "--require-bitstream",
            "--output",
            str(out),
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2
    assert err.startswith("error: --require-bitstream") and "XILINX_VIVADO" in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.vivado
def test_real_vivado_builds_bitstream(tmp_path):
    """Needs Vivado + board files; the RTL comes from a real build (SHIFTBNN_VIVADO_BUILD=OUTPUT)."""
    build = os.environ.get("SHIFTBNN_VIVADO_BUILD")
    if not build:
        pytest.skip("set SHIFTBNN_VIVADO_BUILD to a build folder with rtl/ to run Vivado on it")
    out = tmp_path / "b"
    shutil.copytree(Path(build) / "rtl", out / "rtl")
    rec = run_vivado(out, "Pynq-Z2")
    assert rec["status"] == "built", rec["reason"]


@pytest.mark.vivado
def test_finn_hls_builds(tmp_path):
    """Needs Vivado + Vitis HLS; the folded graph comes from a build (SHIFTBNN_VIVADO_BUILD=OUTPUT)."""
    build = os.environ.get("SHIFTBNN_VIVADO_BUILD")
    if not build:
        pytest.skip("set SHIFTBNN_VIVADO_BUILD to a build folder to run FINN's backend on it")
    shutil.copytree(Path(build) / "model", tmp_path / "model")
    record = run_finn_hls(tmp_path, get_board("Pynq-Z2"))
    assert record["status"] == "built" and (tmp_path / record["bitfile"]).is_file()
