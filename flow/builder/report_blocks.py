"""The build report's per-block part: the table, its horizontal bar charts (inline SVG) and the same
charts as ``report/breakdown.png`` for notebooks and the README.

One row per block of the generated design (summary.json ``blocks``: our cycle and resource models,
FINN's per-layer estimate of the layers the block implements, yosys per block where the synthesis kept
the hierarchy, the FIFO depth after sizing). A summary without ``blocks`` (an older build) gets rows
from FINN's per-layer estimate files alone. Bars run horizontally, one row per block, so 40 or 400
blocks stay readable: the page grows, the names are never rotated or shrunk.
"""

from __future__ import annotations

import json
from pathlib import Path

from flow.core.html import Cell, finite, get, ncell, num, table
from flow.core.svg import PALETTE, SOURCE_COLORS, Ref, Series, hbar_chart

# (key in a row, series name) per chart; a series with no value in any row is left out
SOURCES = {
    "cycles": [("cycles", "our cycle model"), ("finn_cycles", "FINN estimate")],
    "lut": [("lut", "our cost model"), ("finn_lut", "FINN estimate"), ("yosys_lut", "yosys")],
    "bram36": [("bram36", "our cost model"), ("finn_bram36", "FINN estimate"), ("yosys_bram36", "yosys")],
}


def rows_of(summary: dict, report_dir: Path | None = None) -> list[dict]:
    """summary ``blocks``, else one row per layer of FINN's estimate files in ``report_dir``."""
    blocks = summary.get("blocks")
    if isinstance(blocks, list) and blocks:
        return [b for b in blocks if isinstance(b, dict) and "name" in b]
    if report_dir is None:
        return []
    try:
        cycles = json.loads((report_dir / "estimate_layer_cycles.json").read_text())
        res = json.loads((report_dir / "estimate_layer_resources.json").read_text())
    except (OSError, ValueError):
        return []
    return [{"name": n, "finn_cycles": cycles[n], "finn_lut": float(get(res, n, "LUT", default=0)),
             "finn_bram36": float(get(res, n, "BRAM_18K", default=0)) / 2} for n in cycles if n != "total"]  # fmt: skip


def bottleneck(summary: dict, rows: list[dict]) -> str | None:
    """The block the folding search named, else the row with the most modelled (or FINN) cycles."""
    named = get(summary, "target", "bottleneck")
    if named:
        return named
    key = "cycles" if any(finite(r.get("cycles")) for r in rows) else "finn_cycles"
    timed = [r for r in rows if finite(r.get(key))]
    return max(timed, key=lambda r: r[key])["name"] if timed else get(summary, "estimate", "bottleneck")


def _series(rows: list[dict], what: str) -> list[Series]:
    out = []
    for key, name in SOURCES[what]:
        values = [r.get(key) if finite(r.get(key)) else None for r in rows]
        if any(v is not None for v in values):
            out.append(Series(name, values, SOURCE_COLORS[name]))
    return out


def charts(summary: dict, rows: list[dict]) -> str:
    """Cycles per frame (bottleneck marked, RTL-measured interval and target dashed), LUT, BRAM36 and
    FIFO depths, one row per block."""
    if not rows:
        return '<p class="muted">No per-block data in this summary.</p>'
    names = [r["name"] for r in rows]
    neck = bottleneck(summary, rows)
    marks = {i: "bottleneck" for i, n in enumerate(names) if n == neck}
    refs = []
    measured = get(summary, "rtlsim", "cycles_per_frame")
    if finite(measured):
        refs.append(Ref(measured, f"RTL simulation: {num(measured)} cycles/frame", "#c4453a"))
    target_fps, clock = get(summary, "target", "target_fps"), summary.get("clock_mhz")
    if finite(target_fps) and finite(clock) and target_fps > 0:
        refs.append(Ref(clock * 1e6 / target_fps, f"target {num(target_fps)} img/s", "#3a9d5d"))
    out = [hbar_chart(names, _series(rows, "cycles"), "Cycles per frame per block", "cycles/frame", marks, refs)]
    out.append(hbar_chart(names, _series(rows, "lut"), "LUT per block", "LUT"))
    if any(finite(r.get(k)) and r.get(k) for r in rows for k, _ in SOURCES["bram36"]):
        out.append(hbar_chart(names, _series(rows, "bram36"), "BRAM36 per block", "BRAM36"))
    fifos = [r for r in rows if finite(r.get("fifo_depth"))]
    if fifos:
        depth = [Series("depth after sizing", [r["fifo_depth"] for r in fifos], PALETTE[3])]
        out.append(hbar_chart([r["name"] for r in fifos], depth, "FIFO depths (log scale)", "words", log=True))
    return "\n".join(out)


# numeric columns of the per-block table: (header, row key, digits, summed in the totals row)
COLUMNS = [("cycles/frame (model)", "cycles", 0, False), ("cycles/frame (FINN)", "finn_cycles", 0, False),
           ("LUT (model)", "lut", 0, True), ("LUT (FINN)", "finn_lut", 0, True), ("LUT (yosys)", "yosys_lut", 0, True),
           ("FF (yosys)", "yosys_ff", 0, True), ("BRAM36 (model)", "bram36", 1, True),
           ("BRAM36 (FINN)", "finn_bram36", 1, True), ("BRAM36 (yosys)", "yosys_bram36", 1, True),
           ("FIFO depth", "fifo_depth", 0, False)]  # fmt: skip


def blocks_table(summary: dict, rows: list[dict]) -> str:
    """Every block with every number we have of it (a column no block has is left out); the
    bottleneck row highlighted; totals below."""
    neck = bottleneck(summary, rows)
    columns = [c for c in COLUMNS if any(finite(r.get(c[1])) for r in rows)]
    body, classes = [], []
    for i, r in enumerate(rows):
        layers = ", ".join(r.get("finn_layers") or [])
        fold = r.get("folding") or ""
        if fold and r.get("can_unfold") is False:
            fold += " (fully unfolded)"
        cells = [i, Cell(r["name"], title=f"FINN layers: {layers}" if layers else None), r.get("op_type") or "", fold]
        cells += [ncell(r.get(key), digits, title=r.get("yosys_note") if key.startswith("yosys") else None)
                  for _, key, digits, _ in columns]  # fmt: skip
        body.append(cells)
        classes.append("hl" if r["name"] == neck else "")
    totals = [Cell(""), Cell("total", "num"), Cell(""), Cell("")]
    for _, key, digits, summed in columns:
        values = [r[key] for r in rows if finite(r.get(key))]
        totals.append(ncell(sum(values), digits) if summed and values else Cell(""))
    headers = ["#", "block", "op type", "folding"] + [c[0] for c in columns]
    return '<div class="wide">' + table(headers, [*body, totals], "small", [*classes, ""]) + "</div>"


def section(summary: dict, rows: list[dict]) -> str:
    return charts(summary, rows) + blocks_table(summary, rows)


def write_breakdown_png(report_dir: Path, summary: dict) -> Path:
    """report/breakdown.png: the per-block charts as one PNG (cycles with the bottleneck in red, LUT,
    BRAM36), horizontal bars, one row per block: its height grows with the block count, its width not."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = rows_of(summary, report_dir)
    names = [r["name"] for r in rows] or ["(no blocks)"]
    neck = bottleneck(summary, rows)
    fig, axes = plt.subplots(1, 3, figsize=(13, 1.6 + 0.24 * len(names)), sharey=True)
    measured = get(summary, "rtlsim", "cycles_per_frame")
    for ax, what in zip(axes, ("cycles", "lut", "bram36"), strict=True):
        handles = _bars(ax, names, _series(rows, what), neck if what == "cycles" else None)
        if what == "cycles" and finite(measured):
            handles.append(
                ax.axvline(measured, color="#c4453a", ls="--", lw=1, label=f"RTL simulation {num(measured)}")
            )
        ax.set_title({"cycles": "cycles per frame", "lut": "LUT", "bram36": "BRAM36"}[what], fontsize=9, pad=30)
        if handles:  # above the bars, under the title: never over a bar
            ax.legend(handles=handles, fontsize=7, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, frameon=False)
    axes[0].set_ylim(len(names) - 0.5, -0.5)  # first block on top, no empty margin
    title = f"{summary.get('model', 'n/a')} on {summary.get('board', 'n/a')}: per block (bottleneck in red)"
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = report_dir / "breakdown.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _bars(ax, names: list[str], series: list[Series], neck: str | None) -> list:
    """Grouped horizontal bars, the first series' bar of ``neck`` in red; returns the legend handles."""
    from matplotlib.patches import Patch

    height = 0.8 / max(1, len(series))
    for k, s in enumerate(series):
        ys = [i - 0.4 + height * (k + 0.5) for i in range(len(names))]
        bars = ax.barh(ys, [v if v is not None else 0 for v in s.values], height=height, color=s.color)
        if k == 0 and neck in names:
            bars[names.index(neck)].set_color("#c4453a")
    ax.set_yticks(range(len(names)), names, fontsize=7)
    for label in ax.get_yticklabels():
        if neck is not None and label.get_text() == neck:
            label.set_color("#c4453a")
            label.set_fontweight("bold")
    ax.grid(axis="x", alpha=0.3)
    ax.tick_params(axis="x", labelsize=7)
    return [Patch(color=s.color, label=s.name) for s in series]
