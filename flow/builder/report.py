"""``report/summary.json``, its per-block rows, and the table printed at the end of a build (the HTML
page and the breakdown PNG: report_html.py, report_blocks.py)."""

from __future__ import annotations

import json
from pathlib import Path

from flow.analysis.blocks import block_rows, layer_blocks
from flow.compiler.verify import stage_matches
from flow.rtl_backend.emitters.common import sv_name
from flow.rtl_backend.synth import count_cells


def finn_estimates(report_dir: Path) -> dict:
    """Totals from FINN's analytical estimate reports (BRAM_18K halved into BRAM36)."""
    resources = json.loads((report_dir / "estimate_layer_resources.json").read_text())["total"]
    perf = json.loads((report_dir / "estimate_network_performance.json").read_text())
    return {
        "lut": round(float(resources.get("LUT", 0))),
        "bram36": float(resources.get("BRAM_18K", 0)) / 2,
        "dsp": round(float(resources.get("DSP", 0))),
        "uram": round(float(resources.get("URAM", 0))),
        "cycles_per_frame": int(perf["max_cycles"]),
        "bottleneck": perf.get("max_cycles_node_name"),
        "latency_cycles": int(perf["critical_path_cycles"]),
        "fps": float(perf["estimated_throughput_fps"]),
    }


def folding_target(search, rtlsim: dict | None, oversize: str | None = None) -> dict | None:
    """The folding search's promise against the RTL simulation's measurement (summary "target").

    ``target_fps``: the number asked for, "max" (the fastest that fits), or "default" (the fastest that
    fits at most ``fps_cap``, the DMA port's input rate). ``reached``: the measured img/s (the model's
    where the RTL was not simulated) is at least the target (for "max"/"default": the folding's resource
    model fits the board). ``limit`` names what stops it; ``oversize`` the --allow-oversize warning."""
    if search is None:
        return None
    measured = rtlsim["fps"] if rtlsim else None
    best = measured if measured is not None else search.fps
    target = search.target_fps
    reached = bool(search.cost.get("fits")) if target is None else best >= target
    limit = search.limit
    if not reached and limit is None:
        limit = (
            f"modelled {search.fps:.0f} img/s (bottleneck {search.bottleneck}), RTL simulation measured {best:.0f}"
            if target is not None
            else "no folding fits the board's budget"
        )
    named = "default" if target is None and search.fps_cap is not None else "max"
    return {
        "target_fps": named if target is None else target,
        "fps_cap": search.fps_cap,
        "reached": reached,
        "measured_fps": measured,
        "model_fps": search.fps,
        "model_cycles_per_frame": search.cycles,
        "bottleneck": search.bottleneck,
        "limit": None if reached else limit,
        "cost_model": search.cost,
        "oversize": oversize,
        "search_steps": search.steps,
    }


def _target_rows(t: dict) -> list[tuple[str, str]]:
    got = t["measured_fps"] if t["measured_fps"] is not None else t["model_fps"]
    status = "reached" if t["reached"] else f"NOT REACHED: best {got:.0f} img/s, {t['limit']}"
    if t["target_fps"] == "max":
        target = "max (fastest that fits)"
    elif t["target_fps"] == "default":
        target = f"default (fastest that fits, <= {t['fps_cap']:,.0f} img/s the DMA feeds)"
    else:
        target = f"{t['target_fps']:g} img/s"
    c = t["cost_model"]
    fits = "fits the board" if c["fits"] else "DOES NOT FIT the board (--allow-oversize)"
    margin = c.get("margin", {}).get("lut", 0.0)
    return [
        ("folding target", f"{target}: {status}"),
        (
            "folding model",
            f"{t['model_fps']:.0f} img/s (bottleneck {t['bottleneck']}); {c['lut']} LUT (+{margin:.0%} margin) / "
            f"{c['bram36']:g} BRAM36 / {c.get('uram', 0):g} URAM / {c.get('dsp', 0)} DSP: {fits}",
        ),
    ]


def summary_table(summary: dict) -> str:
    """Human-readable end-of-build table."""
    rows = [
        *_verification_rows(summary),
        *_throughput_rows(summary),
        *_synthesis_rows(summary.get("synth")),
        ("bitstream", f"{summary['bitstream']['status']}: {summary['bitstream']['reason']}"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k:<{width}}  {val}" for k, val in rows)


def _verification_rows(summary: dict) -> list[tuple[str, str]]:
    """Board, model, and what each stage's outputs agree on (ties and accuracy counted)."""
    v = summary["verification"]
    if summary.get("model_source") == "qonnx":
        model = f"{summary['model']} (a QONNX file: its thresholds as the graph has them)"
    else:
        model = f"{summary['model']} (shift {summary['shift']})"
    rows = [
        ("board / part", f"{summary['board']} / {summary['part']} @ {summary['clock_mhz']:g} MHz"),
        ("model", model),
        ("verified on", v.get("source_note") or f"{v['images']} images ({v['source']})"),
    ]
    for stage, value in stage_matches(v).items():
        label = f"{v['reference']} = {stage}" + (" (RTL simulation)" if stage == "rtl" else "")
        rows.append((label, "not run" if value is None else f"{value}/{v['images']} images agree"))
    if v.get("qonnx_logits_exact") is not None:
        rows.append(("qonnx logits bit-exact", f"{v['qonnx_logits_exact']}/{v['images']}"))
    if v.get("float_ties"):
        rows.append(("float ties (integer graph decides)", str(v["float_ties"])))
    if v.get("output_ties"):
        rows.append(("output ties (any maximal logit agrees)", str(v["output_ties"])))
    for name, acc in v.get("accuracy", {}).items():
        rows.append((f"accuracy ({name})", f"{100 * acc:.2f} %"))
    return rows


def _throughput_rows(summary: dict) -> list[tuple[str, str]]:
    """FINN's estimate, the folding target and model, and what RTL simulation measured."""
    e = summary["estimate"]
    rows = [
        ("estimate LUT / BRAM36 / DSP", f"{e['lut']} / {e['bram36']:g} / {e['dsp']}"),
        ("estimate cycles/frame", f"{e['cycles_per_frame']} (bottleneck {e['bottleneck']})"),
        ("estimate throughput", f"{e['fps']:.0f} img/s"),
    ]
    if summary.get("target"):
        rows += _target_rows(summary["target"])
    r = summary.get("rtlsim")
    if r:
        rows += [
            ("rtlsim cycles/frame", f"{r['cycles_per_frame']:g} (latency {r['latency_cycles']} cycles)"),
            ("rtlsim throughput", f"{r['fps']:.0f} img/s at {r['clock_mhz']:g} MHz"),
            ("rtlsim speed", f"{r['sim_images_per_s']:g} img/s of simulation"),
        ]
    return rows


def _synthesis_rows(y: dict | None) -> list[tuple[str, str]]:
    """yosys' resources against the board, and the delay model's critical path (``--synth``)."""
    if not y:
        return []
    fits = (
        "fits" if y["fits"] else "DOES NOT FIT: over by " + ", ".join(f"{v:g} {k}" for k, v in y["over_budget"].items())
    )
    counts = f"{y['lut']} / {y['ff']} / {y['bram36']:g} / {y.get('uram', 0)} / {y['dsp']}"
    ooc = ", each block out of context" if y.get("out_of_context") else ""
    rows = [("yosys LUT / FF / BRAM36 / URAM / DSP", f"{counts} ({fits}{ooc})")]
    d = y.get("depth")
    if d:
        path = f"{d['critical_path_lut_levels']} LUT levels + {d['critical_path_carry4']} CARRY4"
        ends = f"{d['critical_path_from']} -> {d['critical_path_to']}"
        if "critical_path_block" in d:  # out of context: the slowest block's, paths between blocks untimed
            ends = f"slowest block {d['critical_path_block']}: {ends}"
        clock = ""
        if "clock_mhz" in y:
            clock = f"; {'meets' if y['meets_clock'] else 'MISSES'} the {y['clock_mhz']:g} MHz clock"
        rows.append(
            (
                "critical path (delay model)",
                f"{d['critical_path_ns']:g} ns, {path} (~{d['est_fmax_mhz']} MHz{clock}; {ends})",
            )
        )
    return rows


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def block_table(
    rtl_model, folded, report_dir: Path, fifo_depths: dict | None, synth: dict | None, part: str
) -> list[dict]:
    """summary.json ``blocks``: every block of the RTL graph (flow/analysis/blocks.py rows) with FINN's
    per-layer estimate of the layers it implements (``finn_*``), its FIFO depth after sizing and, where
    the synthesis kept the hierarchy (``synth.blocks``), its yosys counts (``yosys_*``)."""
    rows = block_rows(rtl_model, part)
    by_name = {r["name"]: r for r in rows}
    cycles = _read_json(report_dir / "estimate_layer_cycles.json")
    resources = _read_json(report_dir / "estimate_layer_resources.json")
    for layer, block in layer_blocks(folded, rtl_model).items():
        if layer not in cycles and layer not in resources:
            continue
        row, res = by_name[block], resources.get(layer, {})
        row.setdefault("finn_layers", []).append(layer)
        row["finn_cycles"] = max(row.get("finn_cycles", 0), int(cycles.get(layer, 0)))
        row["finn_lut"] = row.get("finn_lut", 0) + round(float(res.get("LUT", 0)))
        row["finn_bram36"] = row.get("finn_bram36", 0) + float(res.get("BRAM_18K", 0)) / 2
    for row in rows:
        if row["name"] in (fifo_depths or {}):
            row["fifo_depth"] = int(fifo_depths[row["name"]])
    add_yosys_blocks(rows, (synth or {}).get("blocks"))
    return rows


def add_yosys_blocks(rows: list[dict], blocks: dict | None) -> None:
    """yosys per-block counts (synth.py ``blocks``: ``module$shiftbnn_top.u_<instance>`` -> cells of
    one instance) onto the rows whose instance name they carry. Identical modules synthesized once
    name only their first instance: that row notes it, the other instances stay without numbers."""
    by_instance = {sv_name(r["name"]): r for r in rows}
    for key, block in (blocks or {}).items():
        row = by_instance.get(key.rsplit(".u_", 1)[-1]) if ".u_" in key else None
        if row is None:
            continue
        counts = count_cells(block.get("cells", {}))
        row.update(yosys_lut=counts["lut"], yosys_ff=counts["ff"], yosys_bram36=counts["bram36"])
        if block.get("instances", 1) > 1:
            row["yosys_note"] = f"module shared by {block['instances']} identical instances (counts of one)"
