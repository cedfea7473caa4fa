"""Every README/docs table that quotes a measurement, generated from the committed JSON between markers.

    python bench/tables.py            # rewrite every table (and results/README.md) from results/
    python bench/tables.py --check    # exit 1 naming each table whose committed text differs
    python bench/tables.py rtl-perf   # only the named blocks

A block is ``<!-- NAME:begin -->`` ... ``<!-- NAME:end -->`` in a markdown file; ``BLOCKS`` maps each
name to its file and a function that renders it from its JSON (one function per table, each reading
its own file, so a benchmark that writes new JSON re-renders by name: bench/rerender.py runs this
program, the benchmarks never import it). Every
block ends with the line that names its JSON, when it was measured, at which commit, and which rows are
stale: measured before the code that decides them last changed (flow/experiments/result_status.py).
tests/test_tables.py renders every block in memory and fails when the committed text differs.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import table_render as render  # noqa: E402
from bench import table_render_hw as render_hw  # noqa: E402


@dataclass(frozen=True)
class Block:
    doc: str  # markdown file, relative to the repository
    render: Callable[[], str]  # the text between the markers (without them)


BLOCKS: dict[str, Block] = {
    "readme-default-model": Block("README.md", render.default_model),
    "readme-shift": Block("README.md", render.shift_table),
    "readme-rtl-perf": Block("README.md", render_hw.rtl_performance),
    "readme-bireal-bench": Block("README.md", render_hw.bireal_vs_xnor_readme),
    "rtl-bench-table": Block("docs/rtl_backend.md", render_hw.rtl_backend_doc),
    "cnv-blocks-table": Block("docs/hw.md", render_hw.cnv_blocks_doc),
    "cost-calibration-table": Block("docs/rtl_backend.md", render_hw.cost_calibration_doc),
    "mvau-synth-table": Block("docs/hw.md", render_hw.mvau_synth_doc),
    "blocks-synth-table": Block("docs/hw.md", render_hw.blocks_synth_doc),
    "timing-blocks-table": Block("docs/hw.md", render_hw.timing_blocks_doc),
    "subsample-synth-table": Block("docs/hw.md", render_hw.subsample_synth_doc),
    "sim-speed-table": Block("docs/hw.md", render_hw.sim_speed_doc),
    "compile-any-table": Block("docs/compile_any.md", render_hw.compile_any_doc),
    "fuzz-table": Block("docs/compile_any.md", render_hw.fuzz_doc),
    "zero-pad-cost-table": Block("docs/compile_any.md", render_hw.zero_pad_cost_doc),
    "resnet-bench-table": Block("docs/resnet_hw.md", render_hw.resnet_bench_doc),
    "resnet-acc-table": Block("docs/resnet_hw.md", render.resnet_accuracy_doc),
    "resnet-synth-table": Block("docs/resnet_hw.md", render_hw.resnet_synth_doc),
    "compile-time-table": Block("docs/resnet_hw.md", render_hw.compile_time_doc),
    "resnet-stem-table": Block("docs/resnet_hw.md", render_hw.resnet_stem_doc),
    "bireal-bench-table": Block("docs/bireal_hw.md", render_hw.bireal_vs_xnor_doc),
    "bireal-bits-table": Block("docs/bireal_hw.md", render.bireal_bits_doc),
    "persistence-table": Block("docs/training.md", render.persistence_doc),
    "results": Block("docs/training.md", render.training_results_doc),
}
WHOLE_FILES: dict[str, Callable[[], str]] = {"results/README.md": render.results_readme}


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def committed_block(text: str, name: str) -> str | None:
    begin, end = markers(name)
    match = re.search(re.escape(begin) + r"\n(.*?)" + re.escape(end), text, re.S)
    return match.group(1) if match else None


def splice(text: str, name: str, body: str) -> str:
    begin, end = markers(name)
    if committed_block(text, name) is None:
        raise ValueError(f"no {begin} ... {end} block")
    return re.sub(re.escape(begin) + r"\n.*?" + re.escape(end), lambda _: f"{begin}\n{body}{end}", text, flags=re.S)


def rendered(name: str) -> str:
    body = BLOCKS[name].render()
    return body if body.endswith("\n") else body + "\n"


def differences(names: list[str]) -> list[str]:
    """The blocks (and whole files) whose committed text is not what their JSON renders to now."""
    out = []
    for name in names:
        if name in WHOLE_FILES:
            if (REPO / name).read_text() != WHOLE_FILES[name]():
                out.append(name)
            continue
        doc = (REPO / BLOCKS[name].doc).read_text()
        if committed_block(doc, name) != rendered(name):
            out.append(f"{BLOCKS[name].doc}: {name}")
    return out


def write(names: list[str]) -> list[str]:
    """Re-render ``names`` in place (each file written once, atomically); returns what changed."""
    from flow.core.files import write_atomically

    changed = differences(names)
    by_doc: dict[str, list[str]] = {}
    for name in names:
        if name in WHOLE_FILES:
            write_atomically(REPO / name, WHOLE_FILES[name]())
        else:
            by_doc.setdefault(BLOCKS[name].doc, []).append(name)
    for doc, blocks in by_doc.items():
        text = (REPO / doc).read_text()
        for name in blocks:
            text = splice(text, name, rendered(name))
        write_atomically(REPO / doc, text)
    return changed


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*", help=f"blocks (default: all): {', '.join([*BLOCKS, *WHOLE_FILES])}")
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 when a table differs")
    args = ap.parse_args(argv)
    names = args.names or [*BLOCKS, *WHOLE_FILES]
    unknown = [n for n in names if n not in BLOCKS and n not in WHOLE_FILES]
    if unknown:
        print(f"error: unknown table {', '.join(unknown)} (known: {', '.join([*BLOCKS, *WHOLE_FILES])})")
        return 2
    try:
        changed = differences(names) if args.check else write(names)
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    verb = "differs from its JSON" if args.check else "rewritten"
    for item in changed:
        print(f"{item}: {verb}")
    if args.check and changed:
        print("regenerate with: python bench/tables.py", file=sys.stderr)
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
