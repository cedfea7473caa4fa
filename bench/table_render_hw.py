"""The hardware renderers of bench/tables.py: one function per table, each reading ``results/bench/*.json``
through the benchmark script's own table function, with the "as of" and **stale** marks of
bench/table_render.py's ``stamp`` (flow/experiments/result_status.py)."""

from __future__ import annotations

from bench.table_render import BENCH, load, stamp
from flow.experiments import result_status as status


def rtl_results() -> tuple[list[dict], dict]:
    """The rows of bench/rtl_backend.py, in its ``CASES`` order."""
    from bench.rtl_backend import CASES

    data = load(BENCH / "rtl_backend.json")
    order = list(CASES)
    rows = sorted(data["results"], key=lambda r: order.index(r["case"]) if r["case"] in order else len(order))
    return rows, data["meta"]


def rtl_performance() -> str:
    """The README's summary: what each command builds, measured, and whether it fits."""
    from bench.rtl_backend import CASE_NAMES

    rows, meta = rtl_results()
    lines = [
        "| network | folding | bit-exact (RTL = Brevitas) | cycles/frame | img/s @ clock | yosys LUT (% of xc7z020) "
        "/ BRAM36, fit | as of |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        mark = status.mark(status.hardware_status(r, meta, status.BUILD_CODE))
        if "error" in r:
            lines.append(f"| {CASE_NAMES.get(r['case'], r['case'])} | failed: {r['error']} | | | | | {mark} |")
            continue
        s, y, t = r["rtlsim"], r.get("synth") or {}, r.get("target") or {}
        fps = t.get("target_fps")
        if not t:
            target = "finn-examples folding JSON"
        elif isinstance(fps, str):  # "max" or "default"
            target = {"default": "default (no --target-fps)"}.get(fps, f"--target-fps {fps}")
        else:
            target = f"--target-fps {fps:g}"
        fits = "not synthesized"
        if y:
            ok = "fits" if y["fits"] and y["lut"] <= 0.9 * y["budget"]["lut"] else "DOES NOT FIT"
            fits = f"{y['lut']:,} ({100 * y['lut'] / y['budget']['lut']:.0f} %) / {y['bram36']:g}, {ok}"
        lines.append(
            f"| {CASE_NAMES.get(r['case'], r['case'])} | {target} | {s['matches']}/{s['images']} "
            f"| {s['cycles_per_frame']:,.0f} | {s['fps']:,.0f} @{s.get('clock_mhz', 100):g} MHz | {fits} | {mark} |"
        )
    return "\n".join(lines) + "\n" + stamp([BENCH / "rtl_backend.json"])


def rtl_backend_doc() -> str:
    from bench import rtl_backend_tables

    rows, meta = rtl_results()
    marks = [(r["case"], status.hardware_status(r, meta, status.BUILD_CODE)) for r in rows]
    return rtl_backend_tables.table(rows, meta) + stamp([BENCH / "rtl_backend.json"], marks)


def cnv_blocks_doc() -> str:
    from bench import rtl_backend_tables

    rows, meta = rtl_results()
    before = load(BENCH / "rtl_backend.json").get("before")  # earlier RTL's rows of the same cases
    marks = [
        (r["case"], status.hardware_status(r, meta, status.BUILD_CODE))
        for r in rows
        if (r.get("synth") or {}).get("blocks")
    ]
    return rtl_backend_tables.blocks_table(rows, before) + stamp([BENCH / "rtl_backend.json"], marks)


def cost_calibration_doc() -> str:
    from bench import calibrate_cost

    data = load(BENCH / "cost_calibration.json")
    if "errors" not in (data or {}):  # the JSON of the previous whole-network fit (before the per-block one)
        return (
            "Not yet refit on the current RTL: `results/bench/cost_calibration.json` holds the previous\n"
            "whole-network fit; run `python bench/calibrate_cost.py NAME=BUILD ...` on builds made with\n"
            "`--per-block`.\n"
        )
    fitted = status.hardware_status(data, data["meta"])
    return calibrate_cost.table(data) + stamp([BENCH / "cost_calibration.json"], [("fit", fitted)])


def mvau_synth_doc() -> str:
    from bench import synth_mvau

    data = load(BENCH / "mvau_synth.json")
    mark = [("all points", status.hardware_status({}, data["meta"]))]
    table = synth_mvau.markdown(data["points"], data["meta"], data.get("before"))  # before: the earlier RTL's points
    return table + stamp([BENCH / "mvau_synth.json"], mark)


def blocks_synth_doc() -> str:
    from bench import synth_blocks

    data = load(BENCH / "blocks_synth.json")
    mark = [("all points", status.hardware_status({}, data["meta"]))]
    return synth_blocks.table(data) + stamp([BENCH / "blocks_synth.json"], mark)


def timing_blocks_doc() -> str:
    from bench import synth_timing

    data = load(BENCH / "timing_blocks.json")
    runs = data["designs"]["cnv-20k"]
    marks = [(label, status.hardware_status(run, {}, status.TIMING_CODE)) for label, run in runs.items()]
    return synth_timing.table(data) + stamp([BENCH / "timing_blocks.json"], marks)


def sim_speed_doc() -> str:
    from bench import sim_speed

    data = load(BENCH / "sim_speed.json")
    mark = [(data["label"], status.hardware_status(data, {}))]
    return sim_speed.speed_table(data) + stamp([BENCH / "sim_speed.json"], mark)


def compile_any_doc() -> str:
    from bench import compile_any

    paths = [p for c in compile_any.CASES if (p := BENCH / f"compile_any_{c}.json").is_file()]
    results = [load(p) for p in paths]
    marks = [(r["case"], status.hardware_status(r, r["meta"])) for r in results]
    return compile_any.table(results, results[0]["meta"]) + stamp(paths, marks)


def fuzz_doc() -> str:
    from bench import fuzz_networks

    runs = fuzz_networks.load_runs()
    if not runs:
        return "Not measured yet: `python bench/fuzz_networks.py --n N --seed S` writes it.\n"
    marks = [(f"run seed {r['meta']['seed']}", status.hardware_status({}, r["meta"])) for r in runs]
    tables = [f"Run seed {r['meta']['seed']}: " + fuzz_networks.table(r) for r in runs]
    return "\n".join(tables) + stamp([fuzz_networks.RESULTS], marks)


def zero_pad_cost_doc() -> str:
    from bench import zero_pad_cost

    data = load(zero_pad_cost.RESULTS)
    if data is None:
        return "Not measured yet: `python bench/zero_pad_cost.py` writes it.\n"
    run = status.hardware_status({}, data["meta"])
    return zero_pad_cost.table(data) + stamp([zero_pad_cost.RESULTS], [("run", run)])


def subsample_synth_doc() -> str:
    from bench import synth_subsample

    data = load(synth_subsample.RESULTS)
    if data is None:
        return "Not measured yet: `python bench/synth_subsample.py` writes it.\n"
    run = status.hardware_status({}, data["meta"])
    return synth_subsample.table(data) + stamp([synth_subsample.RESULTS], [("run", run)])


def _resnet_hw_doc(render) -> str:
    """A table of results/bench/resnet_hw.json (``render(data)``) with each row's as-of mark."""
    data = load(BENCH / "resnet_hw.json")
    marks = [(f"{r['model']} {r['board']}", status.hardware_status(r, data["meta"])) for r in data["results"]]
    return render(data) + stamp([BENCH / "resnet_hw.json"], marks)


def resnet_bench_doc() -> str:
    from bench import resnet_hw

    return _resnet_hw_doc(resnet_hw.doc_table)


def resnet_synth_doc() -> str:
    from bench import resnet_hw

    return _resnet_hw_doc(lambda data: resnet_hw.synth_table(data["results"]))


# The code that decides compile times and the parameter count.
# (yosys, flow/rtl_backend/synth*.py, runs after the folded graph: it decides neither)
COMPILE_CODE = ("flow/compiler", "flow/core", "flow/analysis", "flow/rtl_backend", "flow/backends", "hw/golden",
                ":(exclude)flow/rtl_backend/synth*.py")  # fmt: skip


def compile_time_doc() -> str:
    from bench import compile_time

    data = load(BENCH / "compile_time.json")
    marks = [(f"{r['model']} {r['qonnx_passes']}", compile_status(r)) for r in data["results"]]
    return compile_time.table(data["results"]) + stamp([BENCH / "compile_time.json"], marks)


def compile_status(result: dict) -> dict:
    """As of (commit, date) and stale for one bench/compile_time.py run."""
    prov = result["provenance"]
    stale = status.stale_reason(COMPILE_CODE, prov, prov["date"])
    return {"as_of": f"{prov['commit'][:7]}, {prov['date'][:10]}", "stale": stale}


def resnet_stem_doc() -> str:
    """The folding search's model of the full-size ResNet with each stem (bench/compile_time.py runs)."""
    from bench import compile_time

    data = load(BENCH / "compile_time.json")
    runs = [r for r in data["results"] if r.get("fold")]
    if not runs:
        return "Not measured yet: `python bench/compile_time.py --target-fps 2000 --clock-mhz 200` writes it.\n"
    marks = [(f"{r['model_args'] or 'int8 stem'} {r['target_fps']}", compile_status(r)) for r in runs]
    return compile_time.fold_table(runs) + stamp([BENCH / "compile_time.json"], marks)


BIREAL_MISSING = (
    "Not measured on committed JSON: `results/bench/bireal_vs_xnor.json` was never written (the bireal_cnv "
    "build did not finish its yosys step when this comparison was first run, 2026-11-25), and the numbers "
    "once typed here (xnor_cnv 10,417 img/s, 5,481 LUT; bireal_cnv 10,629 img/s, 26,371 LUT FINN estimate) "
    "predate the compressor-tree MVAU. **Stale** until `python bench/bireal_vs_xnor.py` (command above) "
    "writes it.\n"
)


def bireal_vs_xnor_doc() -> str:
    from bench import bireal_vs_xnor

    data = load(BENCH / "bireal_vs_xnor.json")
    if data is None:
        return BIREAL_MISSING
    marks = [(r["name"], status.hardware_status(r, data["meta"])) for r in data["results"]]
    return bireal_vs_xnor.table(data["results"], data["meta"]) + stamp([BENCH / "bireal_vs_xnor.json"], marks)


def bireal_vs_xnor_readme() -> str:
    return bireal_vs_xnor_doc()
