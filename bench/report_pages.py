"""Screenshots of the report pages for docs/report.md, generated (never drawn by hand):

    nice -n 19 python bench/report_pages.py            # builds both designs (~10 min + ~1 h of CPU here)
    python bench/report_pages.py --reuse               # re-renders builds already in --builds

1. ``default``: the default build, ``flow/build.py --board Pynq-Z2`` (what ``make build`` runs);
2. ``cnv-synth``: the README's CNV command with ``--synth`` (bireal_cnv, width 0.25, Fashion-MNIST; 200
   verification images);
3. ``sweep``: the committed Fashion-MNIST sweep ``results/fmnist_xnor_mlp`` (its page is written into a
   temporary copy: results/ keeps what the sweep wrote).

Each page is opened in headless Chromium (flow/core/browser.py): no console error allowed; the full
page is saved as ``docs/img/report_<name>.png`` (1280 px wide, 256 colours to keep the repository
small). ``results/bench/report_pages.json`` records the commit, the commands, each build's wall time
and each page's size, so docs/report.md can say what made the pictures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
CNV = ["--model", "bireal_cnv", "--checkpoint", "results/checkpoints/bireal_cnv_w025_t08/checkpoint.pt"]
# the CNV verifies 200 images, not 1,000: each of its three FINN-graph stages takes ~20 min per 1,000 here
BUILDS = {
    "default": ["--board", "Pynq-Z2"],
    "cnv-synth": ["--board", "Pynq-Z2", *CNV, "--synth", "--verify-images", "200"],
}
SWEEP = REPO / "results" / "fmnist_xnor_mlp"
BUILD_TIMEOUT_S = 6 * 3600


def build(name: str, args: list[str], out: Path, reuse: bool) -> dict:
    """Run flow/build.py into ``out`` (or, with ``reuse``, only rewrite the page of a build already there
    with the current code). ``build_s``: the build's own step times (summary.json ``steps``)."""
    command = [sys.executable, "flow/build.py", *args, "--output", str(out)]
    reused = reuse and (out / "report" / "summary.json").is_file()
    if reused:
        subprocess.run([sys.executable, "-m", "flow.builder.report_html", str(out)], cwd=REPO, check=True, timeout=600)
    else:
        subprocess.run(command, cwd=REPO, check=True, timeout=BUILD_TIMEOUT_S)
    steps = json.loads((out / "report" / "summary.json").read_text())["steps"]
    display = " ".join(["python", "flow/build.py", *args, "--output", os.path.relpath(out, REPO)])
    return {"command": display, "reused": reused, "build_s": round(sum(s["seconds"] for s in steps), 1)}


def screenshot(page: Path, name: str, docs: Path) -> dict:
    from flow.core.browser import render

    with tempfile.TemporaryDirectory() as tmp:
        shot = Path(tmp) / "shot.png"
        result = render(page, shot)
        if result.errors:
            raise SystemExit(f"error: {page}: console errors {result.errors}")
        image = Image.open(shot).convert("RGB")
        path = docs / f"report_{name}.png"
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    return {"page": os.path.relpath(page, REPO), "screenshot": str(path.relative_to(REPO)), "size_px": list(image.size),
            "png_kb": round(path.stat().st_size / 1024)}  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--builds", type=Path, default=REPO / "build" / "report-pages", help="where the builds go")
    p.add_argument("--reuse", action="store_true", help="re-render builds already in --builds instead of building")
    p.add_argument("--only", nargs="+", choices=[*BUILDS, "sweep"], default=[*BUILDS, "sweep"])
    args = p.parse_args()
    from flow.core.provenance import provenance
    from flow.experiments.sweep_report import write_sweep_report

    docs = REPO / "docs" / "img"
    docs.mkdir(parents=True, exist_ok=True)
    record = {"provenance": provenance(), "pages": {}}
    made = {k: record["provenance"].get(k) for k in ("commit", "dirty", "date")}  # per page: --only keeps others
    for name in [n for n in BUILDS if n in args.only]:
        out = args.builds / name
        entry = build(name, BUILDS[name], out, args.reuse)
        entry.update(screenshot(out / "report" / "report.html", name, docs))
        record["pages"][name] = {**entry, "made": made}
        print(json.dumps({name: entry}), flush=True)
    if "sweep" in args.only:
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / SWEEP.name
            shutil.copytree(SWEEP, copy)
            page = write_sweep_report(copy, json.loads((copy / "results.json").read_text()))
            shot = {**screenshot(page, "sweep", docs), "page": f"{SWEEP.relative_to(REPO)} (a temporary copy)"}
            record["pages"]["sweep"] = {"source": str(SWEEP.relative_to(REPO)), **shot, "made": made}
    out = REPO / "results" / "bench" / "report_pages.json"
    old = json.loads(out.read_text()) if out.is_file() else {"pages": {}}
    record["pages"] = {**old.get("pages", {}), **record["pages"]}  # --only keeps the other pages' records
    out.write_text(json.dumps(record, indent=1) + "\n")
    write_docs(record)
    print(f"wrote {out} and {DOC}")
    return 0


DOC = REPO / "docs" / "report.md"
TITLES = {"default": "The default build (`make build`)", "cnv-synth": "A CNV build with `--synth`",
          "sweep": "The committed Fashion-MNIST sweep"}  # fmt: skip


def write_docs(record: dict) -> None:
    """docs/report.md between its report-pages markers: each page's command, size and screenshot."""
    prov = record["provenance"]
    lines = [f"Machine: {prov.get('machine', '?')}; each page names the commit that made it.", ""]
    for name, page in record["pages"].items():
        source = f"`{page['command']}`" if "command" in page else f"`{page.get('source')}/results.json`"
        wall = f", build {page['build_s'] / 60:.1f} min" if page.get("build_s") else ""
        made = page.get("made", prov)  # a record from before per-page provenance: the run's own
        when = f"made at commit `{(made.get('commit') or '?')[:12]}`{' (dirty)' if made.get('dirty') else ''} on "
        lines += [f"### {TITLES.get(name, name)}", "",
                  f"{source}{wall}; {when}{made.get('date', '?')}; page {page['size_px'][0]} x "
                  f"{page['size_px'][1]} px, no console error.", "",
                  f"![{name}](../{page['screenshot']})", ""]  # fmt: skip
    text = DOC.read_text()
    begin, end = "<!-- report-pages:begin -->", "<!-- report-pages:end -->"
    head, rest = text.split(begin, 1)
    DOC.write_text(head + begin + "\n" + "\n".join(lines) + end + rest.split(end, 1)[1])


if __name__ == "__main__":
    sys.exit(main())
