"""Boot finn-plus 1.6.1 without Vivado (see shared toolchain notes).

Two details of finn-plus matter here:
1. Anything that creates a build dir needs global settings: we point ``FINN_BUILD_DIR`` and
   ``FINN_SETTINGS`` at a scratch folder instead of letting FINN create ``~/.finn``.
2. ``import finn.builder.build_dataflow_steps`` touches ``finn.xsi.SimEngine``, which raises when
   ``XILINX_VIVADO`` is unset; binding it to None first keeps the import working (FINN's XSim-based
   rtlsim is then unavailable, which we never use: our RTL simulates with Verilator).
3. qonnx's InferShapes, SortGraph and GiveUniqueParameterTensors, which every transformation's cleanup
   runs, are replaced by linear-time versions with the same results (flow/core/qonnx_speed.py).
Import this module before any ``finn.builder`` import.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_SCRATCH = Path(os.environ.get("SHIFTBNN_FINN_SCRATCH", Path(tempfile.gettempdir()) / "shiftbnn-finn"))
os.environ.setdefault("FINN_BUILD_DIR", str(_SCRATCH / "build"))
os.environ.setdefault("FINN_SETTINGS", str(_SCRATCH / "settings.yaml"))
Path(os.environ["FINN_BUILD_DIR"]).mkdir(parents=True, exist_ok=True)

import finn.xsi  # noqa: E402

from flow.core import qonnx_speed  # noqa: E402

qonnx_speed.install()

try:
    finn.xsi.SimEngine  # noqa: B018  (lazy: raises without Vivado, or without FINN's XSI build)
except Exception:  # OSError / ValueError / FINNUserError, depending on what is missing
    finn.xsi.SimEngine = None


def vivado_available() -> bool:
    """True when a Vivado installation is set up in this environment (settings64.sh sourced)."""
    return bool(os.environ.get("XILINX_VIVADO"))
