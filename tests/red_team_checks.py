"""What every red-team case checks (tests/test_red_team.py, tests/test_red_team_faults.py and the tests
beside them): the exit status with exactly one ``error:`` line and no traceback on stderr, and that
every file that existed before is byte-for-byte unchanged afterwards (nothing created either)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def snapshot(root: Path) -> dict:
    """Every entry under ``root``: file hash, link target or folder (symlinks not followed)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = "link:" + os.readlink(path)
            elif path.is_dir():
                out[rel] = "dir"
            elif not path.is_file():  # a FIFO: never read (it would block)
                out[rel] = "special"
            else:
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def assert_one_error(code: int, err: str, expected_code: int, fragment: str) -> None:
    assert code == expected_code, err
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if "error:" in ln]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert fragment in lines[0], lines[0]


def running(pid: int) -> bool:
    """Alive and not a zombie (a killed process stays one until its reaper collects it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0] != "Z"
    except FileNotFoundError:
        return False


def env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}
