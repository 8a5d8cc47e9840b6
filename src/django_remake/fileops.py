"""Every change either command makes to a project's files goes through here.

One door, for two reasons:

- Each operation is an instant where a run can be killed. Each one calls
  :func:`fault_point` with its running number, so the crash tests can stop a
  real run just before its N-th file operation (``DJANGO_REMAKE_FAULT=op:N:sigkill``)
  and check that the next run puts the project back, for every N.
  ``DJANGO_REMAKE_TRACE=<file>`` appends one line per operation to that file,
  which is how a test learns how many instants a run has.
- A file at its final name is always complete: :func:`write` fsyncs before it
  returns, and :func:`move` across file systems copies to a temporary name
  beside the target (:func:`staging_name`) and renames it into place, so a
  killed copy leaves a temporary file that recovery removes, never half a
  migration under its real name.

Reads are not operations: they cannot leave anything behind.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
from pathlib import Path

#: Test hook: "<point>:<action>" makes the run fail at that point (see fault_point).
FAULT_VARIABLE = "DJANGO_REMAKE_FAULT"
#: Test hook: a file that gets one line per file operation.
TRACE_VARIABLE = "DJANGO_REMAKE_TRACE"

_count = 0
#: ``sigint2`` sends its second SIGINT at the next point, as a second Ctrl-C
#: that lands while the first one is being handled.
_second_sigint = False


def fault_point(name: str) -> None:
    """Fail here if ``DJANGO_REMAKE_FAULT`` names this point.

    Points: ``op:N`` (just before the N-th file operation of the process), and
    the named stages ``plan``, ``journal``, ``staged``, ``move:N`` (after the
    N-th file move of a write) and ``verify``. Actions: ``raise`` raises an
    error; ``sigterm``, ``sigint``, ``sigkill`` and ``sigstop`` send that
    signal to this process; ``sigint2`` sends SIGINT now and again at the next
    point (a second Ctrl-C while the first is being handled).
    """
    global _second_sigint
    if _second_sigint:
        _second_sigint = False
        os.kill(os.getpid(), signal.SIGINT)
    wanted = os.environ.get(FAULT_VARIABLE, "")
    point, _, action = wanted.rpartition(":")
    if point != name:
        return
    if action == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    if action == "sigterm":
        os.kill(os.getpid(), signal.SIGTERM)
        return
    if action == "sigstop":  # hold still (with the lock) until SIGCONT
        os.kill(os.getpid(), signal.SIGSTOP)
        return
    if action in ("sigint", "sigint2"):
        _second_sigint = action == "sigint2"
        os.kill(os.getpid(), signal.SIGINT)
        return
    raise RuntimeError(f"injected fault at {name}")


def step(kind: str, *paths: Path) -> None:
    """Count one file operation: trace it, and let a fault land before it."""
    global _count
    _count += 1
    trace = os.environ.get(TRACE_VARIABLE)
    if trace:
        with open(trace, "a", encoding="utf-8") as handle:
            handle.write(f"{_count} {kind} {' '.join(map(str, paths))}\n")
    fault_point(f"op:{_count}")


def staging_name(target: Path) -> Path:
    """Where :func:`move` copies a file before renaming it to ``target``."""
    return target.with_name(f".{target.name}.django-remake-tmp")


def mkdir(path: Path) -> None:
    step("mkdir", path)
    path.mkdir()


def rmdir(path: Path) -> None:
    step("rmdir", path)
    path.rmdir()


def unlink(path: Path) -> None:
    step("unlink", path)
    path.unlink()


def chmod(path: Path, mode: int) -> None:
    step("chmod", path)
    os.chmod(path, mode)


def replace(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target`` in one step (same file system only)."""
    step("replace", source, target)
    os.replace(source, target)


def move(source: Path, target: Path) -> None:
    """Rename, or, across file systems, copy beside the target and rename."""
    step("move", source, target)
    try:
        os.replace(source, target)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    # MIGRATION_MODULES may point to another file system than the project's.
    staged = staging_name(target)
    step("copy", source, staged)
    shutil.copy2(source, staged)
    replace(staged, target)
    unlink(source)


def write(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Create or truncate ``path`` and write ``data``, durably.

    Two instants: a kill after the first leaves an empty file.
    """
    step("create", path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (os.O_EXCL if exclusive else 0)
    descriptor = os.open(path, flags, 0o666)
    with os.fdopen(descriptor, "wb") as handle:
        step("write", path)
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def sync_folder(path: Path) -> None:
    """Make the names in ``path`` durable: a rename is in memory until then.

    Not an operation (it changes nothing), so not a fault point.
    """
    if os.name != "posix":
        return  # Windows cannot open a folder; its renames are journaled by NTFS
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove_tree(path: Path) -> None:
    """Delete a folder and everything in it, one counted operation per entry."""
    if not path.is_dir() or path.is_symlink():
        if path.exists() or path.is_symlink():
            unlink(path)
        return
    for folder, subfolders, names in os.walk(path, topdown=False):
        for name in names:
            unlink(Path(folder) / name)
        for name in subfolders:
            entry = Path(folder) / name
            if entry.is_symlink():
                unlink(entry)
            else:
                rmdir(entry)
    rmdir(path)
