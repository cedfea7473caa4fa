"""``OUTPUT/report.html`` of a shift sweep (flow/sweep.py): one self-contained page from results.json.

Accuracy against the shift t (per-seed points, the mean and its 95 % interval; control and learnable
variants beside their t), every setting as a row with the same marks (per-layer shift lists too), the
comparison table with Welch and paired intervals, and links to every run. Standard library HTML and
inline SVG (flow/core/html.py, svg.py); a key an older results.json lacks shows ``n/a``.

``python -m flow.experiments.sweep_report SWEEP_DIR...`` (re)writes the page of finished sweeps.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from pathlib import Path

from scipy import stats

from flow.core.files import write_atomically
from flow.core.html import NA, Cell, card, esc, finite, get, kv_table, link, ncell, num, page, table
from flow.core.svg import PALETTE, Interval, Ref, interval_rows, xy_chart

PAGE = "report.html"
VARIANTS = {"shift": ("shift t", PALETTE[0]), "bn_bias": ("t = 0, BN bias = -t (control)", PALETTE[1]),
            "learnable": ("learnable t", PALETTE[2])}  # fmt: skip


def mean_interval(values: list[float]) -> tuple[float | None, float | None]:
    """95 % t-interval of the mean over seeds; (None, None) below two values."""
    values = [v for v in values if finite(v)]
    if len(values) < 2:
        return None, None
    half = stats.t.ppf(0.975, len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    mean = statistics.fmean(values)
    return mean - half, mean + half


def intervals(results: dict) -> list[Interval]:
    """One Interval per setting of results.json ``summary`` (accuracies in %), ``x`` its scalar shift."""
    out, shifts = [], [g.get("shift") for g in results.get("summary") or [] if finite(g.get("shift"))]
    span = (max(shifts) - min(shifts)) if len(shifts) > 1 else 1.0
    for g in results.get("summary") or []:
        accs = [100 * a for a in g.get("accuracies") or [] if finite(a)]
        lo, hi = mean_interval(accs)
        variant = g.get("variant", "shift")
        name, colour = VARIANTS.get(variant, (variant, PALETTE[3]))
        offset = {"bn_bias": -0.015, "learnable": 0.015}.get(variant, 0.0) * (span or 1.0)
        mean = 100 * g["mean"] if finite(g.get("mean")) else (statistics.fmean(accs) if accs else None)
        extra = [f"seed {s}: {a:.2f} %" for s, a in zip(g.get("seeds") or [], accs, strict=False)]
        x = g["shift"] + offset if finite(g.get("shift")) else None
        out.append(Interval(str(g.get("label") or "?"), accs, mean, lo, hi, x, colour, name, extra))
    return out


def _order(rows: list[Interval], results: dict) -> list[Interval]:
    """Plain shifts by t, then per-layer lists, then the control and learnable variants."""
    groups = results.get("summary") or []
    key = {id(r): (0 if g.get("variant") == "shift" and finite(g.get("shift")) else
                   1 if g.get("variant") == "shift" else 2, g.get("shift") if finite(g.get("shift")) else 0)
           for r, g in zip(rows, groups, strict=True)}  # fmt: skip
    return sorted(rows, key=lambda r: key[id(r)])


def _ci(c: dict, kind: str) -> str:
    ci = c.get(f"{kind}_ci95")
    if not ci:
        return NA
    return f"[{100 * ci[0]:+.2f}, {100 * ci[1]:+.2f}] pp" + (" excludes 0" if c.get(f"{kind}_excludes_zero") else "")


def verdict(c: dict) -> str:
    """The comparison's own sentence where results.json has one, else what its 95 % interval says."""
    for key in ("verdict", "sentence"):
        if isinstance(c.get(key), str):
            return c[key]
    kind = "paired" if "paired_ci95" in c else "welch" if "welch_ci95" in c else None
    if kind is None:
        return c.get("note") or "no interval (needs >= 2 seeds per setting)"
    diff = 100 * c.get("difference", 0.0)
    if c.get(f"{kind}_excludes_zero"):
        return f"{c.get('a')} {'beats' if diff > 0 else 'is below'} {c.get('b')} by {diff:+.2f} pp ({kind} 95 % CI)"
    return f"no evidence of a difference: the {kind} 95 % interval includes 0"


def comparisons(results: dict) -> str:
    rows = [[c.get("a", NA), c.get("b", NA), ncell(100 * c["difference"] if finite(c.get("difference")) else None,
             2, "pp"), Cell(_ci(c, "paired"), "num"), Cell(_ci(c, "welch"), "num"), verdict(c)]
            for c in results.get("comparisons") or []]  # fmt: skip
    if not rows:
        return '<p class="muted">No comparison (the sweep needs t = 0 and a shifted setting).</p>'
    return table(["setting a", "vs b", "a - b", "paired 95 % CI", "Welch 95 % CI", "verdict"], rows)


def settings_table(results: dict, rows: list[Interval], out: Path) -> str:
    runs = {}
    for r in results.get("runs") or []:
        runs.setdefault(r.get("label"), []).append(r)
    body = []
    for g, iv in zip(results.get("summary") or [], rows, strict=True):
        links = []
        for r in sorted(runs.get(g.get("label"), []), key=lambda r: r.get("seed") if finite(r.get("seed")) else -1):
            folder = out / "runs" / Path(str(r.get("folder", ""))).name
            text = f"seed {r.get('seed')}: {num(100 * r['test_accuracy'], 2) if finite(r.get('test_accuracy')) else NA}"
            links.append(link(folder / "metrics.json", out, text) if folder.is_dir() else esc(text))
        ci = f"[{iv.lo:.2f}, {iv.hi:.2f}]" if finite(iv.lo) else NA
        std = 100 * g["std"] if finite(g.get("std")) else None
        body.append([g.get("label", NA), g.get("variant", NA), len(iv.seeds), ncell(iv.mean, 2, "%"),
                     ncell(std, 2), Cell(ci, "num"), Cell(", ".join(links), raw=True)])  # fmt: skip
    return table(["setting", "variant", "seeds", "mean", "std", "95 % CI of the mean", "runs"], body)


def _overview(results: dict) -> str:
    comps = results.get("comparisons") or []
    first = comps[0] if comps else {}
    diff = first.get("difference")
    cards = [card("model / data set", f"{results.get('model', NA)} / {results.get('dataset', NA)}"),
             card("best setting", str(results.get("best") or NA)),
             card(f"{first.get('a', 'best')} - {first.get('b', 't=0')}",
                  f"{100 * diff:+.2f} pp" if finite(diff) else NA, "", verdict(first) if first else "")]  # fmt: skip
    prov = results.get("provenance") or {}
    facts = kv_table([
        ("command", Cell(f"<code>{esc(results.get('command') or prov.get('command') or NA)}</code>", raw=True)),
        ("flow commit", (prov.get("commit") or NA)[:12] + (" (dirty)" if prov.get("dirty") else "")),
        ("date", results.get("date") or NA), ("machine", results.get("machine") or NA),
        ("epochs / train limit", f"{results.get('epochs', NA)} / {results.get('train_limit') or 'all'}"),
        ("model arguments", json.dumps(results.get("model_kwargs") or {})),
        ("wall time", f"{num(results.get('wall_seconds'), 1)} s ({num(results.get('train_seconds_all_runs'), 1)} s "
         f"of training over {len(results.get('runs') or [])} runs, {results.get('jobs') or 1} at a time)"),
    ])  # fmt: skip
    return '<div class="cards">' + "".join(cards) + "</div>" + facts


def render(results: dict, out: Path) -> str:
    rows = intervals(results)
    zero = next((r for r, g in zip(rows, results.get("summary") or [], strict=True)
                 if g.get("variant") == "shift" and g.get("shift") == 0), None)  # fmt: skip
    ref = Ref(zero.mean, f"t = 0: {zero.mean:.2f} %", "#667085") if zero and finite(zero.mean) else None
    title = "Test accuracy: seeds (dots), mean (diamond), 95 % interval of the mean"
    xy = xy_chart(rows, title + " against t", "threshold shift t", "test accuracy (%)", ref)
    forest = interval_rows(_order(rows, results), title + ", every setting", "test accuracy (%)", ref)
    files = [p for p in (out / "results.json", out / "sweep.log", out / "accuracy_vs_shift.png",
                         out / "activations.png", out / "runs") if p.exists()]  # fmt: skip
    sections = [
        ("overview", "Overview", _overview(results)),
        ("accuracy", "Accuracy against the shift", xy + forest),
        ("comparisons", "Comparisons with t = 0", comparisons(results)),
        ("settings", "Every setting", settings_table(results, rows, out)),
        ("files", "Files", "<ul>" + "".join(f"<li>{link(p, out)}</li>" for p in files) + "</ul>"),
    ]
    heading = f"Shift sweep: {results.get('model', NA)} on {results.get('dataset', NA)}"
    return page(heading, heading, f"{out.name} · results.json · {get(results, 'date', default=NA)}", sections)


def write_sweep_report(out: Path, results: dict) -> Path:
    path = Path(out) / PAGE
    write_atomically(path, render(results, Path(out)))
    return path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or any(a.startswith("-") for a in args):
        print("usage: python -m flow.experiments.sweep_report SWEEP_DIR...", file=sys.stderr)
        return 2
    for arg in args:
        try:
            results = json.loads((Path(arg) / "results.json").read_text())
        except (OSError, ValueError) as exc:
            print(f"error: {arg}: no readable results.json ({' '.join(str(exc).split())})", file=sys.stderr)
            return 2
        print(write_sweep_report(Path(arg), results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
