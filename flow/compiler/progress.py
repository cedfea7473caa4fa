"""A one-line-per-step progress display on stderr: current step, its time and the total elapsed."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager


class Progress:
    def __init__(self, total_steps: int, stream=None):
        self.total = total_steps
        self.index = 0
        self.start = time.monotonic()
        self.stream = stream or sys.stderr
        self.steps: list[dict] = []

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    @contextmanager
    def step(self, name: str):
        """Time one step; records ``{name, seconds, status}`` (status ok|failed|skipped)."""
        self.index += 1
        self._print(f"[{self.index:>2}/{self.total}] {name} ... (elapsed {time.monotonic() - self.start:6.1f} s)")
        t0 = time.monotonic()
        record = {"name": name, "seconds": 0.0, "status": "ok"}
        self.steps.append(record)
        try:
            yield record
        except BaseException:
            record["status"] = "failed"
            raise
        finally:
            record["seconds"] = round(time.monotonic() - t0, 3)
            mark = {"ok": "done", "failed": "FAILED", "skipped": "skipped"}[record["status"]]
            self._print(f"        {name}: {mark} in {record['seconds']:.2f} s")
