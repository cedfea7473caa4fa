"""Files the tools read are data: opened only when regular, parsed with limits, validated field by field.

- ``open_regular(path)``: a FIFO, a device or a socket named like a data file (``a.jpg``) would block a
  reader forever or never end; it is opened non-blocking, checked with ``fstat`` and refused.
- ``read_json(path, what, kind)``: strict JSON (no NaN/Infinity), nested at most ``MAX_JSON_DEPTH``
  levels (deeper input overflows Python's parser: RecursionError), of the expected top-level type.
- ``check_fields(data, spec, where)``: each field present with the right type and range (``FIELD``
  predicates below: ``true`` is not an integer, ``NaN`` is not a number).
Every failure is an ``InputError`` whose message names the file and what is wrong: one ``error:`` line.
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Callable
from pathlib import Path

MAX_JSON_DEPTH = 64
MAX_JSON_BYTES = 64 << 20  # every JSON file of the flow is small; a huge one is not ours


class InputError(ValueError):
    """An input file that is not what it should be; the message (naming the file) is the one line shown."""


_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a folder"}  # fmt: skip


def file_kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def open_regular(path: str | Path, mode: str = "rb"):
    """``open(path, mode)`` for reading, only if ``path`` is a regular file (InputError otherwise)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # a FIFO's open must not block
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror or type(exc).__name__})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise InputError(f"{path} is {file_kind(info.st_mode)}, not a regular file; only files are read as data")
    os.set_blocking(fd, True)
    return os.fdopen(fd, mode)


def is_regular_file(path: str | Path) -> bool:
    """Without following the data: lstat's verdict (a symbolic link to a regular file counts)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a finite number")


def json_depth(value) -> int:
    """Nesting depth of a parsed JSON value (iterative: no recursion limit of its own)."""
    depth, level = 0, [(value, 1)]
    while level:
        item, d = level.pop()
        if isinstance(item, dict | list):
            depth = max(depth, d)
            level.extend((v, d + 1) for v in (item.values() if isinstance(item, dict) else item))
    return depth


def parse_json(text: str, label: str):
    """Strict JSON (no NaN/Infinity), at most ``MAX_JSON_DEPTH`` deep; InputError starting with ``label``."""
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise InputError(f"{label} is nested more than {MAX_JSON_DEPTH} levels deep") from None
    except ValueError as exc:
        raise InputError(f"{label} is not readable JSON ({str(exc).splitlines()[0]})") from None
    if json_depth(data) > MAX_JSON_DEPTH:
        raise InputError(f"{label} is nested more than {MAX_JSON_DEPTH} levels deep")
    return data


def read_json(path: str | Path, what: str = "", kind: type | None = dict):
    """Parse ``path`` as strict JSON of type ``kind`` (None: any); InputError names what is wrong."""
    label = f"{what} {path}".strip()
    with open_regular(path) as fh:
        raw = fh.read(MAX_JSON_BYTES + 1)
    if len(raw) > MAX_JSON_BYTES:
        raise InputError(f"{label} is larger than {MAX_JSON_BYTES >> 20} MB: not a file of this flow")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{label} is not readable JSON (not UTF-8 text)") from None
    data = parse_json(text, label)
    if kind is not None and not isinstance(data, kind):
        name = {dict: "an object {...}", list: "a list [...]"}.get(kind, kind.__name__)
        raise InputError(f"{label} must hold {name}, not {type(data).__name__}")
    return data


# ------------------------------------------------------------------------------------ field checks
Field = tuple[Callable[[object], bool], str]  # (predicate, what it wants)


def _integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


POSITIVE_INT: Field = (lambda v: _integer(v) and v > 0, "a positive integer")
NONNEGATIVE_INT: Field = (lambda v: _integer(v) and v >= 0, "an integer >= 0")
POSITIVE_NUMBER: Field = (lambda v: _number(v) and v > 0, "a positive finite number")
NUMBER: Field = (_number, "a finite number")
TEXT: Field = (lambda v: isinstance(v, str) and v != "", "a non-empty text")
OBJECT: Field = (lambda v: isinstance(v, dict), "an object {...}")
SHAPE: Field = (lambda v: isinstance(v, list) and len(v) > 0 and all(POSITIVE_INT[0](d) for d in v),
                "a list of positive integers")  # fmt: skip


def check_fields(data: dict, spec: dict[str, Field], where: str, optional: tuple[str, ...] = ()) -> None:
    """Every field of ``spec`` present (unless ``optional`` and absent) and of its kind."""
    for key, (ok, wants) in spec.items():
        if key not in data:
            if key in optional:
                continue
            raise InputError(f"{where}: field {key!r} is missing (want {wants})")
        if not ok(data[key]):
            raise InputError(f"{where}: field {key!r} must be {wants}, got {json.dumps(data[key])[:60]}")
