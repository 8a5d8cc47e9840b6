"""Apply: the only step that writes, and the way back.

Both commands change a project through one :class:`Transaction`. The new
files are written to a work folder first (formatted and compiled there), a
journal naming every move is written and flushed, then the old files are moved
into the work folder and the new ones into place. Until
:meth:`Transaction.commit`, :meth:`Transaction.rollback` puts every file back
exactly (a rename keeps content, name and mode), and a journal left by a
killed run lets the next run do the same.

Every file operation goes through :mod:`django_remake.fileops`, and a run
holds the project's lock (:mod:`django_remake.lock`) from before it looks for
a journal until it ends: see :func:`exclusive`. docs/crash-safety.md states
what a crash at each instant leaves and what the next run does with it.
"""

from __future__ import annotations

import json
import stat
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import fileops, formatting, lock
from .errors import ApplyError, Interrupted, Recovered, Stopped
from .fileops import FAULT_VARIABLE, fault_point
from .interrupts import as_exception, deferred, reason, sigterm_unwinds
from .writer import RenderedFile

__all__ = ["FAULT_VARIABLE", "fault_point", "sigterm_unwinds"]

WORK_DIR = ".django-remake"
JOURNAL = "journal.json"
JOURNAL_TMP = "journal.tmp"
PROBE = ".django-remake-probe-"


@dataclass(frozen=True)
class Journal:
    """Every path a write may create or move, written before the first move."""

    command: str
    work: Path
    created: tuple[Path, ...]
    moved: tuple[tuple[Path, Path], ...]  # (original, backup)
    #: files made only to test that a folder is writable
    probes: tuple[Path, ...] = ()

    def dump(self) -> bytes:
        data = {
            "command": self.command,
            "work": str(self.work),
            "created": [str(p) for p in self.created],
            "moved": [[str(a), str(b)] for a, b in self.moved],
            "probes": [str(p) for p in self.probes],
        }
        return json.dumps(data, indent=1).encode()

    @classmethod
    def load(cls, path: Path) -> Journal:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                command=str(data.get("command", "remakemigrations")),
                work=Path(data["work"]),
                created=tuple(Path(p) for p in data["created"]),
                moved=tuple((Path(a), Path(b)) for a, b in data["moved"]),
                probes=tuple(Path(p) for p in data.get("probes", ())),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ApplyError(
                f"The journal {path} of an interrupted run is unreadable ({exc}). "
                "Restore the migration files from version control, then delete "
                f"{path.parent}."
            ) from exc


@dataclass
class _Run:
    """What this process's run has done so far (signals are process-wide too)."""

    lock: lock.Lock | None = None
    #: a write that is neither committed nor rolled back yet
    open: Transaction | None = None
    committed: bool = False


_run = _Run()


@dataclass
class Transaction:
    """A set of file moves that can still be undone."""

    journal_path: Path
    journal: Journal
    done: bool = field(default=False)

    def commit(self) -> None:
        """Forget the way back: drop the journal, then the backups.

        Removing the journal is the instant the new files become the
        project's; a crash after it leaves only the work folder, which the
        next run removes. A Ctrl-C during the commit is delivered after it.
        """
        with deferred():
            fileops.unlink(self.journal_path)
            _run.committed, _run.open, self.done = True, None, True
            fileops.remove_tree(self.journal.work)
            _remove_if_empty(self.journal_path.parent)

    def rollback(self) -> list[str]:
        """Undo every move; return one line per restored or removed file.

        Ctrl-C and SIGTERM wait until it is done. If a file cannot be put
        back, :class:`ApplyError` says which, and the journal stays for the
        next run.
        """
        if self.done:
            return []
        with deferred(deliver=False):
            report = _undo(self.journal, self.journal_path)
            _run.open, self.done = None, True
            return report


def journal_path(root: Path) -> Path:
    return root / WORK_DIR / JOURNAL


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _remove_if_empty(folder: Path) -> None:
    if folder.is_dir() and not any(folder.iterdir()):
        fileops.rmdir(folder)


def _undo(journal: Journal, journal_file: Path) -> list[str]:
    """Put back what ``journal`` moved, whatever part of it happened.

    Each step looks at the disk, so it is right after any prefix of the
    write and after any prefix of an earlier, interrupted undo.
    """
    report: list[str] = []
    failures: list[str] = []

    def attempt(line: str | None, action: Callable[..., None], *args: Path) -> None:
        try:
            action(*args)
        except OSError as exc:
            failures.append(f"{line or args[0]} ({exc.strerror or exc})")
        else:
            if line:
                report.append(line)

    originals = {original for original, _ in journal.moved}
    for path in journal.created:
        # A created path that is also an original holds the new text, and the
        # backup goes back over it below; otherwise the new file goes.
        for leftover in (fileops.staging_name(path), path):
            if leftover not in originals and _exists(leftover):
                attempt(f"removed {leftover}", fileops.unlink, leftover)
    for original, backup in journal.moved:
        staged = fileops.staging_name(original)
        if _exists(staged):
            attempt(f"removed {staged}", fileops.unlink, staged)
        if not backup.exists():
            continue  # never moved, or already restored
        if original.exists() and original.read_bytes() == backup.read_bytes():
            # A copy across file systems stopped before it removed its source.
            attempt(None, fileops.unlink, backup)
        else:
            attempt(f"restored {original}", fileops.move, backup, original)
    for probe in journal.probes:
        if _exists(probe):
            attempt(f"removed {probe}", fileops.unlink, probe)
    if failures:
        kept = (
            f" The journal {journal_file} is kept: fix the cause, then run "
            f"`python manage.py {journal.command}` again to finish restoring."
            if journal_file.exists()
            else ""
        )
        raise ApplyError(
            "Could not put every file back: " + "; ".join(failures) + "." + kept
        )
    for scratch in (journal_file, journal_file.with_name(JOURNAL_TMP)):
        if _exists(scratch):
            fileops.unlink(scratch)
    fileops.remove_tree(journal.work)
    _remove_if_empty(journal_file.parent)
    return report


def recover_interrupted(root: Path) -> None:
    """Undo what a killed run left; raise :class:`Recovered` saying what it was.

    Call it while holding the lock (:func:`exclusive`): the work folder is
    then a dead run's, and so is a lock file that held a process id. Ctrl-C
    and SIGTERM wait until the recovery is done, and are dropped if it found
    anything (the run stops then anyway).
    """
    folder = root / WORK_DIR
    path = folder / JOURNAL
    journal = Journal.load(path) if path.exists() else None
    held_lock = _run.lock
    with deferred() as signals:
        lines = _undo(journal, path) if journal else []
        if folder.is_dir():
            entries = sorted(folder.iterdir())
            for entry in entries:
                fileops.remove_tree(entry)
            fileops.rmdir(folder)
            lines += [f"removed {entry}" for entry in entries or [folder]]
        if held_lock is not None and held_lock.stale:
            lines.append(
                f"took over the lock {held_lock.path} of {held_lock.stale}, "
                "which is no longer running"
            )
        if not lines and journal is None:
            return
        signals.deliver = False
    if journal is not None:
        message = (
            f"A previous run of {journal.command} was interrupted; every file it "
            "had moved has been restored (listed above). Run the command again."
        )
    else:
        message = (
            "A previous run was interrupted before it moved any file, or after it "
            "had finished: no migration file needed restoring, and what it left "
            "(listed above) was removed. Run the command again."
        )
    raise Recovered(message, lines)


@contextmanager
def exclusive(
    root: Path, command: str, *, done: str, read_only: bool = False
) -> Iterator[None]:
    """Run the block as the only run in this project, and end it cleanly.

    While the block runs, the project's lock is held (another run is refused
    with :class:`~django_remake.errors.Busy`), and SIGTERM unwinds like
    Ctrl-C. A Ctrl-C or SIGTERM that escapes the block becomes one
    :class:`~django_remake.errors.Stopped` whose message says what the run
    left: nothing, every file restored, or (after a commit) ``done``. A write
    left open by any other failure is rolled back. ``read_only`` (a dry run)
    goes without the lock where the project cannot be written to.
    """
    _run.open, _run.committed = None, False
    with sigterm_unwinds():
        # Taking the lock is a few file operations; half a lock is worse than
        # a Ctrl-C that waits for them, inside the block that cleans up.
        with deferred(deliver=False) as signals:
            held = _run.lock = lock.acquire(root, command, optional=read_only)
        try:
            if signals.signals:
                raise as_exception(signals.signals[0])
            yield
        except (KeyboardInterrupt, Interrupted) as exc:
            raise _stopped(exc, done) from exc
        except BaseException:
            if _run.open is not None:
                _run.open.rollback()
            raise
        finally:
            held.release()
            _run.lock = None


def _stopped(exc: BaseException, done: str) -> Stopped:
    cause = reason(exc)
    cause = cause[0].upper() + cause[1:]
    if _run.open is not None:
        _run.open.rollback()
        return Stopped(
            f"{cause}; every file was restored and the project is as it was."
        )
    if _run.committed:
        return Stopped(f"{cause} after {done}.")
    return Stopped(f"{cause} before anything was written; nothing was changed.")


@dataclass(frozen=True)
class NewFile:
    """A file a write puts in place: its path, its bytes, and whether the
    project's formatters (:mod:`django_remake.formatting`) should see it first."""

    path: Path
    data: bytes
    format: bool = False


def apply(
    root: Path,
    files: Sequence[RenderedFile],
    delete: Sequence[Path],
    *,
    format_files: bool = True,
) -> Transaction:
    """Put ``files`` in place of ``delete``; return the transaction to commit or undo."""
    return write_files(
        root,
        [
            NewFile(r.path, r.text.encode("utf-8"), format=format_files and r.format)
            for r in files
        ],
        delete,
        command="remakemigrations",
    )


def write_files(
    root: Path,
    files: Sequence[NewFile],
    delete: Sequence[Path],
    *,
    command: str,
) -> Transaction:
    """Put ``files`` in place of ``delete`` as one transaction.

    A path may be in both: the file is rewritten, and keeps its mode. Every
    new file must compile, after the formatters where it asks for them.
    """
    for new in files:
        if new.path.exists() and new.path not in delete:
            raise ApplyError(f"{new.path} already exists; it will not be overwritten.")
    run = uuid.uuid4().hex[:12]
    folder = root / WORK_DIR
    work = folder / run
    folders = sorted({new.path.parent for new in files} | {p.parent for p in delete})
    journal = Journal(
        command=command,
        work=work,
        created=tuple(new.path for new in files),
        moved=tuple(
            (path, work / "old" / f"{index:05d}_{path.name}")
            for index, path in enumerate(delete)
        ),
        probes=tuple(f / f"{PROBE}{run}" for f in folders),
    )
    transaction = Transaction(journal_path(root), journal)
    _run.open = transaction
    try:
        # The journal comes first, so that a run killed at any later instant
        # leaves nothing behind that the next run does not find.
        if not folder.is_dir():
            fileops.mkdir(folder)  # a dry run of a read-only project holds no lock
        fileops.mkdir(work)
        fileops.write(folder / JOURNAL_TMP, journal.dump())
        fileops.replace(folder / JOURNAL_TMP, transaction.journal_path)
        fileops.sync_folder(folder)
        fault_point("journal")
        _check_writable(journal.probes)
        fileops.mkdir(work / "new")
        fileops.mkdir(work / "old")
        staged = _stage(files, work / "new")
        fault_point("staged")
        moves = 0
        for original, backup in journal.moved:
            fileops.move(original, backup)
            moves += 1
            fault_point(f"move:{moves}")
        for source, path in zip(staged, journal.created, strict=True):
            fileops.move(source, path)
            moves += 1
            fault_point(f"move:{moves}")
    except BaseException:
        transaction.rollback()
        raise
    return transaction


def _check_writable(probes: Sequence[Path]) -> None:
    """Try a real write in each folder: permissions, read-only mounts and
    immutable flags all show up, even for root."""
    for probe in probes:
        try:
            fileops.write(probe, b"", exclusive=True)
        except OSError as exc:
            folder = probe.parent
            raise ApplyError(
                f"The folder {folder} is not writable ({exc.strerror}). Fix its "
                f"permissions (for example `chmod u+w {folder}`) and run the command again."
            ) from exc
        fileops.unlink(probe)


def _stage(files: Sequence[NewFile], folder: Path) -> list[Path]:
    staged = []
    for index, new in enumerate(files):
        subfolder = folder / f"{index:05d}"
        fileops.mkdir(subfolder)
        path = subfolder / new.path.name
        fileops.write(path, new.data)
        if new.path.exists():  # rewritten in place: keep its mode
            fileops.chmod(path, stat.S_IMODE(new.path.stat().st_mode))
        staged.append(path)
    # Formatters rewrite the files in the work folder, which recovery
    # removes whole: they need not go through fileops.
    formatting.format_staged(
        [
            (path, new.path)
            for path, new in zip(staged, files, strict=True)
            if new.format
        ]
    )
    for path in staged:
        if path.suffix != ".py":
            continue  # max_migration.txt
        try:
            compile(path.read_bytes(), str(path), "exec")
        except (SyntaxError, ValueError) as exc:
            raise ApplyError(
                f"A generated migration does not compile after formatting "
                f"({path.name}): {exc}. Nothing was changed; check the formatter "
                "(black, as Django runs it on new migrations, or ruff)."
            ) from exc
    return staged
