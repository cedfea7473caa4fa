"""``report/report.html``: the build on one self-contained page, read from summary.json alone.

What an FPGA engineer opens first: does it fit (banner), is it right (images per stage), how fast
(target, model, RTL-measured, the bottleneck and why it stops there), what it costs (FINN's estimate,
our cost model and yosys side by side against the part), then per block, timing, warnings, files.
Every key is read defensively: a summary written by an older or newer build shows ``n/a`` where a key
is missing, and keys this page does not know are listed raw at the end.

``python -m flow.builder.report_html BUILD_DIR`` (re)writes the page of an existing build.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from flow.builder import report_blocks, report_sections
from flow.core.files import write_atomically
from flow.core.html import NA, banner, card, esc, finite, get, mhz, num, page, pct

PAGE = "report.html"
# summary keys the sections below read; the others are shown raw in "Other recorded data"
KNOWN = {"board", "part", "clock_mhz", "backend", "model", "shift", "shift_override", "input_shape", "verification",
         "estimate", "folding", "target", "rtl", "rtlsim", "synth", "bitstream", "steps", "blocks", "warnings",
         "provenance", "wall_seconds", "error"}  # fmt: skip


def _cards(summary: dict, fit: dict) -> str:
    v = summary.get("verification") or {}
    stages = report_sections.stages(v)
    images = v.get("images")
    ran = [(stage, m) for _, stage, m in stages if finite(m)]
    differ = [stage for stage, m in ran if m != images]
    if not ran or not finite(images):
        verdict, cls, verified = NA, "", "no stage recorded"
    elif differ:
        verdict, cls, verified = "MISMATCH", "bad", f"{', '.join(differ)} differ from the reference"
    else:
        verdict, cls, verified = "bit-exact", "ok", f"{num(images)} images, all {len(ran)} stages equal"
    rtl_fps = get(summary, "rtlsim", "fps")
    fps, where = (rtl_fps, "RTL simulation") if finite(rtl_fps) else (get(summary, "target", "model_fps"), "model")
    if not finite(fps):
        fps, where = get(summary, "estimate", "fps"), "FINN estimate"
    lut_source, lut, budget = fit["primary_lut"]
    return '<div class="cards">' + "".join([
        card("verification", verdict, cls, verified),
        card("throughput", f"{num(fps)} img/s", "", f"{where} at {mhz(summary.get('clock_mhz'))}"),
        card("LUT", f"{num(lut)} ({pct(lut, budget)})", "bad" if fit["bad"] else "", f"{lut_source} of {num(budget)}"),
        card("fits the part", "NO" if fit["bad"] else "yes", "bad" if fit["bad"] else "ok", summary.get("part") or NA),
    ]) + "</div>"  # fmt: skip


def render(summary: dict, build_dir: Path, name: str | None = None) -> str:
    """The whole page for the build in ``build_dir`` (links are relative to its report/ folder);
    ``name``: the build folder's final name (a build writes into a temporary folder first)."""
    report_dir = build_dir / "report"
    rows = report_blocks.rows_of(summary, report_dir)
    fit = report_sections.fit(summary)
    failed = banner(f"BUILD FAILED: {summary['error']}", "bad") if summary.get("error") else ""
    overview = failed + _cards(summary, fit) + fit["banner"] + report_sections.header(summary)
    sections = [
        ("overview", "Overview", overview),
        ("verification", "Verification", report_sections.verification(summary)),
        ("throughput", "Throughput", report_sections.throughput(summary, rows)),
        ("resources", "Resources", report_sections.resources(summary, fit)),
        ("blocks", f"Per block ({len(rows)})", report_blocks.section(summary, rows)),
        ("timing", "Timing", report_sections.timing(summary)),
        ("warnings", "Warnings and refusals", report_sections.warnings(summary, fit)),
        ("steps", "Build steps", report_sections.steps(summary)),
        ("files", "Files", report_sections.files(build_dir, report_dir)),
        ("other", "Other recorded data", _other(summary)),
    ]  # fmt: skip
    model, board = summary.get("model") or NA, summary.get("board") or NA
    subtitle = f"{summary.get('part') or NA} · {name or build_dir.name} · report/summary.json"
    return page(f"{model} on {board}: shiftbnn build report", f"{model} on {board}", subtitle, sections)


def _other(summary: dict) -> str:
    rest = {k: v for k, v in summary.items() if k not in KNOWN}
    if not rest:
        return '<p class="muted">Every key of summary.json is shown above.</p>'
    text = json.dumps(rest, indent=1, default=str)
    return f"<details><summary>{esc(', '.join(rest))}</summary><pre>{esc(text)}</pre></details>"


def write_report_html(build_dir: Path, summary: dict, name: str | None = None) -> Path:
    """Write ``build_dir/report/report.html`` (temporary file, then rename)."""
    path = Path(build_dir) / "report" / PAGE
    write_atomically(path, render(summary, Path(build_dir), name))
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m flow.builder.report_html BUILD_DIR...``: the page (and breakdown.png) of existing builds."""
    args = sys.argv[1:] if argv is None else argv
    if not args or any(a.startswith("-") for a in args):
        print("usage: python -m flow.builder.report_html BUILD_DIR...", file=sys.stderr)
        return 2
    for arg in args:
        build = Path(arg)
        try:
            summary = json.loads((build / "report" / "summary.json").read_text())
        except (OSError, ValueError) as exc:
            reason = " ".join(str(exc).split())
            print(f"error: {build}: no readable report/summary.json ({reason})", file=sys.stderr)
            return 2
        report_blocks.write_breakdown_png(build / "report", summary)
        print(write_report_html(build, summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
