"""Files the tools write: atomically, with the user's umask, and never over something they did not make.

- ``write_atomically(path, data)``: a temporary file beside ``path`` renamed over it, so a reader (or a
  crash, Ctrl-C, a full disk) sees the old file or the new one, never half of one.
- ``make_temp_dir`` / ``apply_umask``: ``tempfile`` creates folders 0700 and files 0600 whatever the
  umask says; an output that is moved into place gets the mode a plain ``mkdir``/``open`` would give.
- ``MARKER``: the file every build writes into its folder (the files it wrote, for the replace rule of
  flow/core/outputs.py).
- ``keep_failed_logs``: the logs of a failed build, copied out of its temporary folder before it is
  deleted, so that the log an error line names still exists.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MARKER = ".shiftbnn-build.json"  # written into every build folder: "a previous build output"


class OutputError(ValueError):
    """An output path the tool refuses to write or replace; the message is the one line shown."""


def current_umask() -> int:
    mask = os.umask(0)  # the only portable way to read it before Python 3.13's os.getumask
    os.umask(mask)
    return mask


def apply_umask(path: Path, folder: bool | None = None) -> None:
    """Give ``path`` the mode ``mkdir`` (0777) or ``open`` (0666) would under the current umask."""
    folder = Path(path).is_dir() if folder is None else folder
    os.chmod(path, (0o777 if folder else 0o666) & ~current_umask())


def make_temp_dir(prefix: str, parent: Path) -> Path:
    """``tempfile.mkdtemp`` beside the final output, with the umask's mode instead of 0700."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    apply_umask(path, folder=True)
    return path


def write_atomically(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
        apply_umask(Path(tmp), folder=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def finite_json(data):
    """``data`` with every NaN/inf float replaced by None: NaN and Infinity are not JSON."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: finite_json(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [finite_json(v) for v in data]
    return data


def write_json(path: str | Path, data, indent: int = 1) -> Path:
    """Strict JSON (a non-finite number becomes null), written atomically."""
    return write_atomically(path, json.dumps(finite_json(data), indent=indent, allow_nan=False) + "\n")


def is_build_folder(folder: Path) -> bool:
    """Written by flow/build.py: the marker, or (builds from before the marker) report/summary.json
    beside model/ and rtl/ or deploy/."""
    if (folder / MARKER).is_file():
        return True
    legacy = (folder / "report" / "summary.json").is_file() and (folder / "model").is_dir()
    return legacy and ((folder / "rtl").is_dir() or (folder / "deploy").is_dir())


def build_files(folder: Path) -> dict | None:
    """What the build (and flow/vivado/build_bitstream.py after it) wrote into ``folder``: its marker's
    ``files`` (path -> [size, mtime_ns]); None for builds from before the list (nothing assumed)."""
    try:
        files = json.loads((Path(folder) / MARKER).read_text()).get("files")
    except (OSError, ValueError, AttributeError):
        return None
    return files if isinstance(files, dict) else None


FAILED_LOGS_MARKER = ".shiftbnn-failed-logs"  # in every <output>.failed-logs folder this tool wrote
MAX_KEPT_FILE = 64 << 20  # a named file larger than this is not copied (logs are far smaller)


def keep_failed_logs(workdir: Path, output: Path, message: str) -> tuple[Path | None, str]:
    """A failed build's temporary folder is deleted; when the error ``message`` names files inside
    ``workdir``, first copy them and every ``*.log`` there (relative paths kept) into
    ``<output>.failed-logs`` beside ``output`` and point the message there. That folder is replaced only
    when this tool wrote it (its marker), else a new ``<output>.failed-logs-*`` is made. Returns (the
    folder or None, the message)."""
    workdir = Path(workdir)
    named = {Path(m.rstrip(".:")) for m in re.findall(re.escape(str(workdir)) + r"/[^\s;,()'\"]+", message)}
    named = {p for p in named if p.is_file() and p.stat().st_size <= MAX_KEPT_FILE}
    if not named:
        return None, message
    files = named | {p for p in workdir.rglob("*.log") if p.is_file() and p.stat().st_size <= MAX_KEPT_FILE}
    dest = output.with_name(f"{output.name}.failed-logs")
    if dest.is_dir() and not dest.is_symlink() and (dest / FAILED_LOGS_MARKER).is_file():
        shutil.rmtree(dest)
    if dest.exists() or dest.is_symlink():
        dest = make_temp_dir(f"{output.name}.failed-logs-", output.parent)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / FAILED_LOGS_MARKER).write_text(f"logs of the failed build of {output}\n")
    for path in sorted(files):
        target = dest / path.relative_to(workdir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return dest, message.replace(str(workdir), str(dest))
