"""A private folder with a plain path for the tools that cannot take any path: Verilator's make and
yosys' command line.

A path with a space splits Verilator's generated makefile, and a non-ASCII letter comes back mangled
in its log; yosys splits its commands at spaces (``read_slang`` takes no quotes). So the tools run in a
fresh folder under the system temp folder (``/tmp`` where that one is not plain either) holding copies
of their input files, and only finished results are copied out to the user's folder, whatever its path.
The folder is removed afterwards, also on timeout, Ctrl-C and SIGTERM: gcc's temporaries (``TMPDIR``
points into it) go with it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

# What make, the compilers and yosys take unquoted
PLAIN_PATH = re.compile(r"[A-Za-z0-9_./+-]+")


def plain_path(path: Path | str) -> bool:
    return PLAIN_PATH.fullmatch(str(path)) is not None


@contextlib.contextmanager
def plain_dir(prefix: str, files: list[Path], subdir: str = ""):
    """A fresh plain folder with a copy of each of ``files`` (by name) in ``subdir`` and an empty
    ``tmp/``; yields its path."""
    base = Path(tempfile.gettempdir())
    if not plain_path(base):
        base = Path("/tmp")
    root = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    try:
        inside = root / subdir
        inside.mkdir(exist_ok=True)
        (root / "tmp").mkdir()
        for path in files:
            if not plain_path(path.name):
                raise ValueError(f"{path}: a file name the tools cannot take (spaces or non-ASCII letters)")
            if (inside / path.name).exists():
                raise ValueError(f"{path}: two input files share the name {path.name}")
            _link_or_copy(path, inside / path.name)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)  # no copy of a large memory file where the file system allows it
    except OSError:
        shutil.copy2(source, target)
