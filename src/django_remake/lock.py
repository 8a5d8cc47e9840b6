"""One run at a time in a project.

Both commands move migration files and keep their journal in
``<project>/.django-remake/``. A second run started while the first one is
writing would take the first run's journal for a crashed run's and roll it
back, so each run holds ``<project>/.django-remake.lock`` from before it
looks for a journal until it has finished. The lock file is the first thing a
run creates and the last it removes, and it holds the run's process id once
the run owns it: a lock file with a process id that nobody holds is the sure
sign of a run that was killed, even one killed after it had finished its work.

On POSIX the lock is ``flock``: the kernel drops it when its process dies,
however it dies, so a killed run never blocks the next one. Its file stays
after a SIGKILL; the next run takes it over and says so. Where ``fcntl`` does
not exist, the file itself is the lock (created exclusively): a run killed
hard leaves it, and the refusal says how to remove it.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

from . import fileops
from .errors import ApplyError, Busy
from .interrupts import deferred

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK = ".django-remake.lock"
#: errors that mean "this folder is read-only", not "something is wrong"
_READ_ONLY = {errno.EACCES, errno.EPERM, errno.EROFS}


@dataclass
class Lock:
    """The project's lock, held by this process until :meth:`release`."""

    path: Path
    #: the open lock file; None when a read-only dry run went without
    descriptor: int | None
    #: who held it before, if a killed run left it: "remakemigrations (process 123)"
    stale: str | None = None

    def release(self) -> None:
        """Remove the lock file, then let go (a waiting run then makes a new one)."""
        if self.descriptor is None:
            return
        with deferred(deliver=False):
            if fcntl is None:
                # Without flock the file is the lock, and an open file cannot
                # be removed everywhere: close it first.
                os.close(self.descriptor)
            try:
                fileops.unlink(self.path)
            except OSError:
                pass  # gone already
            finally:
                # With flock, let go only once the file is gone: a run waiting
                # on this file then sees that it was removed (_same_file).
                if fcntl is not None:
                    os.close(self.descriptor)
                self.descriptor = None


def acquire(root: Path, command: str, *, optional: bool = False) -> Lock:
    """Take the lock of the project at ``root`` for ``command``.

    Raise :class:`Busy` if another run holds it. With ``optional`` (a dry
    run), a project that cannot be written to is read without the lock.
    """
    path = root / LOCK
    # A run that is just letting go removes the file; then make a new one.
    for _attempt in range(100):
        try:
            opened = _open(path)
        except OSError as exc:
            if optional and exc.errno in _READ_ONLY:
                return Lock(path, None)
            raise ApplyError(
                f"The folder {root} is not writable ({exc.strerror}). Fix its "
                f"permissions (for example `chmod u+w {root}`) and run the command again."
            ) from exc
        if opened is None:
            continue
        descriptor, existed = opened
        if not _lock(descriptor, existed):
            holder = _holder(descriptor)
            os.close(descriptor)
            raise Busy(_busy_message(path, holder))
        if not _same_file(path, descriptor):
            os.close(descriptor)
            continue
        # A holder writes its process id once it holds the lock; a file
        # without one belongs to a run that is creating it right now.
        stale = _holder(descriptor) if existed else None
        try:
            fileops.step("write", path)
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, f"{os.getpid()} {command}\n".encode(), 0)
        except BaseException:
            Lock(path, descriptor).release()
            raise
        return Lock(path, descriptor, stale or None)
    raise Busy(
        _busy_message(path, "")
    )  # pragma: no cover - a lock that keeps vanishing


def _open(path: Path) -> tuple[int, bool] | None:
    """The lock file, opened, and whether it was there already; None to retry."""
    fileops.step("create", path)
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666), False
    except FileExistsError:
        pass
    try:
        return os.open(path, os.O_RDWR), True
    except FileNotFoundError:
        return None


def _lock(descriptor: int, existed: bool) -> bool:
    if fcntl is None:
        # The exclusive create was the lock; an existing file is someone else's.
        return not existed
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _same_file(path: Path, descriptor: int) -> bool:
    """False when the holder removed the file between our open and our lock."""
    try:
        return os.stat(path).st_ino == os.fstat(descriptor).st_ino
    except FileNotFoundError:
        return False


def _holder(descriptor: int) -> str:
    """ "remakemigrations (process 123)", from what the holder wrote in the file."""
    try:
        text = os.pread(descriptor, 200, 0).decode("utf-8", "replace")
    except OSError:
        return ""
    pid, _, command = text.strip().partition(" ")
    if not pid.isdigit():
        return ""
    return f"{command or 'a run'} (process {pid})"


def _busy_message(path: Path, holder: str) -> str:
    who = f"Another run of {holder}" if holder else "Another run"
    message = (
        f"{who} is changing the migrations of this project ({path} is locked). "
        "Wait for it to finish, then run the command again."
    )
    if fcntl is None:
        message += (
            f" If no other run is in progress (one was killed), delete {path} "
            "and run the command again."
        )
    return message
