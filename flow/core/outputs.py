"""What a tool may replace: the one rule every CLI's output goes through (``claim_output``).

The rule (docs/safety.md, "What a tool may replace"):

1. Never a symbolic link, an empty path, the current folder or a folder above it, the root of a git
   work tree (the repository among them) or a folder above one, and nothing inside a ``.git`` folder.
2. Never anything that is, holds or lies inside what the run reads: its checkpoint, ONNX file,
   folding JSON, data folder (the one given and the one recorded in a checkpoint), images, labels.
3. An existing, non-empty output is replaced (or written into) only when a previous run of the same
   tool wrote it (``written_by``: the tool's own signature, e.g. the build's marker file). Otherwise
   ``--force`` is needed, and inside a git work tree even ``--force`` does not reach it: its files may
   be tracked (and ``.git`` is never touched, rule 1).
4. A folder is replaced by a swap (``foreign_files`` + ``move_aside``): files the previous run did not
   write (its marker lists what it wrote, with size and mtime; anything else, or anything changed
   since, is the user's) are never deleted: the old folder is moved aside to ``<dir>.prev`` instead.
5. While a run writes, ``<parent>/.<name>.lock`` (an ``flock``) is held: a second run into the same
   output refuses at once instead of racing. Creating it is also the early check that the output's
   folder is writable (read-only, full, overlong paths are one line before any work).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from flow.core.files import MARKER, OutputError, current_umask

LOCK_SUFFIX = ".lock"


# ------------------------------------------------------------------------------------- locations
def _within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def git_work_tree(path: Path) -> Path | None:
    """The root of the git work tree ``path`` lies in (a folder holding ``.git``), or None."""
    for folder in (path, *path.parents):
        if (folder / ".git").exists():
            return folder
    return None


def inside_git_dir(path: Path) -> bool:
    return ".git" in path.parts


def _resolved(path: Path) -> Path:
    """``path`` made absolute with its existing part resolved (symbolic links of the parents followed,
    the last component kept as given: rule 1 looks at it without following it)."""
    path = Path(os.path.abspath(path))
    return path.parent.resolve() / path.name


def check_location(
    output: Path, inputs: Iterable[Path | None], flag: str = "--output", allow_cwd: bool = False
) -> Path:
    """Rules 1 and 2; returns the absolute output path. ``allow_cwd``: a tool that writes into a folder
    of its own flow (never replaces it) may be run from inside it."""
    if str(output) == "":
        raise OutputError(f"{flag} is empty; give a path")
    target = _resolved(output)
    if output.is_symlink():
        raise OutputError(f"{flag} {output} is a symbolic link: its target is never replaced; give a real path")
    if inside_git_dir(target):
        raise OutputError(f"{flag} {output} lies inside a .git folder: a repository's history is never written")
    if _within(Path.cwd().resolve(), target) and not (allow_cwd and target.is_dir()):
        raise OutputError(f"{flag} {output} is the current directory or a folder above it; give a new folder")
    for repo in _git_roots_below(target):
        raise OutputError(f"{flag} {output} would replace the git work tree {repo} (or a folder above it)")
    for item in inputs:
        if item is None:
            continue
        source = Path(os.path.abspath(item)).resolve()
        if _within(source, target):
            raise OutputError(f"{flag} {output} holds the input {item}; give another folder")
        if source.is_dir() and _within(target, source):
            raise OutputError(f"{flag} {output} lies inside the input folder {item}; give a folder outside it")
    return target


def _git_roots_below(target: Path) -> list[Path]:
    """``target`` is a git work tree's root or lies above the current repository's root."""
    from flow.core.files import REPO

    roots = [root for root in (git_work_tree(Path.cwd().resolve()), REPO) if root is not None]
    if (target / ".git").exists():
        roots.insert(0, target)
    return [root for root in roots if _within(root, target)]


# ------------------------------------------------------------------------------------- the verdict
@dataclass
class Claim:
    """An output the rule allows: ``path`` (absolute), whether something is there to be replaced
    (``replacing``) and the held lock (released by ``claim_output``)."""

    path: Path
    replacing: bool
    lock: OutputLock | None = None


def is_empty_folder(path: Path) -> bool:
    return path.is_dir() and not any(path.iterdir())


def check_output(
    output: Path,
    written_by: Callable[[Path], bool],
    inputs: Iterable[Path | None] = (),
    force: bool | None = False,
    flag: str = "--output",
    kind: str = "folder",
    tool: str = "this tool",
    allow_cwd: bool = False,
) -> Claim:
    """Rules 1-3 for ``output`` (a ``kind`` "folder" or "file"); raises OutputError with the reason.
    ``force`` None: the tool has no --force (the message does not offer it)."""
    target = check_location(Path(output), inputs, flag, allow_cwd)
    if not target.exists():
        return Claim(target, replacing=False)
    if kind == "folder" and not target.is_dir():
        raise OutputError(f"{flag} {output} is an existing file, not a folder; give another path")
    if kind == "file" and target.is_dir():
        raise OutputError(f"{flag} {output} is a folder; give a file path")
    if kind == "folder" and is_empty_folder(target):
        return Claim(target, replacing=False)
    if written_by(target):
        return Claim(target, replacing=True)
    tree = git_work_tree(target.parent)
    if tree is not None:
        raise OutputError(
            f"{flag} {output} exists inside the git work tree {tree} and {tool} did not write it: its files "
            "may be tracked, so it is never replaced (not even with --force); give a new path"
        )
    if not force:
        hint = {None: "", "folder": " or --force to replace it (its files are kept in a .prev folder)"}
        raise OutputError(
            f"{flag} {output} exists and is not a previous output of {tool}; give another path"
            + hint.get(None if force is None else kind, " or --force")
        )
    return Claim(target, replacing=True)


# ------------------------------------------------------------------------------------------ the lock
class OutputLock:
    """``<parent>/.<name>.lock`` held with ``flock`` while a run writes ``target``.

    The file is removed on release; a run killed with SIGKILL leaves it behind, but the kernel dropped
    its flock, so the next run takes it. A run that opened the file just before another one removed
    it sees a different inode at the path and tries again (the usual unlink race)."""

    def __init__(self, target: Path, flag: str = "--output"):
        self.target, self.flag = Path(target), flag
        self.path = self.target.parent / f".{self.target.name}{LOCK_SUFFIX}"
        self.fd: int | None = None

    def acquire(self) -> OutputLock:
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{self.flag} {self.target}: cannot create its folder ({_why(exc)})") from None
        while self.fd is None:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666 & ~current_umask())
            except OSError as exc:
                raise OutputError(f"{self.flag} {self.target}: cannot write there ({_why(exc)})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_pid(fd)
                os.close(fd)
                raise OutputError(
                    f"{self.flag} {self.target} is being written by another run{holder} (lock {self.path}); "
                    "wait for it to finish or give another path"
                ) from None
            if _same_file(fd, self.path):
                self.fd = fd
            else:
                os.close(fd)  # removed by the run that held it, between our open and flock: again
        try:
            os.ftruncate(self.fd, 0)
            os.write(self.fd, f"{os.getpid()}\n".encode())
        except OSError as exc:  # a full disk: found now, not after the first epoch
            self.release()
            raise OutputError(f"{self.flag} {self.target}: cannot write there ({_why(exc)})") from None
        return self

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        os.close(self.fd)
        self.fd = None


def probe_writable(folder: Path, flag: str = "--output") -> None:
    """Create and remove a file in ``folder``: OutputError when that fails (read-only, full, ...)."""
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".shiftbnn-probe-"):
            pass
    except OSError as exc:
        raise OutputError(f"{flag} {folder}: cannot write into it ({_why(exc)})") from None


def _read_pid(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        pid = int(os.pread(fd, 32, 0).split()[0])
        return f" (pid {pid})"
    return ""


def _same_file(fd: int, path: Path) -> bool:
    try:
        here, there = os.fstat(fd), os.stat(path)
    except FileNotFoundError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _why(exc: OSError) -> str:
    if exc.errno == errno.ENAMETOOLONG:
        return "the path is too long for this file system"
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    return exc.strerror or type(exc).__name__


@contextlib.contextmanager
def claim_output(
    output: Path, written_by: Callable[[Path], bool], inputs: Iterable[Path | None] = (), **rule
) -> Iterator[Claim]:
    """The rule (``check_output``, ``rule``: its keyword arguments) plus the lock, held while inside;
    the check is repeated once the lock is held (another run may have written the output in between)."""
    inputs = list(inputs)
    claim = check_output(output, written_by, inputs, **rule)
    lock = OutputLock(claim.path, rule.get("flag", "--output")).acquire()
    try:
        claim = check_output(output, written_by, inputs, **rule)
        claim.lock = lock
        if claim.path.is_dir():  # written into in place (a run folder): writable now, not after an epoch
            probe_writable(claim.path, rule.get("flag", "--output"))
        yield claim
    finally:
        lock.release()


# ------------------------------------------------------------------------- what a run wrote: manifest
def manifest(folder: Path, skip: Iterable[str] = ()) -> dict[str, list[int]]:
    """Every file under ``folder`` -> [size, mtime_ns]: what this run wrote (recorded in its marker)."""
    skip = set(skip)
    out = {}
    for path in sorted(Path(folder).rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if rel in skip or path.is_dir() and not path.is_symlink():
            continue
        st = path.lstat()
        out[rel] = [st.st_size, st.st_mtime_ns]
    return out


def foreign_files(folder: Path, written: dict | None, skip: Iterable[str] = (MARKER,)) -> list[str]:
    """Files under ``folder`` its run did not write (not in ``written``, or changed since; the marker
    itself, written after its list, aside). ``written`` None (an output from before manifests): every
    file counts as foreign, nothing is assumed."""
    now = manifest(folder, skip)
    if written is None:
        return sorted(now)
    return sorted(rel for rel, stamp in now.items() if list(written.get(rel, [])) != stamp)


def prev_path(output: Path) -> Path:
    return output.with_name(output.name + ".prev")


def check_prev_free(output: Path, written_by: Callable[[Path], bool], written_files: Callable[[Path], dict | None]):
    """Where the old ``output`` would go if it holds foreign files: ``<dir>.prev`` must be free, or an
    earlier ``.prev`` that holds only what its run wrote (it is then deleted); else OutputError."""
    prev = prev_path(output)
    if not prev.exists() and not prev.is_symlink():
        return
    foreign = foreign_files(prev, written_files(prev)) if prev.is_dir() and written_by(prev) else ["(not ours)"]
    if foreign:
        raise OutputError(
            f"{output} holds files no run of this tool wrote, and {prev} (where they would be kept) exists "
            "with files of its own; move one of them away first"
        )


def plan_replacement(
    output: Path, written_by: Callable[[Path], bool], written_files: Callable[[Path], dict | None]
) -> list[str]:
    """The files of the existing ``output`` its run did not write (rule 4): they are kept in
    ``<dir>.prev``; checked before the work starts and again at the swap."""
    if not output.is_dir():
        return []
    foreign = foreign_files(output, written_files(output) if written_by(output) else None)
    if foreign:
        check_prev_free(output, written_by, written_files)
    return foreign


def swap_into_place(new: Path, output: Path, keep_old: bool = False) -> Path | None:
    """Move the old ``output`` aside, ``new`` in; then delete the old folder, or with ``keep_old``
    keep it as ``<dir>.prev`` (returned). On any failure in between the old folder is put back."""
    prev = prev_path(output)
    aside = prev if keep_old else output.with_name(f".{output.name}.old-{os.getpid()}")
    if keep_old and prev.exists():
        shutil.rmtree(prev)  # checked by check_prev_free: only what an earlier run wrote
    moved = False
    try:
        if output.exists():
            os.replace(output, aside)
            moved = True
        os.replace(new, output)
    except BaseException:
        if moved and not output.exists():
            os.replace(aside, output)
        raise
    if moved and not keep_old:
        shutil.rmtree(aside, ignore_errors=True)
    return aside if moved and keep_old else None
