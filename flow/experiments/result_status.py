"""Is a published number still the code's number? The "as of" and "stale" marks of every generated table.

A result is *as of* the commit that made it (its JSON's ``provenance``) or, later, the commit at which
``flow/reproduce.py`` re-trained it bit-identically (``reproduce.json`` beside it). It is *stale* when
the code that decides it changed after that: for training, ``TRAINING_CODE``; for the hardware
numbers (cycles, LUT, BRAM), ``HARDWARE_CODE``. Results from before provenance was recorded have only
a date: they are stale when a commit newer than that date touched the code. A re-run that drifted is
stale whatever the dates say. Needs git history (a clone); without it every mark says it cannot tell.
"""

from __future__ import annotations

import calendar
import json
import time
from pathlib import Path

from flow.core.provenance import changed_since, last_change

TRAINING_CODE = ("brevitas_models", "flow/training", "flow/data")
# networks written only to test the compiler (random BatchNorm, never trained by a result): not training code
COMPILER_TEST_NETWORKS = tuple(
    f":(exclude)brevitas_models/{name}.py" for name in ("grammar", "generated", "categories")
)
# the RTL, and the emitters that choose its parameters (pipeline depth, weight registers) per layer
HARDWARE_CODE = ("hw/rtl", "flow/rtl_backend/emitters")
# a critical path is the RTL's and the delay model's
TIMING_CODE = (*HARDWARE_CODE, "flow/rtl_backend/timing.py")
# a whole-network build's numbers: the RTL, its lowering, and the folding the search chooses
BUILD_CODE = ("hw/rtl", "flow/rtl_backend", "flow/analysis")
# how a stale mark names the code (default: the paths)
NAMES = {
    HARDWARE_CODE: "hw/rtl or its emitters",
    TIMING_CODE: "hw/rtl, its emitters or the delay model",
    BUILD_CODE: "hw/rtl, the RTL backend or the folding search",
}
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S UTC", "%Y-%m-%d %H:%M UTC", "%Y-%m-%d")


def parse_date(text: str | None) -> int | None:
    """Seconds since the epoch of a recorded UTC date (the formats the tools write), None if unreadable."""
    for fmt in DATE_FORMATS:
        try:
            return calendar.timegm(time.strptime(text or "", fmt))
        except ValueError:
            continue
    return None


def _listing(paths: list[str]) -> str:
    return ", ".join(paths[:2]) + (f" and {len(paths) - 2} more" if len(paths) > 2 else "")


def _pathspecs(watched: tuple[str, ...]) -> tuple[str, ...]:
    """The git pathspecs of ``watched``: the training code without the compiler's test networks."""
    return (*watched, *COMPILER_TEST_NETWORKS) if watched == TRAINING_CODE else watched


def _name(watched: tuple[str, ...]) -> str:
    """How a stale mark names the code: NAMES, else its paths (without git's exclusions)."""
    return NAMES.get(watched, "/".join(p for p in watched if not p.startswith(":(")))


def stale_reason(watched: tuple[str, ...], prov: dict | None = None, date: str | None = None) -> str | None:
    """Why a result made at ``prov``'s commit (or, without one, on ``date``) is older than ``watched``'s
    code; None when it is not."""
    if prov and prov.get("commit"):
        commit = prov["commit"][:7]
        changed = changed_since(prov["commit"], _pathspecs(watched))
        if changed is None:
            return f"made at {commit}, a commit this history lacks"
        if changed:
            return f"{_name(watched)} changed since {commit}"
        dirty = [f for f in prov.get("dirty_files", []) if f.startswith(watched)]
        return f"made with uncommitted changes to {_listing(dirty)}" if dirty else None
    measured = parse_date(date or (prov or {}).get("date"))
    if measured is None or last_change(_pathspecs(watched)) is None:
        return "no commit recorded and no date or git history to compare"
    first = last_change(_pathspecs(watched), after=measured)  # the change that made it stale: stable as later ones land
    if first is not None:
        name = _name(watched)
        return f"measured {date}, before {first['commit'][:7]} ({first['date'][:10]}) changed {name}"
    return None


def reproduction(folder: Path) -> dict | None:
    """The folder's reproduce.json, or None."""
    path = folder / "reproduce.json"
    return json.loads(path.read_text()) if path.is_file() else None


def drift_text(report: dict) -> str:
    moved = [r for r in report["reruns"] if r["status"] == "drifted"]
    worst = max(moved, key=lambda r: abs(r["test_accuracy_pp"]))
    return (
        f"{len(moved)} of {report['runs_rerun']} re-run runs drifted at {report['commit']} "
        f"(largest {worst['test_accuracy_pp']:+.2f} pp, {Path(worst['run']).name})"
    )


def training_status(folder: Path, recorded: dict) -> dict:
    """``{"as_of": text, "stale": reason or None}`` of a sweep's results.json / a run's metrics.json."""
    report = reproduction(folder)
    verdicts = (report or {}).get("verdicts", {})
    if report and verdicts.get("drifted"):
        return {"as_of": f"re-run {report['date'][:10]}", "stale": drift_text(report)}
    if report and verdicts == {"bit-identical": report["runs_rerun"]}:
        prov = report["provenance"]
        as_of = f"{prov['commit'][:7]}, reproduced ({report['runs_rerun']} of {report['runs_in_folder']} runs)"
        return {"as_of": as_of, "stale": stale_reason(TRAINING_CODE, prov)}
    prov = recorded.get("provenance")
    as_of = f"{prov['commit'][:7]}, {prov['date'][:10]}" if prov else f"{recorded['date'][:10]}, commit unrecorded"
    stale = stale_reason(TRAINING_CODE, prov, recorded.get("date"))
    skipped = [r["reason"] for r in (report or {}).get("reruns", []) if r["status"] == "skipped"]
    if stale and skipped:  # e.g. a GPU run on a machine without one
        stale += f"; not re-runnable here ({skipped[0]})"
    return {"as_of": as_of, "stale": stale}


def hardware_status(row: dict, meta: dict, watched: tuple[str, ...] = HARDWARE_CODE) -> dict:
    """The same for one bench row (its own ``date``/``provenance``, else the file's ``meta``); ``watched``:
    the code that decides it (``TIMING_CODE`` for a critical path)."""
    prov = row.get("provenance") or meta.get("provenance")
    date = row.get("date") or meta.get("date")
    as_of = f"{prov['commit'][:7]}, {prov['date'][:10]}" if prov else f"{(date or '?')[:10]}, commit unrecorded"
    return {"as_of": as_of, "stale": stale_reason(watched, prov, date)}


def mark(status: dict) -> str:
    """The table cell: ``97d9869, 2026-12-06`` or ``2026-11-25, commit unrecorded; **stale**: reason``."""
    return status["as_of"] + (f"; **stale**: {status['stale']}" if status["stale"] else "")
