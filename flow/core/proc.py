"""Every subprocess the project starts runs through ``run``: with a timeout, in its own process group.

A tool that never returns (a simulator that deadlocks outside its cycle budget, yosys or Vivado
stuck) must not hang the build: ``run`` kills the whole group (Verilator's make and compilers with
it) and raises ``ProcessTimeout`` naming what timed out and after how long. Defaults scale with the
work (``scaled_timeout``); ``SHIFTBNN_TIMEOUT_SCALE`` multiplies every default (e.g. ``4`` on a slow
or loaded machine), and each caller also takes an explicit ``timeout_s``.
"""

from __future__ import annotations

import os
import signal
import subprocess

MAX_TIMEOUT_S = 1e8  # three years: a longer limit is no limit, and ~1e18 s overflows Python's clock


class ProcessTimeout(RuntimeError):
    """A subprocess ran past its time limit and was killed; the message names it."""


def scaled_timeout(base_s: float, per_unit_s: float = 0.0, units: float = 0.0) -> float:
    """``(base + per_unit * units) * $SHIFTBNN_TIMEOUT_SCALE`` seconds (scale 1 when unset)."""
    raw = os.environ.get("SHIFTBNN_TIMEOUT_SCALE", "1")
    try:
        scale = float(raw)
    except ValueError:
        scale = float("nan")
    if not scale > 0 or scale == float("inf"):
        raise ValueError(f"SHIFTBNN_TIMEOUT_SCALE must be a positive number, not {raw!r}")
    return (base_s + per_unit_s * units) * scale


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()


def run(cmd: list[str], what: str, timeout_s: float, **kwargs) -> subprocess.CompletedProcess:
    """``subprocess.run`` with ``timeout_s``; on timeout, on Ctrl-C or any other exception the process
    group is killed before the exception propagates."""
    timeout_s = min(timeout_s, MAX_TIMEOUT_S)  # beyond it the OS clock overflows (OverflowError)
    capture = kwargs.pop("capture_output", False)
    if capture:
        kwargs.setdefault("stdout", subprocess.PIPE)
        kwargs.setdefault("stderr", subprocess.PIPE)
    with subprocess.Popen(cmd, start_new_session=True, **kwargs) as proc:
        try:
            out, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise ProcessTimeout(
                f"{what} timed out after {timeout_s:.0f} s and was stopped "
                "(raise the limit with SHIFTBNN_TIMEOUT_SCALE or the timeout option)"
            ) from None
        except BaseException:
            _kill_group(proc)
            raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)
