"""Self-contained HTML pages (build and sweep reports): escaping, number formats, tables, one page shell.

Standard library only: the page carries its own CSS and inline SVG (flow/core/svg.py), no script, no
font, no link outside the folder it sits in, so it opens from a copied build folder without a network.
Every formatter takes ``None`` (a key an older or newer summary.json lacks) and shows ``n/a``.
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path

NA = "n/a"

CSS = """
:root { --bad: #b42318; --warn: #b54708; --ok: #067647; --muted: #667085; --line: #d0d5dd; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #101828;
       margin: 0 auto; padding: 16px 24px 48px; max-width: 1280px; background: #fff; }
h1 { font-size: 22px; margin: 4px 0 2px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid
var(--line); padding-bottom: 4px; } h3 { font-size: 14px; margin: 16px 0 6px; }
nav { font-size: 13px; color: var(--muted); margin: 4px 0 12px; } nav a { margin-right: 12px; }
table { border-collapse: collapse; margin: 6px 0 12px; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f2f4f7; font-weight: 600; } tr:nth-child(even) td { background: #fafbfc; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.bad { color: var(--bad); font-weight: 600; } td.ok { color: var(--ok); } td.muted { color: var(--muted); }
.wide { overflow-x: auto; } table.small { font-size: 12.5px; } table.small td, table.small th { padding: 2px 6px; }
tr.hl td { background: #fef3f2 !important; }
.kv th { width: 230px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; min-width: 190px; flex: 1; }
.card .v { font-size: 20px; font-weight: 650; } .card .k { color: var(--muted); font-size: 12px; }
.card.bad { border-color: var(--bad); } .card.bad .v { color: var(--bad); }
.card.ok .v { color: var(--ok); }
.banner { border-radius: 8px; padding: 10px 14px; margin: 10px 0; font-weight: 600; }
.banner.bad { background: #fef3f2; border: 2px solid var(--bad); color: var(--bad); font-size: 16px; }
.banner.warn { background: #fffaeb; border: 1px solid var(--warn); color: var(--warn); }
.banner.ok { background: #ecfdf3; border: 1px solid var(--ok); color: var(--ok); }
li.bad { color: var(--bad); } li.warn { color: var(--warn); }
.muted { color: var(--muted); } code { font-size: 12.5px; background: #f2f4f7; padding: 0 3px; border-radius: 3px; }
ul.files { columns: 2; font-size: 13px; } svg { display: block; margin: 6px 0 14px; max-width: 100%; height: auto; }
pre { background: #f2f4f7; padding: 8px; overflow-x: auto; font-size: 12.5px; }
"""


def esc(value) -> str:
    return html.escape(str(value), quote=True)


def finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def num(value, digits: int = 0, unit: str = "") -> str:
    """``12345.6`` -> ``12,346`` (``digits`` after the point); not a finite number -> ``n/a``."""
    if not finite(value):
        return NA
    text = f"{value:,.{digits}f}"
    return f"{text} {unit}" if unit else text


def mhz(value) -> str:
    return f"{value:g} MHz" if finite(value) else NA


def pct(part, whole, digits: int = 1) -> str:
    if not finite(part) or not finite(whole) or whole == 0:
        return NA
    return f"{100.0 * part / whole:.{digits}f} %"


def seconds(value) -> str:
    if not finite(value):
        return NA
    if value < 60:
        return f"{value:.1f} s"
    minutes, secs = divmod(int(round(value)), 60)
    return f"{minutes} min {secs:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def get(data, *path, default=None):
    """``data[path[0]][path[1]]...``, ``default`` where any level is missing or not a dict/list."""
    for key in path:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return default
    return default if data is None else data


class Cell:
    """A table cell with a CSS class (``num``, ``bad``, ...) and optional raw HTML content."""

    def __init__(self, content, cls: str = "", raw: bool = False, title: str | None = None):
        self.content, self.cls, self.raw, self.title = content, cls, raw, title

    def render(self, tag: str = "td") -> str:
        body = self.content if self.raw else esc(NA if self.content is None else self.content)
        attrs = f' class="{self.cls}"' if self.cls else ""
        attrs += f' title="{esc(self.title)}"' if self.title else ""
        return f"<{tag}{attrs}>{body}</{tag}>"


def ncell(value, digits: int = 0, unit: str = "", cls: str = "", title: str | None = None) -> Cell:
    """A right-aligned number cell (``num``), ``n/a`` when the value is missing."""
    return Cell(num(value, digits, unit), f"num {cls}".strip(), title=title)


def _cell(value) -> Cell:
    if isinstance(value, Cell):
        return value
    if finite(value):
        return ncell(value, 0 if isinstance(value, int) or float(value).is_integer() else 2)
    return Cell(value)


def table(headers: list, rows: list[list], cls: str = "", row_classes: list[str] | None = None) -> str:
    """An HTML table; a header or cell is a string, a number (right-aligned) or a ``Cell``."""
    head = "".join(_cell(h).render("th") if isinstance(h, Cell) else f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        rc = row_classes[i] if row_classes and i < len(row_classes) else ""
        tr = f'<tr class="{rc}">' if rc else "<tr>"
        body.append(tr + "".join(_cell(v).render() for v in row) + "</tr>")
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def kv_table(rows: list[tuple]) -> str:
    """Two columns, key and value (a value may be a ``Cell`` with raw HTML)."""
    body = "".join(f"<tr><th>{esc(k)}</th>{_cell(v).render()}</tr>" for k, v in rows)
    return f'<table class="kv"><tbody>{body}</tbody></table>'


def card(key: str, value: str, cls: str = "", sub: str = "") -> str:
    extra = f'<div class="k">{esc(sub)}</div>' if sub else ""
    return f'<div class="card {cls}"><div class="k">{esc(key)}</div><div class="v">{esc(value)}</div>{extra}</div>'


def banner(text: str, cls: str) -> str:
    return f'<div class="banner {cls}">{esc(text)}</div>'


def link(target: Path | str, base: Path, text: str | None = None) -> str:
    """A relative link from a page in ``base`` to ``target`` (the folder may be moved or copied)."""
    rel = os.path.relpath(target, base).replace(os.sep, "/")
    rel = rel + "/" if Path(target).is_dir() else rel
    return f'<a href="{esc(rel)}">{esc(text or rel)}</a>'


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>\n{body}\n</section>'


def page(title: str, heading: str, subtitle: str, sections: list[tuple[str, str, str]]) -> str:
    """The whole document: ``sections`` are (anchor, title, body HTML), listed in a navigation line."""
    nav = "".join(f'<a href="#{esc(a)}">{esc(t)}</a>' for a, t, _ in sections)
    body = "\n".join(section(a, t, b) for a, t, b in sections)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>\n<body>\n<h1>{esc(heading)}</h1>"
        f'<div class="muted">{esc(subtitle)}</div><nav>{nav}</nav>\n{body}\n</body></html>\n'
    )
