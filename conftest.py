"""Test tiers. Every test carries exactly one cost tier: `fast` (pure Python, seconds), `sim`
(Verilator/cocotb) or `slow` (builds, training; minutes); collection fails otherwise. `vivado`, `board`
and `gpu` are additional needs: those tests skip (with the reason) where the tool, board or GPU is absent."""

import os
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run (`make test` must not turn red on a new draw);
# `pytest --hypothesis-profile=explore` draws new ones, and what it finds becomes a fixed example.
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("ci")

# Tools the venv carries (the verilator link, hadolint) sit beside its python: find them even when
# pytest runs as `.venv/bin/python -m pytest` without an activated venv.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


TIERS = ("fast", "sim", "slow")


@pytest.hookimpl(tryfirst=True)  # before -m deselects: notebooks (nbmake items) join the slow tier
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
    check_one_tier(items)
    if any(item.path.suffix == ".ipynb" for item in items) and not os.environ.get("SHIFTBNN_WORKDIR"):
        # the notebooks' working folder (flow/demo.py): a temporary one, not the repository
        config.notebook_workdir = tempfile.TemporaryDirectory(prefix="shiftbnn-notebooks-")
        os.environ["SHIFTBNN_WORKDIR"] = config.notebook_workdir.name
    vivado = bool(os.environ.get("XILINX_VIVADO"))
    board = bool(os.environ.get("SHIFTBNN_BOARD"))  # set on a PYNQ board to run board tests
    for item in items:
        if "vivado" in item.keywords and not vivado:
            item.add_marker(pytest.mark.skip(reason="needs Vivado (XILINX_VIVADO is not set)"))
        if "board" in item.keywords and not board:
            item.add_marker(pytest.mark.skip(reason="needs a PYNQ board (SHIFTBNN_BOARD is not set)"))
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if gpu_items and not _cuda_available():
        for item in gpu_items:
            item.add_marker(pytest.mark.skip(reason="needs a CUDA GPU (torch.cuda.is_available() is False)"))


def _cuda_available() -> bool:
    import torch  # only when gpu tests are collected: keeps `pytest -m fast` collection light

    return torch.cuda.is_available()


def check_one_tier(items) -> None:
    """Collection error unless each test has exactly one of TIERS (module, class or function markers)."""
    bad = []
    for item in items:
        tiers = sorted({m.name for m in item.iter_markers()} & set(TIERS))
        if len(tiers) != 1:
            bad.append(f"{item.nodeid}: {', '.join(tiers) or 'no tier'}")
    if bad:
        shown = "\n  ".join(bad[:20]) + (f"\n  ... and {len(bad) - 20} more" if len(bad) > 20 else "")
        raise pytest.UsageError(f"every test needs exactly one tier marker of {'/'.join(TIERS)}:\n  {shown}")
