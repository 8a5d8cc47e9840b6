"""A run stopped at any instant leaves a project that is whole.

The invariant, for ``remakemigrations`` and ``delete_remaked_migrations``:
after "stop the run at some instant, then run the command again", every file
and folder of the project is byte for byte as it was before the run, or
exactly as an uninterrupted run leaves it. Nothing in between, and nothing
extra: no journal, work folder, temporary file, probe or lock.

The instants are the file operations of a run: every change either command
makes goes through ``django_remake.fileops``, and
``DJANGO_REMAKE_FAULT=op:N:<action>`` stops the run just before its N-th
one (a write counts twice: a kill between the two leaves an empty file).

- ``sigkill``: the run dies on the spot. The next run must find what it left,
  put it right, say what it restored and removed, and stop; or, if the kill
  came before anything was written, simply do the job.
- ``sigterm``, ``sigint`` and ``sigint2`` (a second Ctrl-C at the next
  instant, so mostly inside the rollback): the run itself must leave one of
  the two states, and say which in one line, without a traceback.

How many instants: ``REMAKE_CRASH_INSTANTS=all`` tries every file operation;
a number N (default 3) tries the write of the journal (where a kill once left
``journal.tmp`` behind for good) and N more drawn with a seeded generator
(``REMAKE_CRASH_SEED``, default 0), so that CI stays fast and a failure can be
replayed. ``REMAKE_CRASH_REPORT=<file>`` appends one JSON line per test with
what the instants found. Everything here is about files, not databases: it
runs on SQLite only.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from . import runs
from .harness import Project
from .test_cleanup import build_project, write_old_files

SIGNALS = ["sigkill", "sigterm", "sigint", "sigint2"]
RESTORED = "every file was restored and the project is as it was."

State = dict[str, str]


def state(project: Project) -> State:
    """Every file and folder under the project (through the symlinked
    migrations folder of the cross-device case), databases excluded.

    The harness writes the project's own folder into its settings; that path
    is blanked, so that projects in different folders compare equal.
    """
    where = str(project.root.parent).encode()
    found: State = {}
    for folder, subfolders, names in os.walk(project.root, followlinks=True):
        subfolders[:] = [name for name in subfolders if name != "__pycache__"]
        base = Path(folder)
        relative = base.relative_to(project.root)
        found[f"{relative}/"] = "folder"
        for name in names:
            path = base / name
            if path.suffix == ".sqlite3" or path.name == "databases.json":
                continue  # the harness names each database at random
            data = path.read_bytes().replace(where, b"<folder>")
            digest = hashlib.sha256(data).hexdigest()
            found[str(relative / name)] = f"{digest}:{oct(path.stat().st_mode)}"
    return found


def difference(found: State, wanted: State) -> str:
    extra = sorted(set(found) - set(wanted))
    missing = sorted(set(wanted) - set(found))
    changed = sorted(k for k in set(found) & set(wanted) if found[k] != wanted[k])
    return f"extra {extra}, missing {missing}, changed {changed}"


@dataclass
class Case:
    """A command on a project, and the two states a run may leave it in."""

    name: str
    args: tuple[str, ...]
    #: makes a fresh project in the given folder
    make: Callable[[Path], Project]
    before: State
    after: State
    #: the file operations of an uninterrupted run
    operations: list[str]


# -- the projects ------------------------------------------------------------


@pytest.fixture(scope="session")
def migrated_shop_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crash_migrated")
    project = Project.from_scenario("shop", root / "shop", "sqlite")
    project.use_databases(default=project.new_database())
    project.manage("migrate")
    return Path(project.databases[0].settings["NAME"])


def remake_project(
    database: Path, other_device: Path | None
) -> Callable[[Path], Project]:
    def make(folder: Path) -> Project:
        project = Project.from_scenario("shop", folder / "shop", "sqlite")
        project.use_databases(default=project.new_database())
        shutil.copyfile(database, project.databases[0].settings["NAME"])
        if other_device is not None:
            # MIGRATION_MODULES may put migrations on another file system;
            # a symlinked folder does the same: every move becomes a copy.
            target = other_device / uuid.uuid4().hex
            shutil.move(project.root / "shop/migrations", target)
            (project.root / "shop/migrations").symlink_to(target)
        return project

    return make


def clean_up_project(folder: Path) -> Project:
    project = build_project(folder, "sqlite")
    write_old_files(project)
    return project


@pytest.fixture(scope="session")
def other_device(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    shm = Path("/dev/shm")
    here = tmp_path_factory.getbasetemp()
    if not shm.is_dir() or shm.stat().st_dev == here.stat().st_dev:
        pytest.skip("no second file system (/dev/shm) to put migrations on")
    folder = shm / f"remake-crash-{uuid.uuid4().hex}"
    folder.mkdir()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def make_case(
    name: str, args: tuple[str, ...], make: Callable[[Path], Project], tmp_path: Path
) -> Case:
    reference = make(tmp_path / "reference")
    before = state(reference)
    trace = tmp_path / "reference.trace"
    operations = runs.operations(reference, trace, *args)
    after = state(reference)
    assert after != before
    return Case(name, args, make, before, after, operations)


REMAKE = ("remakemigrations", "--no-input", "--no-header")
CLEAN_UP = ("delete_remaked_migrations", "--remove-replaced")


@pytest.fixture(scope="session", params=["remake", "remake-across-devices", "clean-up"])
def case(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    migrated_shop_database: Path,
) -> Case:
    """One reference run per case and test session (per xdist worker)."""
    tmp_path = tmp_path_factory.mktemp(f"case_{request.param}")
    if request.param == "clean-up":
        return make_case(request.param, CLEAN_UP, clean_up_project, tmp_path)
    device = (
        request.getfixturevalue("other_device")
        if request.param == "remake-across-devices"
        else None
    )
    make = remake_project(migrated_shop_database, device)
    return make_case(request.param, REMAKE, make, tmp_path)


# -- the instants ------------------------------------------------------------


def instants(operations: list[str], label: str) -> list[int]:
    every = list(range(1, len(operations) + 1))
    wanted = os.environ.get("REMAKE_CRASH_INSTANTS", "3")
    if wanted == "all":
        return every
    journal = [
        index
        for index, line in enumerate(operations, 1)
        if line.split()[1] == "write" and line.endswith("journal.tmp")
    ]
    seed = os.environ.get("REMAKE_CRASH_SEED", "0")
    drawn = random.Random(f"{seed}:{label}").sample(every, min(int(wanted), len(every)))
    return sorted(set(journal + drawn))


def report(
    label: str, tried: list[int], outcomes: Counter[str], failures: list[str]
) -> None:
    target = os.environ.get("REMAKE_CRASH_REPORT")
    if target:
        line = {
            "test": label,
            "instants": len(tried),
            "outcomes": dict(outcomes),
            "failures": len(failures),
        }
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")


def check_recovery(project: Project, again: subprocess.CompletedProcess[str]) -> str:
    """The run after a kill: it recovered (truthfully) and stopped, or did the job."""
    if again.returncode == 0:
        return "next run did the job"
    message = runs.single_error(again)
    assert message.startswith("A previous run"), message
    for line in again.stdout.splitlines():
        verb, _, rest = line.strip().partition(" ")
        if verb == "restored":
            assert Path(rest).exists(), line
        elif verb == "removed":
            assert not os.path.lexists(rest), line
        else:
            assert verb == "took", line
    return "next run recovered"


def check_signalled(result: subprocess.CompletedProcess[str], found: str) -> str:
    """A run stopped by a catchable signal: one true line, no traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    if result.returncode == 0:
        assert found == "after", found
        return "finished anyway"
    message = runs.single_error(result)
    if found == "before":
        assert message.endswith((RESTORED, "nothing was changed.")), message
        return "restored" if message.endswith(RESTORED) else "nothing written"
    assert "; they are in place" in message or "is complete" in message, message
    return "stopped after the commit"


def one_instant(case: Case, folder: Path, action: str, instant: int) -> str:
    project = case.make(folder)
    assert state(project) == case.before
    first = runs.run(project, *case.args, **{runs.FAULT: f"op:{instant}:{action}"})
    if action == "sigkill":
        assert first.returncode == -signal.SIGKILL, first
        outcome = check_recovery(project, runs.run(project, *case.args))
    else:
        found = state(project)
        where = (
            "before" if found == case.before else "after" if found == case.after else ""
        )
        assert where, (
            difference(found, case.before) + " / " + difference(found, case.after)
        )
        outcome = check_signalled(first, where)
    found = state(project)
    where = "before" if found == case.before else "after" if found == case.after else ""
    assert where, difference(found, case.before) + " / " + difference(found, case.after)
    return f"{outcome}, {where}"


@pytest.mark.parametrize("action", SIGNALS)
def test_stopped_at_any_file_operation(case: Case, action: str, tmp_path: Path) -> None:
    label = f"{case.name}:{action}"
    tried = instants(case.operations, label)
    outcomes: Counter[str] = Counter()
    failures = []
    for instant in tried:
        try:
            outcomes[one_instant(case, tmp_path / f"at{instant}", action, instant)] += 1
        except AssertionError as exc:
            failures.append(f"op:{instant} ({case.operations[instant - 1]}): {exc}")
    report(label, tried, outcomes, failures)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", ["remake", "clean-up"])
def test_killed_again_while_recovering(
    name: str, tmp_path: Path, migrated_shop_database: Path
) -> None:
    """A kill during the recovery of a kill: the run after that still recovers."""
    if name == "remake":
        # Every file moved, the journal still there: the longest recovery.
        case = make_case(
            name, REMAKE, remake_project(migrated_shop_database, None), tmp_path
        )
        first_kill = "verify:sigkill"
    else:
        case = make_case(name, CLEAN_UP, clean_up_project, tmp_path)
        first_kill = "move:8:sigkill"
    trace = tmp_path / "recovery.trace"
    probe = case.make(tmp_path / "probe")
    runs.run(probe, *case.args, **{runs.FAULT: first_kill})
    runs.run(probe, *case.args, **{runs.TRACE: str(trace)})
    recovery = trace.read_text().splitlines()
    assert state(probe) == case.before
    label = f"{name}:recovery"
    tried = instants(recovery, label)
    outcomes: Counter[str] = Counter()
    failures = []
    for instant in tried:
        try:
            project = case.make(tmp_path / f"at{instant}")
            killed = runs.run(project, *case.args, **{runs.FAULT: first_kill})
            assert killed.returncode == -signal.SIGKILL, killed
            again = runs.run(
                project, *case.args, **{runs.FAULT: f"op:{instant}:sigkill"}
            )
            assert again.returncode == -signal.SIGKILL, again
            outcome = check_recovery(project, runs.run(project, *case.args))
            found = state(project)
            # The killed recovery may have finished all but its lock: then the
            # next run takes the lock over and does the job.
            wanted = case.after if outcome == "next run did the job" else case.before
            assert found == wanted, difference(found, wanted)
            outcomes[f"{outcome}, {'after' if wanted is case.after else 'before'}"] += 1
        except AssertionError as exc:
            failures.append(f"op:{instant} ({recovery[instant - 1]}): {exc}")
    report(label, tried, outcomes, failures)
    assert not failures, "\n".join(failures)
