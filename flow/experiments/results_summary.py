"""Markdown tables from the benchmark outputs: results/README.md and the tables in docs/.

Reads every ``results/*/results.json`` (flow/sweep.py), ``results/*/metrics.json`` (flow/train.py) and
``results/throughput.json`` / ``results/*/throughput.json`` (flow/throughput.py, e.g. a GPU's);
nothing is typed in by hand. With ``--docs docs/training.md`` the same tables also replace the block
between ``<!-- results:begin -->`` and ``<!-- results:end -->`` there.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from flow.core import cli
from flow.core.files import write_atomically  # noqa: E402
from flow.core.inputs import InputError, open_regular, read_json  # noqa: E402
from flow.core.outputs import claim_output  # noqa: E402
from flow.experiments import result_status  # noqa: E402


def pct(x: float) -> str:
    return f"{100 * x:.2f}"


def sweep_table(r: dict, folder: str, root: Path) -> str:
    lines = [
        f"### {r['model']} on {r['dataset']} (`results/{folder}`)",
        "",
        f"`{r['command']}`  ",
        f"As of: {result_status.mark(result_status.training_status(root / folder, r))}  ",
        f"{r['date']}, {r['machine']}, threads={r['threads']}, "
        f"training time of all runs {r.get('train_seconds_all_runs', 0) / 60:.1f} min"
        + (f" ({r['jobs']} side by side: {r['wall_seconds'] / 60:.1f} min wall)" if r.get("jobs", 1) > 1 else "")
        + "  ",
        f"model kwargs: `{json.dumps(r['model_kwargs'])}`, epochs {r['epochs']}, "
        f"training images: {r['train_limit'] or 'all'}",
        "",
        "| setting | test accuracy % (mean ± std) | seeds | +1 fraction per binary layer (mean over seeds) |",
        "|---|---|---|---|",
    ]
    for g in r["summary"]:
        runs = [x for x in r["runs"] if x["label"] == g["label"]]
        layers = list(runs[0]["plus_fraction"])
        fr = [statistics.fmean(x["plus_fraction"][k] for x in runs) for k in layers]
        lines.append(
            f"| {g['label']} | {pct(g['mean'])} ± {pct(g['std'])} | {len(g['accuracies'])} | "
            + " / ".join(f"{f:.2f}" for f in fr)
            + " |"
        )
    if r["comparisons"]:
        lines += [
            "",
            "| difference | mean (pp) | 95 % CI paired by seed (pp) | 95 % CI Welch (pp) | CI excludes 0? |",
            "|---|---|---|---|---|",
        ]
        for c in r["comparisons"]:
            if "welch_ci95" not in c:
                continue
            paired = c.get("paired_ci95")
            ps = f"[{100 * paired[0]:+.2f}, {100 * paired[1]:+.2f}]" if paired else "n/a"
            w = c["welch_ci95"]
            verdict = (
                f"paired: {'yes' if c.get('paired_excludes_zero') else 'no'}, "
                f"Welch: {'yes' if c['welch_excludes_zero'] else 'no'}"
            )
            lines.append(
                f"| {c['a']} − {c['b']} | {100 * c['difference']:+.2f} | {ps} | "
                f"[{100 * w[0]:+.2f}, {100 * w[1]:+.2f}] | {verdict} |"
            )
    sentences = [c["sentence"] for c in r["comparisons"] if "sentence" in c]  # sweeps since the verdict lines
    if sentences:
        on = r.get("best_chosen_on", "test")
        lines += ["", *[f"- {text}" for text in sentences], f"- best setting (chosen on {on}): {r['best']}"]
    return "\n".join(lines)


def throughput_table(t: dict) -> str:
    device = t.get("device", "cpu")  # files from before --device have none: they are CPU runs
    lines = [
        f"### Training throughput on {'the CPU' if device == 'cpu' else device} "
        "(forward + backward + Adam step), images/s",
        "",
        f"`{t['command']}`  ",
        f"{t['date']}, {t['machine']}, threads={t['threads']}. {t['note']}",
        "",
    ]
    bf16 = all("images_per_s_bf16" in row for row in t["rows"])
    if bf16:
        lines += [
            "| model | batch | images/s fp32 | images/s bf16 autocast | load avg before |",
            "|---|---|---|---|---|",
        ]
    else:
        lines += ["| model | batch | images/s | load avg before |", "|---|---|---|---|"]
    for row in t["rows"]:
        extra = f" {row['images_per_s_bf16']:.1f} |" if bf16 else ""
        lines.append(
            f"| {row['label']} | {row['batch']} | {row['images_per_s']:.1f} |{extra} {row['load_avg_1min_before']} |"
        )
    return "\n".join(lines)


def single_run_row(m: dict, root: Path) -> str:
    """One row of the single-runs table from a run's metrics.json (plus its ``folder`` name)."""
    cfg, kw, history = m["config"], m["model_kwargs"], m.get("history") or []
    last = history[-1]["test_accuracy"] if history else m["test_accuracy"]
    best = max([h["test_accuracy"] for h in history], default=m["test_accuracy"])
    epochs = str(cfg["epochs"])
    if cfg.get("init_from"):  # a warm restart: epochs on top of another run's checkpoint
        epochs = f"+{epochs} from `{Path(cfg['init_from']).parent.name}`"
    averaged = m.get("averaged_epochs", 0)
    saved = f"mean of last {averaged}" if averaged else "last epoch"
    return (
        f"| `{m['folder']}` | {m['model']} | {kw.get('width', '-')} | {kw.get('shift')} | {epochs} "
        f"| {cfg['batch_size']} | {'yes' if cfg.get('bf16') else 'no'} | {saved} | {pct(m['test_accuracy'])} "
        f"| {pct(last)} | {pct(best)} | {m['train_images_per_s']:.0f} "
        f"| {result_status.mark(result_status.training_status(root / m['folder'], m))} |"
    )


def single_runs_table(rows: list[str]) -> str:
    lines = [
        "### Single training runs (`flow/train.py`)",
        "",
        "| folder | model | width | shift | epochs | batch | bf16 | saved weights | test acc (%) | last epoch (%) "
        "| best epoch (%) | train img/s | as of |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    lines += ["", "Commands, dates and machines: each folder's `metrics.json`; per-epoch numbers: its `train.log`.", ""]
    return "\n".join(lines)


def read_table(path: Path, table, *args) -> str:
    """``table(json of path, *args)``, or one line naming the file that is not what the tables expect."""
    try:
        data = read_json(path, kind=None)
    except InputError as exc:
        raise cli.UsageError(str(exc)) from None
    try:
        return table(data, *args)
    except (KeyError, TypeError, IndexError, AttributeError) as exc:
        raise cli.UsageError(f"{path} lacks what the tables need ({type(exc).__name__}: {exc})") from None


def build(root: Path) -> str:
    parts = [
        "# Benchmark results (generated by flow/experiments/results_summary.py; commands in bench/run_benchmarks.sh)",
        "",
    ]
    for path in sorted(root.glob("*/results.json")):
        parts += [read_table(path, sweep_table, path.parent.name, root), f"\nFigures: `{path.parent.name}/*.png`", ""]
    runs = sorted(root.glob("*/metrics.json"))  # single flow/train.py runs (a sweep has results.json)
    if runs:
        rows = [read_table(p, lambda m, name: single_run_row(m | {"folder": name}, root), p.parent.name) for p in runs]
        parts.append(single_runs_table(rows))
    for tp in [root / "throughput.json", *sorted(root.glob("*/throughput.json"))]:  # CPU, then e.g. gpu_h100/
        if tp.is_file():
            parts += [read_table(tp, throughput_table), ""]
    return "\n".join(parts) + "\n"


BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def docs_body(text: str) -> str:
    """The tables of ``text`` (results/README.md) as docs/training.md's results block: headings one down."""
    return text.split("\n", 2)[2].replace("### ", "#### ")


def refreshed_docs(doc: str, text: str, path: Path) -> str:
    """``doc`` with its results block replaced by the tables of ``text``."""
    if BEGIN not in doc or END not in doc or doc.index(END) < doc.index(BEGIN):
        raise cli.UsageError(f"{path} has no {BEGIN} ... {END} block")
    body = docs_body(text)
    head, rest = doc.split(BEGIN, 1)
    return head + BEGIN + "\n" + body + rest[rest.index(END) :]


def written_by_summary(path: Path) -> bool:
    """A README.md this tool generated: its first line is the generated heading."""
    try:
        with open_regular(path) as fh:
            return fh.readline().decode(errors="replace").startswith("# Benchmark results (generated by")
    except InputError:
        return False


def _main(argv: list[str] | None) -> int:
    p = cli.Parser(description=__doc__.split("\n")[0])
    p.add_argument("root", nargs="?", default="results")
    p.add_argument("--docs", type=Path, help="markdown file with a results:begin/end block to refresh")
    args = p.parse_args(argv)
    root = Path(args.root)
    if not root.is_dir():
        raise cli.UsageError(f"results folder not found: {root}")
    text = build(root)
    doc = None
    if args.docs:  # everything checked before anything is written: a failing --docs leaves README.md as it was
        if not args.docs.is_file():
            raise cli.UsageError(f"--docs {args.docs} not found")
        doc = refreshed_docs(args.docs.read_text(), text, args.docs)
    # README.md goes through the replace rule (flow/core/outputs.py): only over one this tool wrote.
    # --docs is the one file edited in place by request: only its marked block changes.
    readme = root / "README.md"
    with claim_output(
        readme, written_by_summary, force=None, flag="results README", kind="file", tool="results_summary"
    ):
        write_atomically(readme, text)
        if doc is not None:
            write_atomically(args.docs, doc)
    print(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    # a results file that is not JSON or lacks a field: the line names the exception; OSError: unreadable
    return cli.run_cli(lambda: _main(argv), "results_summary", (OSError, json.JSONDecodeError, UnicodeDecodeError))


if __name__ == "__main__":
    sys.exit(main())
