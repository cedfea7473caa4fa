"""conftest.py's tier check: a test with no cost tier or with two fails collection, naming the test."""

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast
ROOT = Path(__file__).resolve().parent.parent


def collect(tmp_path: Path, tests: str) -> subprocess.CompletedProcess:
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    markers = "\n    ".join(("fast: f", "sim: s", "slow: s", "gpu: g", "vivado: v", "board: b"))
    (tmp_path / "pytest.ini").write_text(f"[pytest]\nmarkers =\n    {markers}\n")
    (tmp_path / "test_x.py").write_text(textwrap.dedent(tests))
    cmd = [sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", str(tmp_path)]
    return subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)


def test_one_tier_collects(tmp_path):
    proc = collect(
        tmp_path,
        """
        import pytest
        pytestmark = pytest.mark.sim
        def test_a():
            pass
        @pytest.mark.vivado  # a need, not a tier
        def test_b():
            pass
    """,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 tests collected" in proc.stdout


def test_none_or_two_tiers_fail_collection(tmp_path):
    proc = collect(
        tmp_path,
        """
        import pytest
        pytestmark = pytest.mark.gpu
        @pytest.mark.fast
        @pytest.mark.slow
        def test_two():
            pass
        def test_none():
            pass
        @pytest.mark.fast
        def test_one():
            pass
    """,
    )
    assert proc.returncode != 0
    error = (proc.stdout + proc.stderr).split("ERROR: ", 1)[1]
    assert error.startswith("every test needs exactly one tier marker of fast/sim/slow")
    assert "test_x.py::test_two: fast, slow" in error and "test_x.py::test_none: no tier" in error
    assert "test_one" not in error
