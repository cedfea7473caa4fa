"""Re-render the docs tables of a JSON a benchmark has just written: ``bench/tables.py NAME...`` run as a
program. The renderer imports the benchmarks' table functions (bench/table_render.py, table_render_hw.py); a
benchmark that imported the renderer back would close a circle, so the data flows one way: benchmark -> JSON ->
tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TABLES = Path(__file__).with_name("tables.py")
TIMEOUT_S = 600  # rendering reads JSON and git history: seconds; the limit only guards a hang


def rerender(names: list[str]) -> None:
    """Rewrite the named blocks (bench/tables.py ``BLOCKS``) from their JSON; raises when that fails."""
    subprocess.run([sys.executable, str(TABLES), *names], check=True, timeout=TIMEOUT_S)
