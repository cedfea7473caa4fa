"""The docs tables of bench/rtl_backend.py's results (docs/rtl_backend.md, docs/hw.md), rendered by
bench/table_render_hw.py from results/bench/rtl_backend.json: one row per case, and the yosys cell counts
per block family of the ``--per-block`` runs."""

from __future__ import annotations

from bench.rtl_backend import CNV_LAYERS


def depth_cell(y: dict) -> str:
    d = y.get("depth")
    return (
        f"{d['critical_path_ns']} ({d['critical_path_lut_levels']} LUT + {d['critical_path_carry4']} CARRY4)"
        if d
        else "-"
    )


def mac_cells(r: dict, y: dict) -> str:
    """Binary MACs per cycle of the CNV (MACs per frame / measured cycles per frame) and LUT per MAC/cycle."""
    if not r["case"].startswith("cnv") or not r["rtlsim"].get("cycles_per_frame"):
        return "- | -"
    per_cycle = sum(mw * mh * px for mw, mh, px in CNV_LAYERS) / r["rtlsim"]["cycles_per_frame"]
    lut = f"{y['lut'] / per_cycle:.2f}" if y.get("lut") else "-"
    return f"{per_cycle:,.0f} | {lut}"


def fmax_cell(r: dict, y: dict) -> str:
    """img/s at the delay model's clock, capped at 200 MHz (the moonshot's clock)."""
    d = y.get("depth")
    if not d or not d.get("est_fmax_mhz"):
        return "-"
    mhz = min(200, d["est_fmax_mhz"])
    return f"{mhz * 1e6 / r['rtlsim']['cycles_per_frame']:,.0f} @{mhz} MHz"


def finn_cells(r: dict, y: dict) -> str:
    """FINN's analytical LUT / BRAM36 for the same folded graph, and the yosys LUT count over it."""
    f = r.get("finn_estimate_resources")
    if not f:
        return "- | -"
    ratio = f"{y['lut'] / f['lut']:.2f}x" if y.get("lut") and f["lut"] else "-"
    return f"{f['lut']:,} / {f['bram18'] / 2:g} | {ratio}"


def table(results: list[dict], meta: dict) -> str:
    head = (
        "| case | target | MVAU PE/SIMD | images (bit-exact) | cycles/frame (model) | img/s @ clock | latency cycles "
        "| sim img/s | model LUT / BRAM36 | yosys LUT | FF | BRAM36 | fits xc7z020 (LUT <= 90 %) "
        "| crit. path LUT levels (est. ns) | FINN HLS est. LUT / BRAM36 | LUT vs FINN est. |\n"
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|\n"
    )
    rows = []
    for r in results:
        if "error" in r:
            rows.append(f"| {r['case']} | failed: {r['error']} |" + " |" * 14)
            continue
        s, y, t = r["rtlsim"], r.get("synth") or {}, r.get("target") or {}
        fold = " ".join(f"{p}/{q}" for p, q in r.get("mvau_pe_simd", [])) or "FINN SetFolding"
        target = t.get("target_fps", "folding JSON") if t else "folding JSON"
        target = f"{target:g}" if isinstance(target, float) else target
        model = t.get("cost_model") or {}
        model_cells = f"{model['lut']:,} / {model['bram36']:g}" if model else "-"
        cycles = f"{s['cycles_per_frame']:g} ({t['model_cycles_per_frame']})" if t else f"{s['cycles_per_frame']:g}"
        fits = "-" if not y else ("yes" if y["fits"] and y["lut"] <= 0.9 * y["budget"]["lut"] else "no")
        lut_pct = f" ({100 * y['lut'] / y['budget']['lut']:.1f} %)" if y else ""
        rows.append(
            f"| {r['case']} | {target} | {fold} | {s['matches']}/{s['images']} | {cycles} "
            f"| {s['fps']:,.0f} @{s.get('clock_mhz', 100):g} MHz "
            f"| {s['latency_cycles']} | {s['sim_images_per_s']:g} | {model_cells} | {y.get('lut', '-')}{lut_pct} "
            f"| {y.get('ff', '-')} | {y.get('bram36', '-')} | {fits} | {depth_cell(y)} | {finn_cells(r, y)} |"
        )
    dates = "; ".join(
        f"{r['case']} {r.get('date', meta['date'])} ({(r.get('provenance') or {}).get('commit', '?')[:7]})"
        for r in results
    )
    foot = (
        f"\nMeasured ({dates}) on {meta['machine']}: {meta['verilator']}, {meta['yosys']}, finn-plus "
        f"{meta['finn']}. Commands: `results/bench/rtl_backend.json` (`command` of each row). "
        "img/s = the build's clock / measured steady-state cycles per frame (RTL simulation of the whole "
        "generated top, FIFOs sized by simulation); cycles/frame (model): the folding search's cycle model. "
        "LUT includes LUTs used as memory (LUTRAM/SRL); no place and route. Critical path: "
        "flow.rtl_backend.timing (LUT levels between registers, a per-cell delay model), where the build "
        "reported it. FINN HLS est.: finn-plus's own estimate_layer_resources of the same folded graph (HLS "
        "MVAUs), computed in the same run. References: finn-examples CNV-W1A1 on Pynq-Z1 3,020 img/s; BNN-"
        "PYNQ CNV-W1A1 26,072 LUT / 124 BRAM36 (Vivado, post-implementation).\n"
    )
    return head + "\n".join(rows) + "\n" + foot


BLOCK_FAMILIES = [
    ("bnn_mvau", "MVAU (bnn_mvau)"),
    ("ConvolutionInputGenerator", "sliding window (FINN SWG)"),
    ("stream_subsample", "1x1 window (stream_subsample)"),
    ("StreamingDataWidthConverter", "width converter (stream_dwc)"),  # FINN's vpc before 0811a5d
    ("StreamingFIFO", "FIFO (FINN)"),
    ("bnn_pool", "pool (bnn_pool)"),
    ("bnn_maxpool", "max pool (bnn_maxpool)"),  # results before bnn_pool
    ("Thresholding", "thresholding (FINN)"),
    ("bnn_labelselect", "label select"),
]


def block_rows(blocks: dict) -> list[dict]:
    """The top's submodules summed per block family (hierarchical yosys run, ``synth.blocks``)."""
    from flow.rtl_backend.synth import count_cells

    rows = {label: {"block": label, "instances": 0, "cells": {}} for _, label in BLOCK_FAMILIES}
    for name, b in blocks.items():
        label = next((lb for key, lb in BLOCK_FAMILIES if key in name), "other")
        row = rows.setdefault(label, {"block": label, "instances": 0, "cells": {}})
        row["instances"] += b["instances"]
        for c, n in b["cells"].items():
            row["cells"][c] = row["cells"].get(c, 0) + n * b["instances"]
    out = []
    for row in rows.values():
        if row["instances"]:
            out.append({"block": row["block"], "instances": row["instances"], **count_cells(row["cells"])})
    return out


def blocks_part(r: dict, before: dict | None) -> str:
    """One case's per-block table; ``before``: the same case measured on earlier RTL (LUT/FF before)."""
    rows = block_rows(r["synth"]["blocks"])
    total = sum(x["lut"] for x in rows)
    old = {x["block"]: x for x in block_rows(before["synth"]["blocks"])} if before else {}
    head = f"**{r['case']}** (MVAU PE/SIMD {' '.join(f'{p}/{q}' for p, q in r.get('mvau_pe_simd', []))}; "
    head += f"flattened total {r['synth']['lut']} LUT, {r['synth']['bram36']} BRAM36; per-block sum {total} LUT"
    if before:
        head += f"; before: {before['synth']['lut']} LUT flattened, {before.get('date', '?')}, {before.get('rtl', '')}"
    lines = [
        head + ")\n",
        *([f"{r['synth']['blocks_note']}\n"] if r["synth"].get("blocks_note") else []),
        "| block | instances | LUT | LUT before | of which LUTRAM/SRL | FF | FF before | BRAM36 | share of LUT |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for x in sorted(rows, key=lambda x: -x["lut"]):
        o = old.get(x["block"], {})
        lines.append(
            f"| {x['block']} | {x['instances']} | {x['lut']} | {o.get('lut', '-')} | {x['lut_memory']} | {x['ff']} "
            f"| {o.get('ff', '-')} | {x['bram36']} | {100 * x['lut'] / max(total, 1):.1f} % |"
        )
    lines.append("\nMVAU LUT per layer (before -> now): " + mvau_layers(r, before))
    return "\n".join(lines) + "\n"


def mvau_layers(r: dict, before: dict | None) -> str:
    """Each bnn_mvau instance's LUTs (by its instance name), with the earlier measurement when there is one."""
    from flow.rtl_backend.synth import count_cells

    def per_layer(res: dict) -> dict:
        return {
            name.rsplit("u_", 1)[-1]: count_cells(b["cells"])["lut"]
            for name, b in res["synth"]["blocks"].items()
            if name.startswith("bnn_mvau")
        }

    now, old = per_layer(r), per_layer(before) if before else {}
    return ", ".join(f"{k} {old.get(k, '-')} -> {v}" for k, v in sorted(now.items()))


def blocks_table(results: list[dict], before: dict | None = None) -> str:
    """Per-block LUT/FF/BRAM table of every case synthesized per block (docs/hw.md, bench/tables.py);
    ``before``: case -> an earlier measurement of it (results/bench/rtl_backend.json "before")."""
    before = before or {}
    return "\n".join(
        blocks_part(r, before.get(r["case"]) if (before.get(r["case"]) or {}).get("synth", {}).get("blocks") else None)
        for r in results
        if (r.get("synth") or {}).get("blocks")
    )
