"""Inline SVG charts for the HTML reports (flow/core/html.py): horizontal bars, one row per item, and
points with intervals. Standard library only.

Horizontal bars are what stays readable at any item count: a row per block (or step, or setting) with
its full name on the left, the page grows downwards instead of squeezing 40 rotated names under a
bar. Hovering a row shows every value of it (an SVG ``<title>``; no script).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from flow.core.html import esc, finite, num

FONT = 'font-family="system-ui, DejaVu Sans, sans-serif"'
CHAR_W = 6.4  # px per character at 11 px, to cut labels that do not fit
PALETTE = ("#2e6fba", "#e08a1e", "#3a9d5d", "#8e5bb5", "#c4453a", "#5f6b7a")
# one colour per source of a number, the same in every chart of a report
SOURCE_COLORS = {"our cycle model": PALETTE[0], "our cost model": PALETTE[0], "FINN estimate": PALETTE[1],
                 "yosys": PALETTE[2], "RTL simulation": PALETTE[4]}  # fmt: skip
MARK = "#c4453a"


@dataclass
class Series:
    name: str
    values: list  # one per row; None: not known for that row
    color: str = PALETTE[0]


@dataclass
class Ref:
    """A vertical line across the chart (a budget, a measured interval)."""

    value: float
    label: str
    color: str = "#101828"


def nice_ticks(hi: float, count: int = 5) -> list[float]:
    """0 and round steps (1, 2, 2.5, 5 x 10^k) up to at least ``hi``."""
    if not finite(hi) or hi <= 0:
        return [0.0, 1.0]
    raw = hi / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return [i * step for i in range(int(math.ceil(hi / step - 1e-9)) + 1)]


def _fmt(value: float) -> str:
    if not finite(value):
        return "n/a"
    if abs(value) >= 1e6:
        return f"{value / 1e6:.3g} M"
    if abs(value) >= 1e4 or float(value).is_integer():
        return num(value)
    return f"{value:.3g}"


def _cut(text, width: float) -> str:
    text = "n/a" if text is None else str(text)
    limit = max(4, int(width / CHAR_W))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Axis:
    """Value -> x pixel, linear from 0 or log10 from the smallest positive value's decade."""

    def __init__(self, values: list[float], x0: float, x1: float, log: bool):
        positive = [v for v in values if finite(v) and v > 0]
        self.log, self.x0, self.x1 = log and bool(positive), x0, x1
        if self.log:
            self.lo = math.floor(math.log10(min(positive)))
            self.hi = max(self.lo + 1, math.ceil(math.log10(max(positive))))
            self.ticks = [10.0**k for k in range(self.lo, self.hi + 1)]
        else:
            self.ticks = nice_ticks(max(positive, default=1.0))
            self.lo, self.hi = 0.0, self.ticks[-1]

    def x(self, value) -> float:
        if not finite(value) or value <= 0:
            return self.x0
        t = (math.log10(value) - self.lo) / (self.hi - self.lo) if self.log else value / self.hi
        return self.x0 + max(0.0, min(1.0, t)) * (self.x1 - self.x0)


def hbar_chart(
    labels: list[str],
    series: list[Series],
    title: str,
    unit: str = "",
    marks: dict[int, str] | None = None,
    refs: list[Ref] = (),
    log: bool = False,
    width: int = 980,
    label_width: int = 260,
) -> str:
    """One row per label, one bar per series in it (grouped); ``marks``: row -> note (drawn in red, e.g.
    the bottleneck); ``refs``: vertical lines with a label in the legend; ``log``: log10 value axis."""
    marks = marks or {}
    bar_h = 12 if len(series) == 1 else 8
    row_h = bar_h * len(series) + 6
    top = 46 if (len(series) > 1 or refs) else 30
    x0, x1 = label_width + 8, width - 90
    values = [v for s in series for v in s.values] + [r.value for r in refs]
    axis = _Axis(values, x0, x1, log)
    height = top + row_h * len(labels) + 26
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" {FONT} font-size="11" role="img" aria-label="{esc(title)}">',
           f'<text x="4" y="15" font-size="13" font-weight="600">{esc(title)}</text>']  # fmt: skip
    out += _legend(series, refs, 28, width) if top > 30 else []
    bottom = top + row_h * len(labels)
    for tick in axis.ticks:  # grid and tick labels
        tx = axis.x(tick) if not (tick == 0 and not axis.log) else x0
        out.append(f'<line x1="{tx:.1f}" y1="{top - 2}" x2="{tx:.1f}" y2="{bottom}" stroke="#eaecf0"/>')
        out.append(f'<text x="{tx:.1f}" y="{bottom + 14}" text-anchor="middle" fill="#667085">{_fmt(tick)}</text>')
    if unit:
        out.append(f'<text x="{x1}" y="{bottom + 24}" text-anchor="end" fill="#667085">{esc(unit)}</text>')
    for i, label in enumerate(labels):
        out.append(_bar_row(i, label, series, marks.get(i), axis, top + i * row_h, bar_h, label_width))
    for ref in refs:
        rx = axis.x(ref.value)
        out.append(f'<line x1="{rx:.1f}" y1="{top - 4}" x2="{rx:.1f}" y2="{bottom}" stroke="{ref.color}" '
                   f'stroke-width="1.5" stroke-dasharray="5,3"><title>{esc(ref.label)}</title></line>')  # fmt: skip
    out.append(f'<line x1="{x0}" y1="{top - 2}" x2="{x0}" y2="{bottom}" stroke="#98a2b3"/>')
    out.append("</svg>")
    return "\n".join(out)


def _bar_row(i, label, series, mark, axis: _Axis, y: float, bar_h: int, label_width: int) -> str:
    hover = "; ".join(f"{s.name}: {_fmt(s.values[i]) if i < len(s.values) else 'n/a'}" for s in series)
    colour = MARK if mark else "#101828"
    weight = ' font-weight="700"' if mark else ""
    parts = [f"<g><title>{esc(label)}: {esc(hover)}{esc(' (' + mark + ')') if mark else ''}</title>",
             f'<text x="{label_width}" y="{y + 3 + bar_h * len(series) / 2 + 1:.1f}" text-anchor="end" '
             f'fill="{colour}"{weight}>{esc(_cut(label, label_width))}</text>']  # fmt: skip
    for k, s in enumerate(series):
        value = s.values[i] if i < len(s.values) else None
        by = y + 3 + k * bar_h
        if not finite(value):  # unknown for this row: no bar (the hover text and the table say n/a)
            continue
        bx = axis.x(value)
        fill = MARK if mark and k == 0 else s.color
        parts.append(f'<rect x="{axis.x0}" y="{by:.1f}" width="{max(bx - axis.x0, 0.8):.1f}" '
                     f'height="{bar_h - 1}" fill="{fill}"/>')  # fmt: skip
        note = f" ◀ {mark}" if mark and k == 0 else ""
        parts.append(f'<text x="{bx + 3:.1f}" y="{by + bar_h - 1.5:.1f}" font-size="{9 if bar_h < 10 else 10}" '
                     f'fill="{MARK if note else "#475467"}">{esc(_fmt(value) + note)}</text>')  # fmt: skip
    parts.append("</g>")
    return "".join(parts)


def _legend(series: list[Series], refs: list[Ref], y: int, width: int, single: bool = False) -> list[str]:
    """Colour keys of the series (of one series too with ``single``) and dashed keys of the refs."""
    shown = series if len(series) > 1 or single else []
    items = [(s.name, s.color, False) for s in shown] + [(r.label, r.color, True) for r in refs]
    out, x = [], 6.0
    for name, colour, dashed in items:
        if x + 30 + CHAR_W * len(name) > width:
            break
        if dashed:
            out.append(f'<line x1="{x}" y1="{y - 4}" x2="{x + 16}" y2="{y - 4}" stroke="{colour}" '
                       f'stroke-width="1.5" stroke-dasharray="5,3"/>')  # fmt: skip
        else:
            out.append(f'<rect x="{x}" y="{y - 9}" width="14" height="9" fill="{colour}"/>')
        out.append(f'<text x="{x + 20}" y="{y}">{esc(name)}</text>')
        x += 34 + CHAR_W * len(name)
    return out


@dataclass
class Interval:
    """One setting: its per-seed values, their mean and a (lo, hi) interval of the mean."""

    label: str
    seeds: list
    mean: float | None
    lo: float | None = None
    hi: float | None = None
    x: float | None = None  # position on a numeric axis (xy_chart); None: not placeable
    color: str = PALETTE[0]
    group: str = ""  # series name for the legend
    extra: list = field(default_factory=list)  # hover lines


def interval_rows(rows: list[Interval], title: str, value_label: str, ref: Ref | None = None,
                  width: int = 980, label_width: int = 230) -> str:  # fmt: skip
    """A forest plot: one row per setting, per-seed dots, the mean as a diamond, the interval as a line."""
    row_h, top = 22, 46
    x0, x1 = label_width + 10, width - 150
    values = [v for r in rows for v in (*r.seeds, r.lo, r.hi, r.mean) if finite(v)]
    lo, hi = _padded(values + ([ref.value] if ref else []))
    sx = _linear(lo, hi, x0, x1)
    height = top + row_h * len(rows) + 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" {FONT} font-size="11" role="img" aria-label="{esc(title)}">',
           f'<text x="4" y="15" font-size="13" font-weight="600">{esc(title)}</text>']  # fmt: skip
    out += _legend_groups(rows, ref, 32, width)
    bottom = top + row_h * len(rows)
    for tick in _ticks(lo, hi):
        tx = sx(tick)
        out.append(f'<line x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" y2="{bottom}" stroke="#eaecf0"/>')
        out.append(f'<text x="{tx:.1f}" y="{bottom + 14}" text-anchor="middle" fill="#667085">{tick:g}</text>')
    out.append(f'<text x="{x1}" y="{bottom + 27}" text-anchor="end" fill="#667085">{esc(value_label)}</text>')
    if ref is not None:
        rx = sx(ref.value)
        out.append(f'<line x1="{rx:.1f}" y1="{top - 6}" x2="{rx:.1f}" y2="{bottom}" stroke="{ref.color}" '
                   f'stroke-dasharray="5,3"><title>{esc(ref.label)}</title></line>')  # fmt: skip
    for i, r in enumerate(rows):
        cy = top + i * row_h + row_h / 2
        label = esc(_cut(r.label, label_width))
        out.append(f'<g><title>{esc(r.label)}: {esc("; ".join(r.extra))}</title>'
                   f'<text x="{label_width}" y="{cy + 4:.1f}" text-anchor="end">{label}</text>')  # fmt: skip
        out += _interval_marks(r, sx, cy)
        text = f"{r.mean:.2f}" if finite(r.mean) else "n/a"
        if finite(r.lo) and finite(r.hi):
            text += f" [{r.lo:.2f}, {r.hi:.2f}]"
        out.append(f'<text x="{x1 + 8}" y="{cy + 4:.1f}" fill="#475467">{esc(text)}</text></g>')
    out.append("</svg>")
    return "\n".join(out)


def xy_chart(points: list[Interval], title: str, x_label: str, y_label: str, ref: Ref | None = None,
             width: int = 980, height: int = 380) -> str:  # fmt: skip
    """Points with intervals on a numeric x axis (settings whose ``x`` is None are left out): per-seed
    dots, the mean, its interval; the means of one group joined by a line; ``ref`` a horizontal line."""
    placed = [p for p in points if finite(p.x)]
    left, right, top, bottom = 62, width - 20, 40, height - 44
    xs = [p.x for p in placed] or [0.0, 1.0]
    xlo, xhi = min(xs), max(xs)
    pad = 0.05 * (xhi - xlo or 1.0)
    sx = _linear(xlo - pad, xhi + pad, left, right)
    ys = [v for p in placed for v in (*p.seeds, p.lo, p.hi, p.mean) if finite(v)]
    ylo, yhi = _padded(ys + ([ref.value] if ref else []))
    sy = _linear(ylo, yhi, bottom, top)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" {FONT} font-size="11" role="img" aria-label="{esc(title)}">',
           f'<text x="4" y="15" font-size="13" font-weight="600">{esc(title)}</text>']  # fmt: skip
    out += _legend_groups(placed, ref, 32, width)
    for tick in _ticks(ylo, yhi):
        ty = sy(tick)
        out.append(f'<line x1="{left}" y1="{ty:.1f}" x2="{right}" y2="{ty:.1f}" stroke="#eaecf0"/>')
        out.append(f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="#667085">{tick:g}</text>')
    for tick in _ticks(xlo - pad, xhi + pad):
        tx = sx(tick)
        out.append(f'<text x="{tx:.1f}" y="{bottom + 16}" text-anchor="middle" fill="#667085">{tick:g}</text>')
    out.append(f'<text x="{(left + right) / 2:.0f}" y="{height - 8}" text-anchor="middle">{esc(x_label)}</text>')
    out.append(f'<text transform="translate(14 {(top + bottom) / 2:.0f}) rotate(-90)" text-anchor="middle">'
               f"{esc(y_label)}</text>")  # fmt: skip
    out.append(f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" fill="none" '
               f'stroke="#98a2b3"/>')  # fmt: skip
    if ref is not None:
        out.append(f'<line x1="{left}" y1="{sy(ref.value):.1f}" x2="{right}" y2="{sy(ref.value):.1f}" '
                   f'stroke="{ref.color}" stroke-dasharray="5,3"><title>{esc(ref.label)}</title></line>')  # fmt: skip
    for group in dict.fromkeys(p.group for p in placed):
        line = sorted((p.x, p.mean) for p in placed if p.group == group and finite(p.mean))
        if len(line) > 1:
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in line)
            colour = next(p.color for p in placed if p.group == group)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-opacity="0.5"/>')
    for p in placed:
        out.append(f"<g><title>{esc(p.label)}: {esc('; '.join(p.extra))}</title>")
        out += _interval_marks(p, lambda v: sy(v), sx(p.x), vertical=True)
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def _interval_marks(r: Interval, scale, at: float, vertical: bool = False) -> list[str]:
    """Seeds as dots, the interval as a line with end caps, the mean as a diamond, across ``at``."""

    def point(v, off=0.0):
        return (at + off, scale(v)) if vertical else (scale(v), at + off)

    out = []
    if finite(r.lo) and finite(r.hi):
        (ax, ay), (bx, by) = point(r.lo), point(r.hi)
        out.append(
            f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{bx:.1f}" y2="{by:.1f}" stroke="{r.color}" stroke-width="2"/>'
        )
        for cx, cy in (point(r.lo), point(r.hi)):
            dx, dy = (4, 0) if vertical else (0, 4)
            out.append(f'<line x1="{cx - dx:.1f}" y1="{cy - dy:.1f}" x2="{cx + dx:.1f}" y2="{cy + dy:.1f}" '
                       f'stroke="{r.color}" stroke-width="2"/>')  # fmt: skip
    for k, v in enumerate(s for s in r.seeds if finite(s)):
        cx, cy = point(v, ((k % 5) - 2) * 1.6)  # a little spread so equal seeds stay visible
        out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="2.6" fill="{r.color}" fill-opacity="0.45"/>')
    if finite(r.mean):
        mx, my = point(r.mean)
        out.append(f'<path d="M{mx:.1f},{my - 5:.1f} L{mx + 5:.1f},{my:.1f} L{mx:.1f},{my + 5:.1f} '
                   f'L{mx - 5:.1f},{my:.1f} Z" fill="{r.color}" stroke="#fff" stroke-width="0.8"/>')  # fmt: skip
    return out


def _legend_groups(rows: list[Interval], ref: Ref | None, y: int, width: int) -> list[str]:
    groups = {r.group: r.color for r in rows if r.group}
    series = [Series(name, [], colour) for name, colour in groups.items()]
    return _legend(series, [ref] if ref else [], y, width, single=True)


def _padded(values: list[float]) -> tuple[float, float]:
    values = [v for v in values if finite(v)] or [0.0, 1.0]
    lo, hi = min(values), max(values)
    pad = 0.08 * (hi - lo) if hi > lo else max(abs(hi) * 0.01, 0.5)
    return lo - pad, hi + pad


def _linear(lo: float, hi: float, a: float, b: float):
    span = hi - lo or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def _ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    step = nice_ticks(hi - lo, count)[1] if hi > lo else 1.0
    first = math.ceil(lo / step) * step
    return [round(first + i * step, 10) for i in range(int((hi - first) / step) + 1)]
