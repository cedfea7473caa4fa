"""flow/core/progress.py: the tickers inside long steps (verification, FIFO sizing, RTL simulation,
yosys) print done/total with an ETA, a few lines when not on a terminal, nothing for short work."""

import io
import time

import pytest

from flow.core import progress

pytestmark = pytest.mark.fast


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(progress.time, "monotonic", c)
    return c


def test_log_stream_gets_milestones_with_eta(clock):
    out = io.StringIO()
    with progress.Ticker(100, "verify finn", "images", stream=out) as t:
        for _ in range(100):
            clock.now += 0.5  # 0.5 s per image: 50 s in all
            t.update()
    lines = out.getvalue().splitlines()
    assert len(lines) == 4  # 25 %, 50 %, 75 %, the end
    assert lines[0].strip() == "verify finn: 25/100 images (25 %), 12 s, ETA 38 s"
    assert lines[1].endswith("50/100 images (50 %), 25 s, ETA 25 s")
    assert lines[-1].strip() == "verify finn: 100/100 images (100 %), 50 s"


def test_no_repeated_final_line(clock):
    out = io.StringIO()
    with progress.Ticker(4, "verify", stream=out) as t:
        for _ in range(4):  # the quiet start ends on the last chunk
            clock.now += 0.9
            t.update()
    assert out.getvalue().splitlines() == ["        verify: 4/4 (100 %), 4 s"]


def test_short_work_and_inner_tickers_stay_quiet(clock):
    out = io.StringIO()
    with progress.Ticker(10, "quick", stream=out) as t:
        for _ in range(10):
            clock.now += 0.1
            t.update()
    assert out.getvalue() == ""
    inner_out = io.StringIO()
    with progress.Ticker(3, "FIFO sizing", stream=io.StringIO()):
        with progress.Ticker(10, "RTL simulation", stream=inner_out) as inner:
            clock.now += 100
            inner.update(10)
    assert inner_out.getvalue() == ""
    with progress.Ticker(5, "", stream=out) as silent:  # an empty label counts nothing
        clock.now += 100
        silent.update(5)
    assert out.getvalue() == "" and progress._active == 0


def test_terminal_rewrites_one_line(clock):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    with progress.Ticker(1000, "verify", stream=out) as t:
        for _ in range(1000):
            clock.now += 0.05
            t.update()
    text = out.getvalue()
    assert text.count("\r") == 24 and text.count("\n") == 1  # every 2 s from 3 s on, one final newline
    assert text.rstrip().endswith("verify: 1000/1000 (100 %), 50 s")


def test_iterate_and_poll_a_count_file(tmp_path, monkeypatch):
    monkeypatch.setattr(progress, "QUIET_START_S", 0.0)
    assert list(progress.iterate(range(4), "")) == [0, 1, 2, 3]
    count = tmp_path / "progress"
    assert progress.read_count(count) is None
    seen = []
    with progress.poll(10, "RTL simulation", lambda: progress.read_count(count), every_s=0.01) as t:
        for done in (3, 7):
            count.write_text(f"{done}\n")
            deadline = time.monotonic() + 5
            while t.done != done and time.monotonic() < deadline:
                time.sleep(0.01)
            seen.append(t.done)
    assert seen == [3, 7]
    count.write_text("10\n")  # the subprocess' last write, after the last poll
    with progress.poll(10, "", lambda: progress.read_count(count), every_s=60) as t:
        pass
    assert t.done == 10


def test_elapsed_ticks_from_a_thread():
    out = io.StringIO()
    with progress.elapsed("yosys synthesis", every_s=0.05, stream=out):
        time.sleep(0.3)
    lines = out.getvalue().splitlines()
    assert 2 <= len(lines) <= 7 and all(ln.strip().startswith("yosys synthesis: ") for ln in lines)
    assert lines[0].endswith(" s elapsed")
