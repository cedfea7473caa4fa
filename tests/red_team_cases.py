"""The red-team case tables (tests/test_red_team.py: the CLI cases; tests/test_red_team_faults.py: the
driver's): the CLI table assembled from its files by tool (red_team_build_cases.py,
red_team_train_cases.py, the other tools' here), and the driver's faults. The checks every case makes
are tests/red_team_checks.py's; docs/safety.md lists the cases and their outcome (a test keeps it
complete)."""

from __future__ import annotations

from red_team_build_cases import BUILD_CASES
from red_team_train_cases import TRAIN_SWEEP_CASES

# Issue 28 (second round); the sandbox files are tests/red_team_sandbox.py's.
ROUND2_OTHERS = {
    "throughput-output-tracked": ("throughput", ["--output", "{box}/repo/notes.json"], 2, "inside the git work tree"),
    "throughput-output-dot-git": ("throughput", ["--output", "{box}/repo/.git/t.json"], 2, "inside a .git folder"),
    "throughput-steps-huge": ("throughput", ["--steps", "10000000", "--output", "{box}/tp.json"], 2, "100000"),
    "results-deep-json": ("results_summary", ["{box}/deep_results"], 2, "nested more than 64"),
    "results-readme-not-ours": ("results_summary", ["{box}/results_ok"], 2, "not a previous output"),
    "bitstream-not-a-build": (
        "build_bitstream",
        ["{box}/notbuild_rtl", "--board", "Pynq-Z2", "--tcl-only"],
        2,
        "is not a previous output of flow/build.py",
    ),
    "bitstream-top-json-types": (
        "build_bitstream",
        ["{box}/bad_top", "--board", "Pynq-Z2", "--tcl-only"],
        2,
        "field 'in_width' must be a positive integer",
    ),
    "bitstream-top-json-deep": ("build_bitstream", ["{box}/deep_top", "--board", "Pynq-Z2"], 2, "nested more than"),
    "persistence-no-results": ("persistence", ["{box}/results_ok", "--output", "{box}/p"], 2, "cannot read it"),
    "persistence-deep-json": ("persistence", ["{box}/deep_results/a", "--output", "{box}/p"], 2, "nested more than"),
    "persistence-output-empty": ("persistence", ["{box}/results_ok", "--output", ""], 2, "want a path"),
}

# (tool, argv with {box} for the sandbox, expected exit, fragment of the error line)
CASES = {
    **BUILD_CASES,
    **TRAIN_SWEEP_CASES,
    # flow/throughput.py
    "throughput-threads-zero": ("throughput", ["--threads", "0", "--output", "{box}/tp.json"], 2, "between 1 and"),
    "throughput-steps-zero": ("throughput", ["--steps", "0", "--output", "{box}/tp.json"], 2, "between 1 and"),
    "throughput-unknown-case": ("throughput", ["--only", "nope", "--output", "{box}/tp.json"], 2, "no case 'nope'"),
    "throughput-device-tpu": ("throughput", ["--device", "tpu", "--output", "{box}/tp.json"], 2, "cuda:N"),
    "throughput-output-folder": ("throughput", ["--output", "{box}/notbuild"], 2, "is a folder"),
    # flow/experiments/results_summary.py
    "results-missing-root": ("results_summary", ["{box}/nope"], 2, "results folder not found"),
    "results-broken-json": ("results_summary", ["{box}/results"], 2, "is not readable JSON"),
    "results-metrics-missing-fields": ("results_summary", ["{box}/results_metrics"], 2, "lacks what the tables need"),
    "results-docs-without-block": (
        "results_summary",
        ["{box}/results_ok", "--docs", "{box}/doc_without_block.md"],
        2,
        "results:begin",
    ),
    "results-docs-missing": ("results_summary", ["{box}/results_ok", "--docs", "{box}/nope.md"], 2, "not found"),
    # flow/vivado/build_bitstream.py
    "bitstream-missing-folder": ("build_bitstream", ["{box}/nope", "--board", "Pynq-Z2"], 2, "build folder not found"),
    "bitstream-unknown-board": ("build_bitstream", ["{box}/notbuild", "--board", "Arty"], 2, "unknown board"),
    "bitstream-no-rtl": ("build_bitstream", ["{box}/notbuild", "--board", "Pynq-Z2", "--tcl-only"], 2, "not found"),
    "bitstream-timeout-zero": ("build_bitstream", ["{box}/notbuild", "--board", "Pynq-Z2", "--timeout", "0"], 2, "> 0"),
    **ROUND2_OTHERS,
}


# driver fault -> fragment of its error line (tests/test_red_team_faults.py prepares each fault)
DRIVER_CASES = {
    "limit-zero": "positive integer",
    "batch-zero": "positive integer",
    "timeout-nan": "positive number of seconds",
    "backend-unknown": "invalid choice",
    "object-npy": "not a numeric .npy array",
    "garbage-npy": "not a numeric .npy array",
    "short-labels": "1 labels for 3 images",
    "corrupt-top-json": "top.json is not readable JSON",
    "top-json-wrong-shape": "does not fit the output beats",
    "corrupt-deploy-json": "deploy.json is not readable JSON",
    "sim-not-executable": "is not executable",
    "sim-never-exits": "simulator timed out after 2 s",
    # issue 28
    "deep-top-json": "nested more than 64 levels",
    "clock-true": "clock_mhz must be a positive number, got True",
    "width-text": "in_width must be a positive integer, got '8'",
    "datatype-number": "in_datatype must be a datatype name",
    "labels-nan": "labels must be whole numbers",
    "labels-2d": "labels must have shape (N,) or (N, 1)",
    "labels-long": "5 labels for 3 images",
    "labels-negative": "class indices >= 0",
    "output-is-input": "is the input",
    "output-folder": "is a folder",
    "images-fifo": "not a regular file",
}
