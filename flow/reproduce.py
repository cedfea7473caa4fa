"""Re-run a committed result on today's code: are its numbers bit-identical, drifted, or gone?

    python flow/reproduce.py results/fmnist_xnor_mlp_confirm --runs 2
    python flow/reproduce.py results/default_model

Re-trains ``--runs K`` of the folder's runs (default 2, spread over its settings seed by seed; ``all``:
every run) from the configuration each run's metrics.json recorded, on the threads it used, and writes
``FOLDER/reproduce.json`` and ``FOLDER/reproduce.md``: per run bit-identical / drifted (by how much) /
failed / skipped, and for a sweep whether each comparison's interval still excludes 0 with the re-run
accuracies in place. Exit status 0 when every re-run run is bit-identical, 1 otherwise (2: bad input).
Training is deterministic for a fixed seed and thread count on one machine type; run it under
``nice -n 19`` on a shared machine. The logic: flow/experiments/reproduce.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

from flow.core import cli  # noqa: E402

if __name__ == "__main__":  # before brevitas is imported: its import warns about an optional package
    cli.quiet_library_warnings()

from flow.core.files import write_atomically, write_json  # noqa: E402
from flow.core.inputs import InputError, read_json  # noqa: E402
from flow.core.outputs import claim_output  # noqa: E402
from flow.core.provenance import provenance, short  # noqa: E402
from flow.experiments.reproduce import counts, markdown, reproduce  # noqa: E402


def written_by_reproduce(path: Path) -> bool:
    """A reproduce.json this tool wrote (its re-runs and verdicts): the only kind it replaces."""
    try:
        report = read_json(path)
    except (InputError, ValueError):
        return False
    return isinstance(report, dict) and {"reruns", "verdicts"} <= report.keys()


def runs_count(text: str) -> int | None:
    return None if text == "all" else cli.int_in(1)(text)


def build_parser() -> cli.Parser:
    p = cli.Parser(description=__doc__.split("\n")[0])
    p.add_argument("folder", type=Path, help="a results folder: a sweep (results.json, runs/) or one run")
    p.add_argument("--runs", type=runs_count, default=2, metavar="K|all", help="how many runs to re-train")
    return p


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if not args.folder.is_dir():
        raise cli.UsageError(f"{args.folder} is not a folder")
    origin = provenance(["flow/reproduce.py", *(sys.argv[1:] if argv is None else argv)])
    report = reproduce(args.folder, args.runs)
    report.update(
        command=origin["command"], date=origin["date"], commit=short(origin).split(",")[0], machine=origin["machine"],
        provenance=origin, verdicts=counts(report),
    )  # fmt: skip
    # the replace rule (flow/core/outputs.py): reproduce.json only over one this tool wrote; the .md beside it
    with claim_output(
        args.folder / "reproduce.json", written_by_reproduce, force=None, kind="file", tool="flow/reproduce.py"
    ):
        write_json(args.folder / "reproduce.json", report)
        write_atomically(args.folder / "reproduce.md", markdown(report))
    summary = ", ".join(f"{n} {status}" for status, n in report["verdicts"].items())
    print(f"{summary}; wrote {args.folder / 'reproduce.md'}")
    return 0 if report["verdicts"] == {"bit-identical": len(report["reruns"])} else 1


def main(argv: list[str] | None = None) -> int:
    return cli.run_cli(lambda: _main(argv), "reproduce", (ValueError, OSError))


if __name__ == "__main__":
    sys.exit(main())
