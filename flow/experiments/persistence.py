"""Does the shift's gain persist with training? The gain of one sweep setup at several training budgets.

Reads the results.json of sweeps that differ only in ``--epochs`` (bench/run_benchmarks.sh steps 23-25)
and writes, per budget, the paired 95 % interval of every setting minus t=0 and of the learnable t
minus the fixed shift it started from, the learnt thresholds' movement, and one PNG (gain vs epochs).

    python flow/experiments/persistence.py results/persist_xnor_cnv_w025_e{3,10,30} \\
        --output results/persist_xnor_cnv_w025
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from flow.core import cli
from flow.core.files import write_json
from flow.core.inputs import read_json
from flow.core.outputs import claim_output
from flow.core.provenance import provenance
from flow.experiments.comparison import compare, summarise


def budget_row(results: dict) -> dict:
    """One training budget: every non-zero setting vs t=0, the learnable t vs its fixed start."""
    summary = {g["label"]: g for g in summarise(results["runs"])}
    zero = next(g for g in summary.values() if g["variant"] == "shift" and g["shift"] in (0, 0.0))
    rows = {label: compare(g, zero) for label, g in summary.items() if g is not zero}
    learn = [g for g in summary.values() if g["variant"] == "learnable"]
    for g in learn:  # learnable (started at t) vs the fixed t: does learning beat the fixed shift?
        fixed = next((f for f in summary.values() if f["variant"] == "shift" and f["shift"] == g["shift"]), None)
        if fixed is not None and fixed is not zero:
            rows[f"{g['label']} vs fixed"] = compare(g, fixed)
    moved = [
        abs(v - r["shift"])
        for r in results["runs"]
        if r["variant"] == "learnable"
        for v in r["learned_shift_mean"].values()
    ]
    return {
        "epochs": results["epochs"],
        "folder_command": results["command"],
        "means": {label: g["mean"] for label, g in summary.items()},
        "comparisons": rows,
        "learned_shift_mean_abs_move": statistics.fmean(moved) if moved else None,
        "learned_shift_means": {
            f"{r['label']} seed {r['seed']}": r["learned_shift_mean"]
            for r in results["runs"]
            if r["variant"] == "learnable"
        },
    }


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    labels = sorted({k for r in rows for k in r["comparisons"]})
    for i, label in enumerate(labels):
        pts = [(r["epochs"], r["comparisons"][label]) for r in rows if label in r["comparisons"]]
        x = [e * (1 + 0.04 * (i - len(labels) / 2)) for e, _ in pts]  # small offsets keep bars apart
        y = [100 * c["difference"] for _, c in pts]
        ci = [c.get("paired_ci95") or c.get("welch_ci95") or [c["difference"]] * 2 for _, c in pts]
        err = [
            [yy - 100 * lo for yy, (lo, _) in zip(y, ci, strict=True)],
            [100 * hi - yy for yy, (_, hi) in zip(y, ci, strict=True)],
        ]
        name = label if " vs " in label else f"{label} - t=0"
        ax.errorbar(x, y, yerr=err, fmt="o-", capsize=4, label=name)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_xticks([r["epochs"] for r in rows], [str(r["epochs"]) for r in rows])
    ax.set_xlabel("training epochs (each its own cosine schedule)")
    ax.set_ylabel("accuracy difference (pp), paired 95 % CI")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _main(argv: list[str] | None) -> int:
    p = cli.Parser(description=__doc__.split("\n")[0])
    p.add_argument("sweeps", nargs="+", type=Path, help="sweep folders (each with results.json)")
    p.add_argument("--output", type=cli.output_path, required=True)
    args = p.parse_args(argv)
    results = {folder / "results.json": read_json(folder / "results.json", "sweep results") for folder in args.sweeps}
    try:
        rows = sorted((budget_row(r) for r in results.values()), key=lambda r: r["epochs"])
    except (KeyError, TypeError, StopIteration, ValueError) as exc:
        raise cli.UsageError(
            f"a sweep's results.json lacks what the comparison needs ({cli.first_line(exc)})"
        ) from None
    written_by = lambda folder: (folder / "persistence.json").is_file()  # noqa: E731
    with claim_output(args.output, written_by, inputs=args.sweeps, force=None, tool="flow/experiments/persistence.py"):
        write_json(args.output / "persistence.json", {"budgets": rows, "provenance": provenance()})
        plot(rows, args.output / "gain_vs_epochs.png")
    for r in rows:
        for label, c in r["comparisons"].items():
            ci = c.get("paired_ci95") or c.get("welch_ci95")
            span = f"[{100 * ci[0]:+.2f}, {100 * ci[1]:+.2f}]" if ci else "(no interval)"
            print(f"{r['epochs']:>3} epochs  {label:<28} {100 * c['difference']:+.2f} pp  paired 95 % CI {span}")
    print(f"wrote {args.output / 'persistence.json'} and {args.output / 'gain_vs_epochs.png'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return cli.run_cli(lambda: _main(argv), "persistence", (OSError, ValueError))


if __name__ == "__main__":
    sys.exit(main())
