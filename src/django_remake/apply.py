"""Apply: the only step that writes, and the way back.

The new files are written to a work folder first (formatted and compiled
there), a journal naming every move is written and flushed, then the old files
are moved into the work folder and the new ones into place. Until
:meth:`Transaction.commit`, :meth:`Transaction.rollback` puts every file back
exactly (``os.replace`` keeps content, name and mode), and a journal left by a
killed run lets the next run do the same.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from django.core.management.utils import run_formatters

from .errors import ApplyError
from .writer import RenderedFile

WORK_DIR = ".django-remake"
JOURNAL = "journal.json"
#: Test hook: "<point>:<action>" makes the run fail at that point (see fault_point).
FAULT_VARIABLE = "DJANGO_REMAKE_FAULT"


def fault_point(name: str) -> None:
    """Fail here if ``DJANGO_REMAKE_FAULT`` names this point.

    The fault-injection tests use it to stop a real run at each stage: the
    action ``raise`` raises an error, ``sigterm`` and ``sigkill`` send the
    signal to this process. Points: ``staged``, ``journal``, ``move:N`` (after
    the N-th file move) and ``verify``.
    """
    wanted = os.environ.get(FAULT_VARIABLE, "")
    point, _, action = wanted.rpartition(":")
    if point != name:
        return
    if action == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    if action == "sigterm":
        os.kill(os.getpid(), signal.SIGTERM)
    raise RuntimeError(f"injected fault at {name}")


@contextmanager
def sigterm_unwinds(exception: type[BaseException]) -> Iterator[None]:
    """While the block runs, SIGTERM raises ``exception`` (as Ctrl-C raises
    KeyboardInterrupt), so that a terminated run still rolls back."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise exception(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass
class Transaction:
    """A set of file moves that can still be undone."""

    work: Path
    journal: Path
    created: list[Path] = field(default_factory=list)
    moved: list[tuple[Path, Path]] = field(default_factory=list)  # (original, backup)

    def commit(self) -> None:
        """Forget the way back: drop the backups and the journal."""
        self.journal.unlink(missing_ok=True)
        shutil.rmtree(self.work, ignore_errors=True)
        _remove_if_empty(self.journal.parent)

    def rollback(self) -> list[str]:
        """Undo every move; return one line per restored or removed file."""
        return _undo(self.created, self.moved, self.work, self.journal)


def journal_path(root: Path) -> Path:
    return root / WORK_DIR / JOURNAL


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()


def _move(source: Path, target: Path) -> None:
    try:
        os.replace(source, target)
    except OSError:
        # Another file system (MIGRATION_MODULES may point anywhere): copy, then delete.
        shutil.copy2(source, target)
        source.unlink()


def _undo(
    created: Sequence[Path],
    moved: Sequence[tuple[Path, Path]],
    work: Path,
    journal: Path,
) -> list[str]:
    report = []
    for path in created:
        if path.exists():
            path.unlink()
            report.append(f"removed {path}")
    for original, backup in moved:
        if backup.exists():
            if original.exists():
                backup.unlink()  # the move never finished; the original is intact
            else:
                _move(backup, original)
                report.append(f"restored {original}")
    journal.unlink(missing_ok=True)
    shutil.rmtree(work, ignore_errors=True)
    _remove_if_empty(journal.parent)
    return report


def recover(root: Path) -> list[str] | None:
    """Roll back a run that died mid-apply; ``None`` when there was nothing to do."""
    journal = journal_path(root)
    if not journal.exists():
        # A run killed before it wrote its journal had moved nothing yet.
        leftovers = [p for p in (root / WORK_DIR).glob("*") if p.is_dir()]
        for folder in leftovers:
            shutil.rmtree(folder, ignore_errors=True)
        _remove_if_empty(root / WORK_DIR)
        if not leftovers:
            return None
        return [f"removed the unfinished work folder {p}" for p in leftovers]
    try:
        data = json.loads(journal.read_text())
        created = [Path(p) for p in data["created"]]
        moved = [(Path(a), Path(b)) for a, b in data["moved"]]
        work = Path(data["work"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ApplyError(
            f"The journal {journal} of an interrupted run is unreadable ({exc}). "
            f"Restore the migration files from version control, then delete {journal.parent}."
        ) from exc
    return _undo(created, moved, work, journal)


def check_writable(folders: Sequence[Path]) -> None:
    """Try a real write in each folder: permissions, read-only mounts and
    immutable flags all show up, even for root."""
    for folder in sorted(set(folders)):
        try:
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".remake-probe-"):
                pass
        except OSError as exc:
            raise ApplyError(
                f"The folder {folder} is not writable ({exc.strerror}). Fix its "
                f"permissions (for example `chmod u+w {folder}`) and run the command again."
            ) from exc


def apply(
    root: Path,
    files: Sequence[RenderedFile],
    delete: Sequence[Path],
    *,
    format_files: bool = True,
) -> Transaction:
    """Put ``files`` in place of ``delete``; return the transaction to commit or undo."""
    check_writable([root] + [f.path.parent for f in files] + [p.parent for p in delete])
    for rendered in files:
        if rendered.path.exists() and rendered.path not in delete:
            raise ApplyError(
                f"{rendered.path} already exists; it will not be overwritten."
            )
    run = uuid.uuid4().hex[:12]
    work = root / WORK_DIR / run
    transaction = Transaction(work=work, journal=journal_path(root))
    plan_created = [rendered.path for rendered in files]
    plan_moved = [
        (path, work / "old" / f"{index:05d}_{path.name}")
        for index, path in enumerate(delete)
    ]
    try:
        # The journal comes first, so that even a run killed while formatting
        # leaves nothing behind that the next run does not clean up.
        work.mkdir(parents=True)
        _write_journal(transaction.journal, work, plan_created, plan_moved)
        fault_point("journal")
        (work / "new").mkdir()
        (work / "old").mkdir()
        staged = _stage(files, work / "new", format_files)
        fault_point("staged")
        moves = 0
        for original, backup in plan_moved:
            transaction.moved.append((original, backup))
            _move(original, backup)
            moves += 1
            fault_point(f"move:{moves}")
        for source, rendered in zip(staged, files, strict=True):
            transaction.created.append(rendered.path)
            _move(source, rendered.path)
            moves += 1
            fault_point(f"move:{moves}")
    except BaseException:
        transaction.rollback()
        raise
    return transaction


def _stage(
    files: Sequence[RenderedFile], folder: Path, format_files: bool
) -> list[Path]:
    staged = []
    for index, rendered in enumerate(files):
        subfolder = folder / f"{index:05d}"
        subfolder.mkdir()
        path = subfolder / rendered.path.name
        path.write_text(rendered.text, encoding="utf-8")
        staged.append(path)
    to_format = [
        str(path)
        for path, rendered in zip(staged, files, strict=True)
        if rendered.format
    ]
    if format_files and to_format:
        run_formatters(to_format)
    for path in staged:
        try:
            compile(path.read_text(encoding="utf-8"), str(path), "exec")
        except (SyntaxError, ValueError) as exc:
            raise ApplyError(
                f"A generated migration does not compile after formatting "
                f"({path.name}): {exc}. Nothing was changed; check the formatter "
                "(black) that Django runs on new migrations."
            ) from exc
    return staged


def _write_journal(
    journal: Path,
    work: Path,
    created: Sequence[Path],
    moved: Sequence[tuple[Path, Path]],
) -> None:
    data = {
        "work": str(work),
        "created": [str(p) for p in created],
        "moved": [[str(a), str(b)] for a, b in moved],
    }
    tmp = journal.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, journal)
