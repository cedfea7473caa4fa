"""Keep what a run warned about: the ``warning: ...`` / ``note: ...`` lines our code prints to stderr
and the Python warnings that reach the user (the CLIs filter library chatter first,
flow/core/cli.py ``quiet_library_warnings``), so the build can list them in summary.json and its
report instead of leaving them in a scrolled-away terminal. Everything still reaches stderr unchanged.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import warnings

PREFIXES = ("warning:", "note:")


class _Tee:
    """A text stream that passes every write on and keeps the complete lines starting with a prefix."""

    def __init__(self, stream, found: list[str]):
        self._stream, self._found, self._partial = stream, found, ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._partial += text
            *lines, self._partial = self._partial.split("\n")
            for line in lines:
                clean = line.strip("\r").strip()
                if clean.lower().startswith(PREFIXES) and clean not in self._found:
                    self._found.append(clean)
        return self._stream.write(text)

    def __getattr__(self, name):  # flush, isatty, fileno, encoding, ...
        return getattr(self._stream, name)


@contextlib.contextmanager
def capture_warnings(found: list[str] | None = None):
    """While inside: stderr's warning/note lines and shown Python warnings are appended (once each) to
    ``found`` (a new list when None), which the block receives."""
    found = [] if found is None else found
    tee = _Tee(sys.stderr, found)
    previous_show = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        text = f"warning: {category.__name__}: {message}"
        if text not in found:
            found.append(text)
        previous_show(message, category, filename, lineno, file, line)

    sys.stderr, warnings.showwarning = tee, show
    try:
        yield found
    finally:
        sys.stderr, warnings.showwarning = tee._stream, previous_show
