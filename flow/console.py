"""Console entry points (``[project.scripts]`` in pyproject.toml): ``shiftbnn-build`` is
``python flow/build.py``, and so on. Library warnings the user cannot act on are filtered before the
command's module imports brevitas (flow/core/cli.py ``quiet_library_warnings``)."""

from __future__ import annotations

import importlib
import sys

from flow.core import cli

COMMANDS = {
    "build": "flow.build",
    "train": "flow.train",
    "sweep": "flow.sweep",
    "throughput": "flow.throughput",
    "results": "flow.experiments.results_summary",
    "persistence": "flow.experiments.persistence",
    "reproduce": "flow.reproduce",
    "bitstream": "flow.vivado.build_bitstream",
}


def run(command: str) -> None:
    cli.quiet_library_warnings()
    sys.exit(importlib.import_module(COMMANDS[command]).main())


def build() -> None:
    run("build")


def train() -> None:
    run("train")


def sweep() -> None:
    run("sweep")


def throughput() -> None:
    run("throughput")


def results() -> None:
    run("results")


def persistence() -> None:
    run("persistence")


def reproduce() -> None:
    run("reproduce")


def bitstream() -> None:
    run("bitstream")
