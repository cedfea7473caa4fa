"""``report/summary.json`` and the table printed at the end of a build."""

from __future__ import annotations

import json
from pathlib import Path


def finn_estimates(report_dir: Path) -> dict:
    """Totals from FINN's analytical estimate reports (BRAM_18K halved into BRAM36)."""
    resources = json.loads((report_dir / "estimate_layer_resources.json").read_text())["total"]
    perf = json.loads((report_dir / "estimate_network_performance.json").read_text())
    return {
        "lut": round(float(resources.get("LUT", 0))),
        "bram36": float(resources.get("BRAM_18K", 0)) / 2,
        "dsp": round(float(resources.get("DSP", 0))),
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
    v, e = summary["verification"], summary["estimate"]
    rows = [
        ("board / part", f"{summary['board']} / {summary['part']} @ {summary['clock_mhz']:g} MHz"),
        ("model", f"{summary['model']} (shift {summary['shift']})"),
        ("verified images", str(v["images"]) + f" (reference: {v['reference']})"),
    ]
    for key in ("brevitas_vs_qonnx", "brevitas_vs_streamlined", "brevitas_vs_finn", "brevitas_vs_rtl"):
        value = v.get(key)
        rows.append((key, "n/a" if value is None else f"{value}/{v['images']}"))
    if v.get("qonnx_logits_exact") is not None:
        rows.append(("qonnx logits bit-exact", f"{v['qonnx_logits_exact']}/{v['images']}"))
    if v.get("float_ties"):
        rows.append(("float ties (integer graph decides)", str(v["float_ties"])))
    if v.get("output_ties"):
        rows.append(("output ties (any maximal logit agrees)", str(v["output_ties"])))
    for name, acc in v.get("accuracy", {}).items():
        rows.append((f"accuracy ({name})", f"{100 * acc:.2f} %"))
    rows += [
        ("estimate LUT / BRAM36 / DSP", f"{e['lut']} / {e['bram36']:g} / {e['dsp']}"),
        ("estimate cycles/frame", f"{e['cycles_per_frame']} (bottleneck {e['bottleneck']})"),
        ("estimate throughput", f"{e['fps']:.0f} img/s"),
    ]
    t = summary.get("target")
    if t:
        rows += _target_rows(t)
    r = summary.get("rtlsim")
    if r:
        rows += [
            ("rtlsim cycles/frame", f"{r['cycles_per_frame']:g} (latency {r['latency_cycles']} cycles)"),
            ("rtlsim throughput", f"{r['fps']:.0f} img/s at {r['clock_mhz']:g} MHz"),
            ("rtlsim speed", f"{r['sim_images_per_s']:g} img/s of simulation"),
        ]
    y = summary.get("synth")
    if y:
        fits = (
            "fits"
            if y["fits"]
            else "DOES NOT FIT: over by " + ", ".join(f"{v:g} {k}" for k, v in y["over_budget"].items())
        )
        rows.append(
            ("yosys LUT / FF / BRAM36 / DSP", f"{y['lut']} / {y['ff']} / {y['bram36']:g} / {y['dsp']} ({fits})")
        )
        if y.get("depth"):
            rows.append(("critical path (delay model)", critical_path_text(y["depth"], summary["clock_mhz"])))
    rows.append(("bitstream", f"{summary['bitstream']['status']}: {summary['bitstream']['reason']}"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k:<{width}}  {val}" for k, val in rows)


def critical_path_text(depth: dict, clock_mhz: float) -> str:
    """The delay model's slowest register-to-register path against the clock period (no place and route)."""
    period = 1e3 / clock_mhz
    meets = "meets" if depth["critical_path_ns"] <= period else "DOES NOT MEET"
    return (
        f"{depth['critical_path_ns']:g} ns, {depth['critical_path_lut_levels']} LUT levels + "
        f"{depth['critical_path_carry4']} CARRY4 (est. {depth['est_fmax_mhz']} MHz; {meets} "
        f"{period:g} ns at {clock_mhz:g} MHz)"
    )


def write_breakdown_png(report_dir: Path, summary: dict) -> Path:
    """report/breakdown.png: per layer, FINN's estimated cycles per frame, LUT and BRAM36 (from
    estimate_layer_cycles.json / estimate_layer_resources.json), with what our RTL measured for the
    whole design beside them: the RTL simulation's cycles per frame (the interval the slowest layer
    sets) and yosys' LUT / BRAM36 totals when --synth ran."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cycles = json.loads((report_dir / "estimate_layer_cycles.json").read_text())
    resources = json.loads((report_dir / "estimate_layer_resources.json").read_text())
    layers = [name for name in cycles if name in resources]
    values = {
        "cycles per frame": [cycles[n] for n in layers],
        "LUT": [float(resources[n].get("LUT", 0)) for n in layers],
        "BRAM36": [float(resources[n].get("BRAM_18K", 0)) / 2 for n in layers],
    }
    rtl, synth = summary.get("rtlsim") or {}, summary.get("synth") or {}
    measured = {  # whole-design numbers of our RTL, (value, what)
        "cycles per frame": (rtl.get("cycles_per_frame"), "RTL simulation"),
        "LUT": (synth.get("lut"), "yosys, whole design"),
        "BRAM36": (synth.get("bram36"), "yosys, whole design"),
    }
    fig, axes = plt.subplots(1, 3, figsize=(max(9.0, 1.1 * len(layers) + 5), 3.8))
    for ax, (what, ys) in zip(axes, values.items(), strict=True):
        ax.bar(range(len(layers)), ys, color="C0", label="FINN estimate per layer")
        value, source = measured[what]
        if value is not None:
            ax.axhline(value, color="C3", ls="--", lw=1, label=f"{source}: {value:g}")
        ax.set_xticks(range(len(layers)), layers, rotation=45, ha="right", fontsize=7)
        ax.set_title(what, fontsize=9)
        ax.legend(fontsize=7)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"{summary['model']} on {summary['board']}: per-layer breakdown", fontsize=9)
    fig.tight_layout()
    path = report_dir / "breakdown.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
