"""The sections of report/report.html (report_html.py) other than the per-block part: header,
verification, throughput, resources against the part, timing, warnings, steps, files. Each takes the
summary dict and returns HTML; a missing key shows ``n/a``."""

from __future__ import annotations

import re
from pathlib import Path

from flow.core.boards import BOARDS
from flow.core.html import NA, Cell, banner, esc, finite, get, kv_table, link, mhz, ncell, num, pct, seconds, table
from flow.core.svg import SOURCE_COLORS, Ref, Series, hbar_chart

RESOURCES = (("lut", "LUT"), ("ff", "FF"), ("bram36", "BRAM36"), ("uram", "URAM"), ("dsp", "DSP"))
STAGE_KEY = re.compile(r"^([a-z0-9]+)_vs_([a-z0-9_]+)$")
FILES_PER_FOLDER = 14


def shift_text(shift) -> str:
    if isinstance(shift, list):
        return "per layer [" + ", ".join(f"{v:g}" if finite(v) else str(v) for v in shift) + "]"
    return f"t = {shift:g}" if finite(shift) else NA


def header(summary: dict) -> str:
    prov = summary.get("provenance") or {}
    commit = prov.get("commit")
    if commit:
        dirty = prov.get("dirty")
        commit = f"{commit[:12]}" + (" (dirty: " + ", ".join(prov.get("dirty_files") or []) + ")" if dirty else "")
    override = summary.get("shift_override") or {}
    override_text = NA
    if override:
        override_text = f"trained with t = {override.get('trained_shift')}, built with {override.get('shift')}"
        if finite(override.get("accuracy_trained")):
            acc = (override["accuracy_trained"], override.get("accuracy_shifted"))
            override_text += f": accuracy {num(100 * acc[0], 2)} % -> {num(100 * (acc[1] or 0), 2)} %"
    versions = ", ".join(f"{k} {v}" for k, v in (prov.get("versions") or {}).items() if v) or NA
    steps = [s for s in summary.get("steps") or [] if isinstance(s, dict)]
    wall = summary.get("wall_seconds") or (sum(s.get("seconds") or 0 for s in steps) if steps else None)
    return kv_table([
        ("board / part", f"{summary.get('board') or NA} / {summary.get('part') or NA}"),
        ("clock", mhz(summary.get("clock_mhz"))),
        ("backend", summary.get("backend") or NA),
        ("model", summary.get("model") or NA),
        ("input shape", " x ".join(str(d) for d in summary.get("input_shape") or []) or NA),
        ("shift", shift_text(summary.get("shift"))),
        ("shift override", override_text),
        ("flow commit", commit or NA),
        ("command", Cell(f"<code>{esc(prov['command'])}</code>", raw=True) if prov.get("command") else NA),
        ("date", prov.get("date") or summary.get("date") or NA),
        ("machine", prov.get("machine") or NA),
        ("versions", versions),
        ("wall time", f"{seconds(wall)} in {len(steps)} steps (see Build steps)" if steps else seconds(wall)),
    ])  # fmt: skip


def stages(verification: dict) -> list[tuple[str, str, object]]:
    """(reference, stage, images equal) for every ``<reference>_vs_<stage>`` key, in summary order."""
    out = []
    for key, value in verification.items():
        match = STAGE_KEY.match(key)
        if match and (value is None or finite(value)):
            out.append((match.group(1), match.group(2), value))
    return out


def verification(summary: dict) -> str:
    v = summary.get("verification") or {}
    images, accuracy = v.get("images"), v.get("accuracy") or {}
    mismatch = v.get("first_mismatch") or {}
    rows, classes = [], []
    for ref, stage, matches in stages(v):
        ok = finite(matches) and matches == images
        key = f"{ref}_vs_{stage}"
        acc = accuracy.get(stage)
        rows.append([stage, ref, Cell(f"{num(matches)}/{num(images)}" if finite(matches) else "not run",
                                      "num ok" if ok else ("num bad" if finite(matches) else "num muted")),
                     ncell(mismatch.get(key)), ncell(100 * acc if finite(acc) else None, 2, "%")])  # fmt: skip
        classes.append("" if ok or not finite(matches) else "hl")
    stall = get(summary, "rtlsim", "stall_run") or {}
    facts = kv_table([
        ("images", f"{num(images)} from {v.get('source') or NA}"),
        ("reference", v.get("reference") or NA),
        ("accuracy of the reference", f"{num(100 * accuracy['reference'], 2)} %" if finite(accuracy.get("reference"))
         else "no labels (random images)" if v.get("source") == "random" else NA),
        ("logits of QONNX bit-exact", f"{num(v.get('qonnx_logits_exact'))}/{num(images)}"),
        ("float ties", f"{num(v.get('float_ties'))} (the reference's float sign sits on a threshold: the integer "
         "graph decides, counted as equal)"),
        ("output ties", f"{num(v.get('output_ties'))} (several maximal logits: any of them is a correct label)"),
        ("RTL under input stalls and backpressure",
         f"{num(stall.get('matches_free_run'))}/{num(stall.get('images'))} equal to the free run" if stall else NA),
    ])  # fmt: skip
    table_html = table(["stage", "reference", "images equal", "first mismatch", "accuracy"], rows, row_classes=classes)
    return table_html + facts


def _bottleneck_reason(summary: dict, row: dict | None) -> str:
    t = summary.get("target") or {}
    if t.get("limit"):
        return str(t["limit"])
    if row is None:
        return NA
    fold = row.get("folding")
    if row.get("can_unfold") is False:
        return f"fully unfolded ({fold}): faster needs a wider network split, another clock or another network"
    if t.get("reached"):
        return f"the target is met: the search stops at the cheapest folding that meets it ({fold or 'no folding'})"
    return fold or NA


def _div(a, b):
    return a / b if finite(a) and finite(b) and b else None


def throughput(summary: dict, rows: list[dict]) -> str:
    t, e, r = summary.get("target") or {}, summary.get("estimate") or {}, summary.get("rtlsim") or {}
    clock = summary.get("clock_mhz")
    target = t.get("target_fps")
    target_text = {
        "max": "max (the fastest folding that fits)",
        "default": f"default (the fastest folding that fits, at most {num(t.get('fps_cap'), 0, 'img/s')} "
        "the DMA port feeds)",
    }.get(target) or num(target, 0, "img/s")
    reached = t.get("reached")
    neck = t.get("bottleneck") or e.get("bottleneck")
    row = next((b for b in rows if b.get("name") == neck), None)
    latency = r.get("latency_cycles")
    model_c, rtl_c = t.get("model_cycles_per_frame"), r.get("cycles_per_frame")
    agree = f" (RTL / model = {rtl_c / model_c:.3f})" if finite(model_c) and finite(rtl_c) and model_c else ""
    return kv_table([
        ("target", Cell(f"{esc(target_text)}: <b>{'reached' if reached else 'NOT reached'}</b>", "ok" if reached
                        else "bad", raw=True) if t else NA),
        ("cycle model (our RTL)", f"{num(model_c)} cycles/frame = {num(t.get('model_fps'))} img/s at {mhz(clock)}"),
        ("RTL simulation (measured)", f"{num(rtl_c)} cycles/frame = {num(r.get('fps'))} img/s at "
         f"{mhz(r.get('clock_mhz') or clock)} over {num(r.get('images'))} images{agree}"),
        ("latency (RTL)", f"{num(latency)} cycles = {num(_div(latency, clock), 1)} µs"),
        ("FINN estimate (HLS layers)", f"{num(e.get('cycles_per_frame'))} cycles/frame = {num(e.get('fps'))} img/s, "
         f"bottleneck {e.get('bottleneck') or NA}"),
        ("bottleneck", f"{neck or NA}" + (f" ({row.get('op_type') or NA}, {row.get('folding') or 'no folding'})"
                                          if row else "")),
        ("why it stops there", _bottleneck_reason(summary, row)),
        ("simulation speed", f"{num(r.get('sim_images_per_s'), 1)} img/s of Verilator simulation"),
    ])  # fmt: skip


def budget(summary: dict) -> dict:
    """The part's resources: flow/core/boards.py for the summary's board, else synth's budget."""
    board = BOARDS.get(summary.get("board") or "")
    if board is not None:
        return {k: getattr(board, k, None) for k, _ in RESOURCES}
    return {k: get(summary, "synth", "budget", k) for k, _ in RESOURCES}


def fit(summary: dict) -> dict:
    """Every source's numbers against the part, which source decides (yosys, else the backend's model),
    the banner, and whether the design does not fit."""
    part = budget(summary)
    cost = (summary.get("target") or {}).get("cost_model") or {}
    blocks = [b for b in summary.get("blocks") or [] if isinstance(b, dict)]
    if not cost and any(finite(b.get("lut")) for b in blocks):
        cost = {"lut": sum(b.get("lut") or 0 for b in blocks), "bram36": sum(b.get("bram36") or 0 for b in blocks)}
    synth = summary.get("synth") or {}
    sources = {"FINN estimate": {k: get(summary, "estimate", k) for k, _ in RESOURCES},
               "our cost model": {k: cost.get(k) for k, _ in RESOURCES},
               "yosys": {k: synth.get(k) for k, _ in RESOURCES}}  # fmt: skip
    sources["FINN estimate"]["ff"] = None  # FINN estimates no flip-flops
    primary = "yosys" if finite(synth.get("lut")) else "our cost model" if finite(cost.get("lut")) else "FINN estimate"
    if summary.get("backend") == "finn-hls" and primary != "yosys":
        primary = "FINN estimate"
    over = {name: [(label, vals[k], part[k]) for k, label in RESOURCES
                   if finite(vals.get(k)) and finite(part.get(k)) and vals[k] > part[k]]
            for name, vals in sources.items()}  # fmt: skip
    text = "; ".join(f"{label} {num(v)} = {pct(v, b)} of {num(b)}" for label, v, b in over[primary])
    where = summary.get("part") or "the part"
    if over[primary]:
        html = banner(f"DOES NOT FIT {where}: {primary} {text}", "bad")
    elif any(over.values()):
        others = "; ".join(f"{n}: " + ", ".join(f"{lbl} {pct(v, b)}" for lbl, v, b in o) for n, o in over.items() if o)
        html = banner(f"Fits by {primary}, but over the part by {others}", "warn")
    elif cost.get("fits") is False:
        html = banner(f"Within the part, but above the cost model's {pct(cost.get('budget_fraction'), 1, 0)} "
                      "place-and-route margin", "warn")  # fmt: skip
    else:
        used = ", ".join(f"{label} {pct(sources[primary][k], part[k])}" for k, label in RESOURCES
                         if finite(sources[primary].get(k)) and part.get(k))  # fmt: skip
        html = banner(f"Fits {where} ({primary}: {used or NA})", "ok")
    lut = (primary, sources[primary].get("lut"), part.get("lut"))
    return {"part": part, "sources": sources, "primary": primary, "over": over, "bad": bool(over[primary]),
            "banner": html, "primary_lut": lut, "cost": cost}  # fmt: skip


def resources(summary: dict, fitted: dict) -> str:
    part, sources = fitted["part"], fitted["sources"]
    headers = ["resource", "part"] + [h for name in sources for h in (name, "% of part")]
    rows = []
    for key, label in RESOURCES:
        row = [label, ncell(part.get(key))]
        for vals in sources.values():
            v = vals.get(key)
            bad = finite(v) and finite(part.get(key)) and v > part[key]
            row += [ncell(v, 1 if key == "bram36" else 0, cls="bad" if bad else ""),
                    Cell(pct(v, part.get(key)), "num bad" if bad else "num")]  # fmt: skip
        rows.append(row)
    labels = [label for key, label in RESOURCES if part.get(key)]
    series = [Series(name, [100 * vals[k] / part[k] if finite(vals.get(k)) else None for k, _ in RESOURCES
                            if part.get(k)], SOURCE_COLORS[name]) for name, vals in sources.items()]  # fmt: skip
    series = [s for s in series if any(v is not None for v in s.values)]
    refs = [Ref(100.0, "the part (100 %)", "#c4453a")]
    margin = fitted["cost"].get("budget_fraction")
    if finite(margin):
        refs.append(Ref(100.0 * margin, f"cost model margin ({pct(margin, 1, 0)})", "#e08a1e"))
    chart = hbar_chart(labels, series, "Utilization of the part", "% of the part", refs=refs, label_width=70)
    note = ('<p class="muted">FINN estimate: FINN\'s analytical model of its HLS layers (it does not model '
            "our RTL). Our cost model: fitted on yosys runs of our RTL (flow/analysis/cost.py), what the folding "
            "search keeps under the margin. yosys: synth_xilinx cell counts without place and route "
            f"({esc(_synth_tool(summary))}).</p>")  # fmt: skip
    return table(headers, rows) + chart + note


def _synth_tool(summary: dict) -> str:
    synth = summary.get("synth")
    if not synth:
        return "not run: build with --synth"
    return synth.get("tool") or "yosys"


def timing(summary: dict) -> str:
    synth = summary.get("synth") or {}
    found = dict(synth.get("depth") or synth.get("timing") or {})
    found.update({k: v for k, v in synth.items() if k.startswith("critical_path") or "fmax" in k})
    if not found:
        why = "no synthesis (build with --synth)" if not synth else "this synthesis recorded no critical path"
        return f'<p class="muted">Timing path: unknown, {why}. No place and route exists for these parts here.</p>'
    steps = found.pop("critical_path", None) or []
    found.pop("slowest_paths", None)
    rows = [
        (k.replace("_", " "), num(v, 2) if finite(v) and not float(v).is_integer() else v) for k, v in found.items()
    ]
    # the critical path cell by cell, as a timing report lists it (flow/rtl_backend/timing.path_report)
    path = [[num(s["ns"], 2), s.get("type", "port"), s.get("pin", ""), s["net"], s.get("at", "")] for s in steps]
    return (
        kv_table(rows)
        + (table(["arrival ns", "cell", "pin", "net", "where"], path) if path else "")
        + '<p class="muted">A logic-depth estimate of the synthesized netlist (fixed delay per '
        "cell, flow/rtl_backend/timing.py), not a routed timing report.</p>"
    )


def warnings(summary: dict, fitted: dict) -> str:
    items = [("bad", f"build failed: {summary['error']}")] if summary.get("error") else []
    items += [("warn", w) for w in summary.get("warnings") or [] if isinstance(w, str)]
    t = summary.get("target") or {}
    if t and not t.get("reached"):
        items.append(("bad", f"folding target not reached: {t.get('limit') or NA}"))
    for name, over in fitted["over"].items():
        if over:
            items.append(("bad" if name == fitted["primary"] else "warn", f"{name} over the part: " +
                          ", ".join(f"{label} {num(v)} of {num(b)}" for label, v, b in over)))  # fmt: skip
    for key, index in (get(summary, "verification", "first_mismatch") or {}).items():
        items.append(("bad", f"verification {key}: first differing image #{index}"))
    bit = summary.get("bitstream") or {}
    if bit.get("status") and bit.get("status") != "built":
        items.append(("warn", f"bitstream {bit['status']}: {bit.get('reason') or NA}"))
    for step in summary.get("steps") or []:
        if isinstance(step, dict) and step.get("status") == "failed":
            items.append(("bad", f"step {step.get('name')} failed"))
    if not items:
        return '<p class="muted">None.</p>'
    marks = {"warn": "⚠", "bad": "✖"}
    return "<ul>" + "".join(f'<li class="{c}">{marks[c]} {esc(text)}</li>' for c, text in items) + "</ul>"


def steps(summary: dict) -> str:
    records = [s for s in summary.get("steps") or [] if isinstance(s, dict)]
    if not records:
        return f'<p class="muted">{NA}</p>'
    labels = [f"{s.get('name', '?')}" + (f" ({s['status']})" if s.get("status") not in (None, "ok") else "")
              for s in records]  # fmt: skip
    marks = {i: "failed" for i, s in enumerate(records) if s.get("status") == "failed"}
    total = sum(s.get("seconds") or 0 for s in records)
    chart = hbar_chart(labels, [Series("seconds", [s.get("seconds") for s in records])],
                       f"Wall time per step (total {seconds(total)})", "seconds", marks, label_width=200)  # fmt: skip
    return chart


def files(build_dir: Path, report_dir: Path) -> str:
    """Every top-level folder of the build with its files (links relative to report/), and every log."""
    if not build_dir.is_dir():
        return f'<p class="muted">{NA}</p>'
    out = []
    for folder in sorted(p for p in build_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
        shown = [link(p, report_dir, p.name + ("/" if p.is_dir() else "")) for p in entries[:FILES_PER_FOLDER]]
        more = f" … and {len(entries) - FILES_PER_FOLDER} more" if len(entries) > FILES_PER_FOLDER else ""
        out.append(f"<h3>{link(folder, report_dir, folder.name + '/')} ({len(entries)} entries)</h3>"
                   f'<ul class="files">{"".join(f"<li>{s}</li>" for s in shown)}</ul>{esc(more)}')  # fmt: skip
    logs = sorted(p for depth in ("*.log", "*/*.log", "*/*/*.log") for p in build_dir.glob(depth)
                  if not any(x.startswith(".") for x in p.relative_to(build_dir).parts))  # fmt: skip
    if logs:
        out.append("<h3>logs</h3><ul>" + "".join(f"<li>{link(p, report_dir)}</li>" for p in logs) + "</ul>")
    return "\n".join(out)
