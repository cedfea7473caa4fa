"""Benchmark: random binary networks (brevitas_models/grammar.py) through ``flow/build.py --onnx`` to RTL.

    python bench/fuzz_networks.py --n 200 --seed 7            # hours on 2 shared cores: run under nice -n 19
    python bench/fuzz_networks.py --n 200 --seed 7 --jobs 2   # two networks at once
    python bench/fuzz_networks.py --seed 7 --rerun-failed     # the failed ones again, after a fix
    python bench/fuzz_networks.py --table-only                # rewrite the docs table from the JSON

Network i of a run is ``random_spec(seed * 1_000_003 + i)``; each is exported to QONNX and built for the
Pynq-Z2 as a user would (``--verify-images`` few random images, RTL simulated in Verilator). Outcome:

- ``bit-exact``: the build passed, i.e. QONNX = streamlined = folded graph = RTL on every image (the build
  fails otherwise), including the RTL run with random stalls;
- ``refused (reason)``: exit status 2 with one of flow/compiler/refusals.py's reasons, raised before
  folding, RTL generation or simulation;
- ``failed``: anything else (another error line, a traceback, a timeout): a bug to fix.

Writes results/bench/fuzz.json: one record per run seed (``runs``; a run of another seed is kept, a
new run of the same seed replaces it) with its provenance (commit, command, date, machine) and every
network's spec seed, outcome, seconds and error line; rewritten after each network, so a stopped run
keeps what it measured (``--resume`` continues it). bench/tables.py renders one table per run between the
``fuzz-table`` markers in docs/compile_any.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

RESULTS = REPO / "results" / "bench" / "fuzz.json"
BUILD_TIMEOUT_S = 3600


def build_command(onnx: Path, out: Path, images: int) -> list[str]:
    return [sys.executable, str(REPO / "flow" / "build.py"), "--board", "Pynq-Z2", "--onnx", str(onnx),
            "--verify-images", str(images), "--output", str(out)]  # fmt: skip


def classify(returncode: int, stderr: str) -> tuple[str, str | None, str]:
    """(outcome, refusal reason, the last error line)."""
    from flow.compiler.refusals import reason_of

    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    last = next((ln for ln in reversed(lines) if ln.startswith("error:")), lines[-1] if lines else "")
    if returncode == 0 and "Traceback" not in stderr:
        return "bit-exact", None, ""
    reason = reason_of(last) if returncode == 2 and "Traceback" not in stderr else None
    return ("refused", reason, last) if reason else ("failed", None, last)


def run_one(seed: int, i: int, work: Path, images: int) -> dict:
    """Export and build network i of run ``seed``; the build folder is removed unless it failed."""
    import shutil

    from brevitas_models.generated import build_generated
    from brevitas_models.grammar import random_spec, run_spec_seed
    from flow.compiler.export import export_model
    from flow.compiler.refusals import Refusal

    s = run_spec_seed(seed, i)
    spec = random_spec(s)
    case = work / f"net{i:04d}"
    case.mkdir(parents=True, exist_ok=True)
    (case / "spec.json").write_text(json.dumps(spec, indent=1) + "\n")
    start = time.monotonic()
    try:
        model, shape = build_generated(spec)
        # the export cleans the graph as the build does (clean_qonnx), which may refuse it already
        export_model(model, shape, case / "net.onnx")
        proc = subprocess.run(build_command(case / "net.onnx", case / "build", images), capture_output=True,
                              text=True, timeout=BUILD_TIMEOUT_S, env=_env())  # fmt: skip
        outcome, reason, line = classify(proc.returncode, proc.stderr)
        (case / "stderr.txt").write_text(proc.stderr)
    except subprocess.TimeoutExpired:
        outcome, reason, line = "failed", None, f"timeout after {BUILD_TIMEOUT_S} s"
    except Refusal as exc:  # the line `flow/build.py --onnx` prints for the Brevitas export of this network
        outcome, reason, line = "refused", exc.reason, f"error: {exc}"
    except Exception as exc:  # a bug of the generator or the export: recorded, the run goes on
        outcome, reason, line = "failed", None, f"export failed: {type(exc).__name__}: {exc}".splitlines()[0]
    result = {"i": i, "spec_seed": s, "outcome": outcome, "reason": reason, "error": line,
              "seconds": round(time.monotonic() - start, 1), "summary": _summary(spec)}  # fmt: skip
    if outcome != "failed":
        shutil.rmtree(case, ignore_errors=True)
    return result


def _summary(spec: dict) -> str:
    """A short description of a spec for the JSON (the spec itself is reproduced from its seed)."""
    inp = spec["input"]
    kinds = [layer["kind"] + ("/" + layer["order"] if layer["kind"] == "conv" else "") for layer in spec["layers"]]
    return f"{inp['channels']}x{inp['h']}x{inp['w']} {inp['norm']}: " + ", ".join(kinds)


def _env() -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env["PATH"] = f"{REPO / '.venv' / 'bin'}:{env.get('PATH', '')}"
    return env


def table(data: dict) -> str:
    cases = data["cases"]
    counts = Counter(c["outcome"] for c in cases)
    reasons = Counter(c["reason"] for c in cases if c["outcome"] == "refused")
    rows = [f"| bit-exact through RTL | {counts['bit-exact']} |"]
    rows += [f"| refused: {r} | {n} |" for r, n in sorted(reasons.items())]
    rows.append(f"| failed | {counts['failed']} |")
    failed = [f"- net {c['i']} (spec seed {c['spec_seed']}): {c['error']}" for c in cases if c["outcome"] == "failed"]
    reruns = [f"- net {c['i']}: {c['rerun']['first_outcome']} at the run's commit ({c['rerun']['first_error']}), "
              f"{c['outcome']} at {c['rerun']['commit'][:7]}" for c in cases if "rerun" in c]  # fmt: skip
    meta, prov = data["meta"], data["meta"]["provenance"]
    seconds = sorted(c["seconds"] for c in cases)
    median = seconds[len(seconds) // 2] if seconds else 0
    text = (
        f"{len(cases)} networks of `{prov['command']}` (commit {prov['commit'][:7]}, {prov['date']}, "
        f"{prov['machine']}, shared; {meta['images']} random images each; median {median:.0f} s per network, "
        f"{sum(seconds) / 60:.0f} min in all):\n\n| outcome | networks |\n|---|---:|\n" + "\n".join(rows) + "\n"
    )
    text += "\nFailed:\n" + "\n".join(failed) + "\n" if failed else ""
    return text + ("\nBuilt again after a fix (`--rerun-failed`):\n" + "\n".join(reruns) + "\n" if reruns else "")


def load_runs() -> list[dict]:
    """Every run recorded in the JSON (a file of one run, the earlier format, is a list of one)."""
    if not RESULTS.is_file():
        return []
    data = json.loads(RESULTS.read_text())
    return data["runs"] if "runs" in data else [data]


def write(run: dict) -> None:
    """The JSON with ``run`` in place of the recorded run of its seed (temp file, then rename), and the
    docs tables rendered from it."""
    runs = [r for r in load_runs() if r["meta"]["seed"] != run["meta"]["seed"]] + [run]
    from flow.core.files import write_json

    write_json(RESULTS, {"runs": runs})
    from bench.rerender import rerender

    rerender(["fuzz-table"])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The options, checked before any build starts: bad input is one ``error:`` line (flow/core/cli.py)."""
    from flow.build import MAX_VERIFY_IMAGES
    from flow.core import cli

    ap = cli.Parser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=cli.int_in(1), default=20, help="networks to build")
    ap.add_argument("--seed", type=cli.int_in(0), default=0, help="run seed (network i: random_spec(seed*1000003 + i))")
    ap.add_argument(
        "--images", type=cli.int_in(1, MAX_VERIFY_IMAGES), default=4, help="verification images per network"
    )
    ap.add_argument(
        "--jobs", type=cli.int_in(1, cli.MAX_JOBS), default=1, help="networks built at once (one process each)"
    )
    ap.add_argument("--work", type=cli.output_path, default=REPO / "build" / "bench" / "fuzz")
    ap.add_argument("--resume", action="store_true", help="continue the run in results/bench/fuzz.json")
    ap.add_argument("--rerun-failed", action="store_true",
                    help="build the failed networks of the recorded run of --seed again at this commit")  # fmt: skip
    ap.add_argument("--table-only", action="store_true", help="rewrite the docs table from the JSON")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from flow.core import cli

    return cli.run_cli(lambda: fuzz(parse_args(argv)), "fuzz_networks")


def fuzz(args: argparse.Namespace) -> int:
    if args.table_only:
        from bench.rerender import rerender

        rerender(["fuzz-table"])
        return 0
    if args.rerun_failed:
        return rerun_failed(args)
    from flow.core.provenance import provenance

    data = {"meta": {"provenance": provenance(), "seed": args.seed, "n": args.n, "images": args.images}, "cases": []}
    if args.resume:
        data["cases"] = next((r["cases"] for r in load_runs() if r["meta"]["seed"] == args.seed), [])
    done = {c["i"] for c in data["cases"]}
    todo = [i for i in range(args.n) if i not in done]
    for result in run_many(args, todo):
        data["cases"] = sorted([*data["cases"], result], key=lambda c: c["i"])
        write(data)
    counts = Counter(c["outcome"] for c in data["cases"])
    print(json.dumps(dict(counts)))
    return 0 if counts["failed"] == 0 else 1


def run_many(args, indices: list[int]):
    """Yield the result of each network as it finishes, ``args.jobs`` built at once (each build is a
    process of its own; the export runs in the worker, so torch state is never shared)."""
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    work = args.work / f"seed{args.seed}"
    with ProcessPoolExecutor(max_workers=max(1, args.jobs), mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(run_one, args.seed, i, work, args.images) for i in indices]
        for future in as_completed(futures):
            result = future.result()
            print(f"{result['i']:4d} {result['outcome']:9s} {result['seconds']:7.1f}s {result['summary']}  "
                  f"{result['error']}", flush=True)  # fmt: skip
            yield result


def rerun_failed(args) -> int:
    """The failed networks of the recorded run of ``args.seed``, built again at this commit: each new record
    keeps the first outcome and names the commit of the re-run (``rerun``), so a fix is visible as such."""
    from flow.core.provenance import provenance

    run = next((r for r in load_runs() if r["meta"]["seed"] == args.seed), None)
    if run is None:
        raise SystemExit(f"error: no recorded run of seed {args.seed} in {RESULTS}")
    failed = [c for c in run["cases"] if c["outcome"] == "failed"]
    commit = provenance()["commit"]
    first = {c["i"]: c for c in failed}
    for result in run_many(args, sorted(first)):
        old = first[result["i"]]
        # the outcome at the run's own commit, also when this network was built again before
        earlier = old.get("rerun", {"first_outcome": old["outcome"], "first_error": old["error"]})
        result["rerun"] = {"commit": commit, **{k: earlier[k] for k in ("first_outcome", "first_error")}}
        run["cases"] = sorted([c for c in run["cases"] if c["i"] != result["i"]] + [result], key=lambda c: c["i"])
        write(run)
    counts = Counter(c["outcome"] for c in run["cases"])
    print(json.dumps(dict(counts)))
    return 0 if counts["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
