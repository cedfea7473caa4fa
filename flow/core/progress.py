"""Progress on stderr: one line per build step (Progress: current step, its time and the total elapsed),
and inside a long step a done/total count with an ETA (sub, iterate, poll) or an elapsed-time ticker
(elapsed). Quiet when output is not a terminal, except for a few lines."""

from __future__ import annotations

import sys
import threading
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
        from flow.core.cli import raise_if_signalled

        raise_if_signalled()  # a Ctrl-C / SIGTERM that library code swallowed stops the build here
        self.index += 1
        self._print(f"[{self.index:>2}/{self.total}] {name} ... (elapsed {time.monotonic() - self.start:6.1f} s)")
        t0 = time.monotonic()
        record = {"name": name, "seconds": 0.0, "status": "ok"}
        self.steps.append(record)
        try:
            yield record
            raise_if_signalled()
        except BaseException:
            record["status"] = "failed"
            raise
        finally:
            record["seconds"] = round(time.monotonic() - t0, 3)
            mark = {"ok": "done", "failed": "FAILED", "skipped": "skipped"}[record["status"]]
            self._print(f"        {name}: {mark} in {record['seconds']:.2f} s")


# ---------------------------------------------------------------------------------------------
# Progress inside a long step: done/total with an ETA (verification, FIFO sizing, RTL simulation),
# or the elapsed time of a call that cannot count (yosys).
# ---------------------------------------------------------------------------------------------

QUIET_START_S = 3.0  # a loop that ends sooner prints nothing
TTY_EVERY_S = 2.0  # on a terminal: one line rewritten in place at most this often
FILE_MILESTONES = (0.25, 0.5, 0.75)  # elsewhere (logs, CI): a line at these fractions, then the end
_active = 0  # tickers open now: only the outermost prints (a FIFO trial's simulation stays quiet)
_lock = threading.Lock()


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class Ticker:
    """``update(n)`` as work is done; prints ``label: done/total unit (pct), elapsed, ETA`` to stderr.

    On a terminal the line is rewritten at most every TTY_EVERY_S; elsewhere one line at each of
    FILE_MILESTONES. Nothing is printed for work that ends within QUIET_START_S, nor while an outer
    ticker is open, nor under an empty label. ETA = remaining * elapsed / done (the rate so far)."""

    def __init__(self, total: int, label: str, unit: str = "", stream=None):
        global _active
        self.total, self.label, self.unit = max(int(total), 1), label, unit
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.done, self.start, self.last = 0, time.monotonic(), 0.0
        self.printed: int | None = None  # the count on the last line printed
        self.milestones = list(FILE_MILESTONES)
        self.silent = not label  # an empty label: count nothing, print nothing
        with _lock:
            self.outermost = _active == 0
            _active += not self.silent

    def line(self) -> str:
        elapsed = time.monotonic() - self.start
        text = f"        {self.label}: {self.done}/{self.total}{' ' + self.unit if self.unit else ''}"
        text += f" ({100 * self.done / self.total:.0f} %), {_duration(elapsed)}"
        if 0 < self.done < self.total:
            text += f", ETA {_duration((self.total - self.done) * elapsed / self.done)}"
        return text

    def _emit(self, end: str = "\n") -> None:
        if self.tty:
            print("\r" + self.line().ljust(79), end=end, file=self.stream, flush=True)
        else:
            print(self.line(), file=self.stream, flush=True)
        self.printed = self.done

    def update(self, n: int = 1) -> None:
        self.set(self.done + n)

    def set(self, done: int) -> None:
        self.done = min(int(done), self.total)
        now = time.monotonic()
        if self.silent or not self.outermost or now - self.start < QUIET_START_S:
            return
        if self.tty and now - self.last >= TTY_EVERY_S:
            self.last = now
            self._emit(end="")
        elif not self.tty and self.milestones and self.done >= self.milestones[0] * self.total:
            while self.milestones and self.done >= self.milestones[0] * self.total:
                self.milestones.pop(0)
            self._emit()

    def close(self) -> None:
        global _active
        with _lock:
            _active -= not self.silent
        if self.printed is not None and (self.tty or self.printed != self.done):  # the final count
            self._emit()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def sub(total: int, label: str, unit: str = "") -> Ticker:
    """A Ticker for a loop of ``total`` units inside the current step."""
    return Ticker(total, label, unit)


def iterate(items, label: str, unit: str = "", total: int | None = None):
    """Yield from ``items`` with a Ticker counting one per item."""
    items = list(items) if total is None and not hasattr(items, "__len__") else items
    with Ticker(len(items) if total is None else total, label, unit) as ticker:
        for item in items:
            yield item
            ticker.update()


@contextmanager
def poll(total: int, label: str, read_done, unit: str = "", every_s: float = 1.0):
    """For work in another process: a thread calls ``read_done()`` (the count so far, None when not
    known yet) every ``every_s`` and feeds a Ticker until the block ends."""
    stop = threading.Event()
    with Ticker(total, label, unit) as ticker:

        def watch():
            while not stop.wait(every_s):
                done = read_done()
                if done is not None:
                    ticker.set(done)

        thread = threading.Thread(target=watch, daemon=True)
        thread.start()
        try:
            yield ticker
        finally:
            stop.set()
            thread.join()
            final = read_done()  # the last count, for the closing line
            if final is not None:
                ticker.done = min(int(final), ticker.total)


def read_count(path) -> int | None:
    """The integer a subprocess keeps in ``path`` (None while it is absent or half-written)."""
    try:
        return int(open(path).read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


@contextmanager
def elapsed(label: str, every_s: float | None = None, stream=None):
    """For a call that cannot count its work: ``label: 1 min 20 s elapsed`` every ``every_s`` (10 s on a
    terminal, 60 s elsewhere) from a thread; a call that ends sooner prints nothing."""
    stream = stream or sys.stderr
    tty = bool(getattr(stream, "isatty", lambda: False)())
    every_s = every_s or (10.0 if tty else 60.0)
    stop, start = threading.Event(), time.monotonic()

    def tick():
        while not stop.wait(every_s):
            if _active == 0:
                text = f"        {label}: {_duration(time.monotonic() - start)} elapsed"
                print(("\r" + text.ljust(79)) if tty else text, end="" if tty else "\n", file=stream, flush=True)

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        if tty and time.monotonic() - start >= every_s:
            print(file=stream, flush=True)
