"""``remakemigrations`` never leaves a project changed or broken.

Every test runs the real command in a subprocess on a throwaway project and
compares every file of the project (content and mode) before and after:

- refusals: each bad starting point stops the command before it writes, with
  a message that names the problem and the fix;
- faults: ``DJANGO_REMAKE_FAULT`` (see ``django_remake.fileops.fault_point``)
  stops a real run at each stage of the write, with an exception, SIGTERM,
  one or two Ctrl-C, or SIGKILL; the files come back, at once or on the next
  run, and the message says so in one line (``tests/test_crash.py`` does the
  same at every file operation);
- one run at a time: a second run is refused while one holds the lock, and a
  lock left by a killed run does not block the next;
- a formatter that fails or corrupts the files it is given;
- ``--dry-run`` and the confirmation prompt.

Cases that depend on what a database holds run on every enabled backend; the
file-level cases are backend-independent and run on SQLite only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from . import runs
from .conftest import REMAKED
from .harness import Project

FAULT = "DJANGO_REMAKE_FAULT"
WORK_DIR = ".django-remake"
RESTORED = "every file was restored and the project is as it was."
NOT_MIGRATED = (
    "Every database must be fully migrated before a remake, otherwise the "
    "missing schema would be marked as applied and never created.\n"
)
SHOP_TAIL = "shop.0003_seed_items, shop.0004_tags_and_checks, shop.0005_stock_and_index"
INTERRUPTED = (
    "A previous run of remakemigrations was interrupted; every file it had moved "
    "has been restored (listed above). Run the command again."
)

MakeProject = Callable[[str], Project]
#: what a remake prints first: it observes the old history on a new database
BUILD_OLD = "Building the old history on a new database for 'default'...\n"


# -- helpers -------------------------------------------------------------------


def refused(project: Project, *args: str) -> str:
    """Run a remake that must stop; check it changed nothing; return the error."""
    before = project.tree_hashes()
    result = project.manage("remakemigrations", "--no-input", *args, ok=False)
    assert result.returncode == 1, result
    assert project.tree_hashes() == before
    assert not (project.root / WORK_DIR).exists()
    assert "Traceback" not in result.stderr, result.stderr
    return error(result)


def error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.stderr.startswith("CommandError: "), result.stderr
    assert result.stderr.endswith("\n")
    return result.stderr[len("CommandError: ") : -1]


def assert_remade(
    project: Project, folder: str, result: subprocess.CompletedProcess[str]
) -> None:
    """The run finished: only remade files are left, and they compile."""
    assert "Verified: makemigrations finds no changes" in result.stdout, result.stdout
    names = project.migration_files(folder)
    assert names and all(REMAKED.match(name) for name in names), names
    for name in names:
        path = project.root / folder / name
        compile(path.read_text(), str(path), "exec")
    assert not (project.root / WORK_DIR).exists()


def edit(project: Project, relpath: str, old: str, new: str) -> Path:
    path = project.root / relpath
    text = path.read_text()
    assert old in text, (relpath, old)
    path.write_text(text.replace(old, new, 1))
    return path


# -- 1. refusals ---------------------------------------------------------------


def test_refuses_unapplied_migrations(make_project: MakeProject) -> None:
    project = make_project("shop")
    project.manage("migrate")
    project.manage("migrate", "shop", "0002")

    assert refused(project) == (
        NOT_MIGRATED
        + f"  database 'default': 3 unapplied: {SHOP_TAIL}\n"
        + "    fix: python manage.py migrate --database default"
    )


def test_refuses_a_second_alias_that_is_behind(make_project: MakeProject) -> None:
    project = make_project("shop")
    project.use_databases(default=project.databases[0], other=project.new_database())
    project.manage("migrate")
    project.manage("migrate", "--database", "other")
    project.manage("migrate", "--database", "other", "shop", "0002")

    assert refused(project) == (
        NOT_MIGRATED
        + f"  database 'other': 3 unapplied: {SHOP_TAIL}\n"
        + "    fix: python manage.py migrate --database other"
    )


def test_refuses_an_inconsistent_history(make_project: MakeProject) -> None:
    project = make_project("shop")
    project.manage("migrate", "shop", "0002")
    project.python(
        """
        from django.db import connection
        from django.db.migrations.recorder import MigrationRecorder
        MigrationRecorder(connection).record_applied("shop", "0004_tags_and_checks")
        """
    )

    assert refused(project) == (
        "Database 'default' has an inconsistent migration history: Migration "
        "shop.0004_tags_and_checks is applied before its dependency "
        "shop.0003_seed_items on database 'default'. Repair the django_migrations "
        "table of that database first."
    )


# Every state of django_migrations a history can be in: each prefix of one
# order of its migrations (squashes expanded, so squashes partly applied too),
# each prefix with one migration skipped (inconsistent), and the whole history
# with the squashes' own names recorded as well.
PLAN_ON_EVERY_STATE = """
import json
from django.db import connection
from django.db.migrations.exceptions import InconsistentMigrationHistory
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django_remake.partway import plan_on_loaded_graph

def names(plan):
    return [f"{m.app_label}.{m.name}" for m, _backwards in plan]

expanded = MigrationLoader(None, ignore_no_migrations=True, replace_migrations=False)
order = []
for leaf in sorted(expanded.graph.leaf_nodes()):
    for key in expanded.graph.forwards_plan(leaf):
        if key not in order:
            order.append(key)
squashes = [k for k, m in expanded.disk_migrations.items() if m.replaces]
states = [order[:n] for n in range(len(order) + 1)]
states += [order[:n] + order[n + 1 : n + 2] for n in range(len(order) - 1)]
states.append(order + squashes)
loader = MigrationLoader(None, ignore_no_migrations=True)
recorder = MigrationRecorder(connection)
recorder.ensure_schema()
results = []
for state in states:
    recorder.flush()
    for key in state:
        recorder.record_applied(*key)
    executor = MigrationExecutor(connection)
    try:
        executor.loader.check_consistent_history(connection)
        django = names(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    except InconsistentMigrationHistory as exc:
        django = str(exc)
    try:
        fast = plan_on_loaded_graph(loader, connection, set(recorder.applied_migrations()))
        fast = None if fast is None else names(fast)
    except InconsistentMigrationHistory as exc:
        fast = str(exc)
    partly = any(
        0 < sum(tuple(r) in state for r in m.replaces) < len(m.replaces)
        for m in expanded.disk_migrations.values()
    )
    results.append({"state": state, "django": django, "fast": fast, "partly": partly})
print(json.dumps(results))
"""


@pytest.mark.parametrize("history", ["squashed", "shop"])
def test_the_database_check_plans_as_djangos_executor(
    make_project: MakeProject, history: str
) -> None:
    """The refusal of unapplied migrations reuses the graph already loaded
    instead of building one per database; on every state of a history it finds
    what Django's executor finds, or leaves the answer to it."""
    project = make_project(history)
    results = json.loads(project.python(PLAN_ON_EVERY_STATE))
    for result in results:
        # Only a squash partly applied is left to Django's own graph.
        assert (result["fast"] is None) == result["partly"], result["state"]
    answered = [r for r in results if r["fast"] is not None]
    for result in answered:
        assert result["fast"] == result["django"], result["state"]
    assert len(answered) > len(results) / 2
    assert any(isinstance(r["django"], str) for r in answered)  # inconsistent
    assert any(r["django"] == [] for r in answered)  # fully migrated
    assert any(len(r["django"]) > 3 for r in answered)  # fresh


def test_refuses_pending_model_changes(migrated_shop: Project) -> None:
    edit(
        migrated_shop,
        "shop/models.py",
        "    stock = models.PositiveIntegerField(null=True)\n",
        "    stock = models.PositiveIntegerField(null=True)\n"
        '    sku = models.CharField(max_length=20, default="")\n',
    )

    assert refused(migrated_shop) == (
        "The models have changes that no migration holds yet; a remake would bake "
        "them into migrations that databases treat as already applied.\n"
        "  shop: 0006_item_sku\n"
        "    - Add field sku to item\n"
        "Run `python manage.py makemigrations`, then `python manage.py migrate` on "
        "every database, then run the remake again."
    )


def test_refuses_a_migration_with_a_syntax_error(sqlite_project: MakeProject) -> None:
    project = sqlite_project("shop")
    path = edit(
        project,
        "shop/migrations/0003_seed_items.py",
        "def seed(apps, schema_editor):",
        "def seed(apps, schema_editor)",
    )
    with pytest.raises(SyntaxError) as raised:
        compile(path.read_text(), str(path), "exec")
    assert raised.value.lineno == 4

    assert refused(project) == (
        f"A migration file does not parse: {path}, line 4: {raised.value.msg}. "
        "Fix that file, then run the command again."
    )


def test_refuses_a_migration_that_cannot_be_imported(
    sqlite_project: MakeProject,
) -> None:
    project = sqlite_project("shop")
    path = edit(
        project,
        "shop/migrations/0003_seed_items.py",
        "from django.db import migrations\n",
        "from django.db import migrations\nimport remake_no_such_module\n",
    )

    assert refused(project) == (
        f"A migration file cannot be imported ({path}, line 2): ModuleNotFoundError: "
        "No module named 'remake_no_such_module'. Fix that file, then run the "
        "command again."
    )


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("undefined_helper()\n", "NameError: name 'undefined_helper' is not defined"),
        (
            'raise RuntimeError("settings not loaded")\n',
            "RuntimeError: settings not loaded",
        ),
    ],
)
def test_refuses_a_migration_that_raises_at_import(
    sqlite_project: MakeProject, line: str, error: str
) -> None:
    project = sqlite_project("shop")
    path = edit(
        project,
        "shop/migrations/0003_seed_items.py",
        "from django.db import migrations\n",
        "from django.db import migrations\n" + line,
    )

    assert refused(project) == (
        f"A migration file cannot be imported ({path}, line 2): {error}. Fix that "
        "file, then run the command again."
    )


def test_refuses_a_missing_dependency(sqlite_project: MakeProject) -> None:
    project = sqlite_project("shop")
    edit(
        project,
        "shop/migrations/0005_stock_and_index.py",
        "('shop', '0004_tags_and_checks')",
        "('shop', '0004_no_such_migration')",
    )

    message = refused(project)

    assert message == (
        "The migration history does not load: Migration "
        "shop.0005_stock_and_index dependencies reference nonexistent parent node "
        "('shop', '0004_no_such_migration'). Restore the missing migration or fix "
        "the dependency, then run `python manage.py showmigrations` to confirm it "
        "loads."
    )


def test_refuses_a_dependency_cycle(sqlite_project: MakeProject) -> None:
    project = sqlite_project("shop")
    edit(
        project,
        "shop/migrations/0004_tags_and_checks.py",
        "('shop', '0003_seed_items'),",
        "('shop', '0003_seed_items'), ('shop', '0005_stock_and_index'),",
    )

    message = refused(project)

    cycle = re.fullmatch(
        r"The migration history has a dependency cycle: (.*)\. Break the cycle in "
        r"the migration files, then run `python manage.py showmigrations` to "
        r"confirm it loads\.",
        message,
    )
    assert cycle, message
    assert set(cycle.group(1).split(", ")) == {
        "shop.0004_tags_and_checks",
        "shop.0005_stock_and_index",
    }


def test_refuses_an_unwritable_migrations_folder(migrated_shop: Project) -> None:
    folder = (migrated_shop.root / "shop/migrations").resolve()
    before = migrated_shop.tree_hashes()
    with read_only(folder):
        result = migrated_shop.manage("remakemigrations", "--no-input", ok=False)
    assert migrated_shop.tree_hashes() == before
    assert not (migrated_shop.root / WORK_DIR).exists()
    strerror = "Operation not permitted" if os.geteuid() == 0 else "Permission denied"
    assert error(result) == (
        f"The folder {folder} is not writable ({strerror}). Fix its permissions "
        f"(for example `chmod u+w {folder}`) and run the command again."
    )


def test_a_read_only_project_is_refused_but_can_be_dry_run(
    migrated_shop: Project,
) -> None:
    """The lock lives in the project folder; a dry run does without it there."""
    root = migrated_shop.root.resolve()
    before = migrated_shop.tree_hashes()
    with read_only(root):
        refused = migrated_shop.manage("remakemigrations", "--no-input", ok=False)
        dry_run = migrated_shop.manage("remakemigrations", "--dry-run")
    assert migrated_shop.tree_hashes() == before
    strerror = "Operation not permitted" if os.geteuid() == 0 else "Permission denied"
    assert error(refused) == (
        f"The folder {root} is not writable ({strerror}). Fix its permissions "
        f"(for example `chmod u+w {root}`) and run the command again."
    )
    assert dry_run.stdout.startswith(BUILD_OLD + "Planned migrations:\n"), (
        dry_run.stdout
    )
    assert dry_run.stdout.endswith("Old migration files to delete: 5\n")


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make a folder unwritable, even for root (``chattr +i``), until exit."""
    if os.geteuid() != 0:
        mode = folder.stat().st_mode
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(mode)
        return
    done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
    if "Operation not supported" in done.stderr:
        pytest.skip(f"chattr +i is not supported here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def unreachable_database(project: Project) -> None:
    """Point ``default`` at an SQLite file that cannot be opened."""
    name = str(project.root / "no" / "such" / "folder" / "db.sqlite3")
    config = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": name}}
    (project.root / "databases.json").write_text(json.dumps(config))


def test_refuses_an_unreachable_database(sqlite_project: MakeProject) -> None:
    project = sqlite_project("shop")
    unreachable_database(project)

    message = refused(project)

    assert message.startswith("Database 'default' cannot be reached: ")
    assert message.endswith(
        "Make it reachable, or run with --skip-db-check if this machine cannot see "
        "your databases (then make sure yourself that every database is fully "
        "migrated)."
    )


def test_skip_db_check_warns_and_proceeds(sqlite_project: MakeProject) -> None:
    """Without any reachable database, the remake runs and says so loudly."""
    project = sqlite_project("shop")
    unreachable_database(project)

    result = project.manage("remakemigrations", "--no-input", "--skip-db-check")

    assert result.stderr == (
        "--skip-db-check: the databases were NOT checked. Any database that is not "
        "fully migrated will silently miss schema after the remake.\n"
        "Nothing was observed or will be proven (--skip-db-check: no database was "
        "used): every operation the models cannot re-create is carried, unless "
        "elidable.\n"
    )
    assert result.stdout.endswith(
        "Remade 1 app: 5 migrations with 9 operations -> 1 migration with 3 "
        "operations. Verified: makemigrations finds no changes.\n"
    )
    assert_remade(project, "shop/migrations", result)


def test_refuses_an_unreadable_journal(sqlite_project: MakeProject) -> None:
    project = sqlite_project("shop")
    journal = project.write(f"{WORK_DIR}/journal.json", "{not json")
    before = project.tree_hashes()

    result = project.manage("remakemigrations", "--no-input", ok=False)

    assert project.tree_hashes() == before
    message = error(result)
    assert message.startswith(
        f"The journal {journal.resolve()} of an interrupted run is unreadable ("
    )
    assert message.endswith(
        "Restore the migration files from version control, then delete "
        f"{journal.parent.resolve()}."
    )


# -- 2. faults while writing ---------------------------------------------------


POINTS = ["journal", "staged", "move:1", "move:6", "verify"]  # shop: 6 moves
ACTIONS = ["raise", "sigterm", "sigint", "sigint2"]


def stopped_message(point: str, action: str) -> str:
    """What a run stopped at ``point`` by ``action`` must say."""
    cause = {
        "raise": f"RuntimeError: injected fault at {point}",
        "sigterm": "terminated by signal 15",
        "sigint": "interrupted",
        # The second Ctrl-C lands in the rollback, which finishes first.
        "sigint2": "interrupted",
    }[action]
    stage = "Verification" if point == "verify" else "Writing the new migrations"
    return f"{stage} stopped ({cause}); {RESTORED}"


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("point", POINTS)
def test_fault_restores_every_file(
    migrated_shop: Project, monkeypatch: pytest.MonkeyPatch, point: str, action: str
) -> None:
    # Modes come back too: give one old file an unusual one.
    (migrated_shop.root / "shop/migrations/0002_item_price.py").chmod(0o600)
    monkeypatch.setenv(FAULT, f"{point}:{action}")
    result = refusal_with_plan(migrated_shop)
    assert error(result) == stopped_message(point, action)
    assert "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("sigint", "Interrupted before anything was written; nothing was changed."),
        ("sigint2", "Interrupted before anything was written; nothing was changed."),
        (
            "sigterm",
            "Terminated by signal 15 before anything was written; nothing was changed.",
        ),
    ],
)
def test_ctrl_c_while_planning_is_one_line(
    migrated_shop: Project, monkeypatch: pytest.MonkeyPatch, action: str, message: str
) -> None:
    before = migrated_shop.tree_hashes()
    monkeypatch.setenv(FAULT, f"plan:{action}")

    result = migrated_shop.manage("remakemigrations", "--no-input", ok=False)

    assert result.returncode == 1
    assert result.stdout == BUILD_OLD
    assert result.stderr == f"CommandError: {message}\n"
    assert migrated_shop.tree_hashes() == before
    assert not (migrated_shop.root / WORK_DIR).exists()


def refusal_with_plan(project: Project) -> subprocess.CompletedProcess[str]:
    """A run that stops after printing its plan; nothing may have changed."""
    before = project.tree_hashes()
    result = project.manage("remakemigrations", "--no-input", ok=False)
    assert result.returncode == 1, result
    assert result.stdout.startswith(BUILD_OLD + "Planned migrations:\n"), result.stdout
    assert "Verified" not in result.stdout
    assert project.tree_hashes() == before
    assert not (project.root / WORK_DIR).exists()
    return result


@pytest.mark.parametrize(
    ("scenario", "point", "folder"),
    [
        ("shop", "staged", "shop/migrations"),
        ("shop", "journal", "shop/migrations"),
        ("shop", "move:3", "shop/migrations"),
        ("shop", "verify", "shop/migrations"),  # every file in place
        # crossapp: 8 old files out, then 2 of its 5 new ones in
        ("crossapp", "move:10", "orders/migrations"),
    ],
)
def test_sigkill_is_rolled_back_by_the_next_run(
    migrated: MakeProject,
    monkeypatch: pytest.MonkeyPatch,
    scenario: str,
    point: str,
    folder: str,
) -> None:
    project = migrated(scenario)
    before = project.tree_hashes()
    root = project.root.resolve()

    monkeypatch.setenv(FAULT, f"{point}:sigkill")
    killed = project.manage("remakemigrations", "--no-input", ok=False)
    assert killed.returncode == -signal.SIGKILL
    assert (project.root / WORK_DIR / "journal.json").is_file()
    midway = project.tree_hashes()
    outside = {path for path in midway if not path.startswith(WORK_DIR)}
    moved_out = sorted(set(before) - outside)
    moved_in = sorted(outside - set(before))
    if point.startswith("move:"):
        assert len(moved_out) + len(moved_in) == int(point.split(":")[1])
    monkeypatch.delenv(FAULT)

    recovered = project.manage("remakemigrations", "--no-input", ok=False)

    assert recovered.returncode == 1
    assert error(recovered) == INTERRUPTED
    *files, lock = recovered.stdout.splitlines()
    assert sorted(files) == sorted(
        [f"  removed {root / path}" for path in moved_in]
        + [f"  restored {root / path}" for path in moved_out]
    )
    assert re.fullmatch(
        rf"  took over the lock {re.escape(str(root))}/\.django-remake\.lock of "
        r"remakemigrations "
        r"\(process \d+\), which is no longer running",
        lock,
    ), lock
    assert project.tree_hashes() == before
    assert not (project.root / WORK_DIR).exists()

    assert_remade(project, folder, project.manage("remakemigrations", "--no-input"))


# -- 3. one run at a time ---------------------------------------------------------


def test_a_second_run_is_refused_while_one_is_writing(migrated_shop: Project) -> None:
    """Without the lock, the second run would take the first one's journal for
    a crashed run's and roll it back under its feet."""
    before = migrated_shop.tree_hashes()
    first = runs.start_paused(migrated_shop, "move:3", "remakemigrations", "--no-input")
    midway = migrated_shop.tree_hashes()
    assert midway != before
    lock = (migrated_shop.root / ".django-remake.lock").resolve()
    busy = (
        f"Another run of remakemigrations (process {first.pid}) is changing the "
        f"migrations of this project ({lock} is locked). Wait for it to finish, "
        "then run the command again."
    )

    for args in (("remakemigrations", "--no-input"), ("delete_remaked_migrations",)):
        second = runs.run(migrated_shop, *args)
        assert runs.single_error(second) == busy
        assert second.stdout == ""
        assert migrated_shop.tree_hashes() == midway

    assert_remade(migrated_shop, "shop/migrations", runs.resume(first))


def test_a_lock_left_by_a_killed_run_is_taken_over(
    migrated_shop: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel dropped the dead run's flock; its file says who it was."""
    before = migrated_shop.tree_hashes()
    monkeypatch.setenv(FAULT, "plan:sigkill")
    killed = migrated_shop.manage("remakemigrations", "--no-input", ok=False)
    assert killed.returncode == -signal.SIGKILL
    lock = migrated_shop.root.resolve() / ".django-remake.lock"
    pid, command = lock.read_text().split()
    assert command == "remakemigrations"
    assert set(migrated_shop.tree_hashes()) - set(before) == {lock.name}
    monkeypatch.delenv(FAULT)

    recovered = migrated_shop.manage("remakemigrations", "--no-input", ok=False)

    assert error(recovered) == (
        "A previous run was interrupted before it moved any file, or after it had "
        "finished: no migration file needed restoring, and what it left (listed "
        "above) was removed. Run the command again."
    )
    assert recovered.stdout == (
        f"  took over the lock {lock} of remakemigrations (process {pid}), which "
        "is no longer running\n"
    )
    assert migrated_shop.tree_hashes() == before
    assert_remade(
        migrated_shop,
        "shop/migrations",
        migrated_shop.manage("remakemigrations", "--no-input"),
    )


# -- 4. a formatter that fails -------------------------------------------------


def fake_black(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    """Put an executable called ``black`` first on PATH, where Django finds it."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    black = bindir / "black"
    black.write_text(f"#!/bin/sh\n{body}\n")
    black.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    assert shutil.which("black") == str(black)


def test_a_failing_formatter_is_ignored(
    migrated_shop: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_black(tmp_path, monkeypatch, "echo 'black: internal error' >&2\nexit 1")

    result = migrated_shop.manage("remakemigrations", "--no-input")

    assert_remade(migrated_shop, "shop/migrations", result)


def test_a_corrupting_formatter_changes_nothing(
    migrated_shop: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Django calls `black --fast -- FILE...`; overwrite every file with garbage.
    fake_black(
        tmp_path,
        monkeypatch,
        'for f in "$@"; do case "$f" in -*) ;; *) echo "class (" > "$f";; esac; done',
    )

    message = error(refusal_with_plan(migrated_shop))

    assert re.fullmatch(
        r"A generated migration does not compile after formatting "
        r"\(0001_remaked_\d{8}\.py\): .+",
        message,
    ), message


# -- 5. --dry-run ----------------------------------------------------------------


def test_dry_run_writes_nothing(make_project: MakeProject) -> None:
    project = make_project("shop")
    project.manage("migrate")
    before = project.tree_hashes()

    out = project.manage("remakemigrations", "--dry-run").stdout

    assert project.tree_hashes() == before
    assert not (project.root / WORK_DIR).exists()
    date = re.search(r"shop\.0001_remaked_(\d{8}):", out)
    assert date, out
    assert out == (
        BUILD_OLD + "Planned migrations:\n"
        "  shop: 5 migrations -> 1\n"
        "Old operations the models cannot re-create (1 operation): 1 carried.\n"
        "  shop.0003_seed_items #1 RunPython (seed): carried into "
        f"shop.0001_remaked_{date.group(1)}: changed 1 row of 'shop_item'\n"
        "Old migration files to delete: 5\n"
    )
    # -v 2: one line per new migration, and every file to delete.
    detailed = project.manage("remakemigrations", "--dry-run", "-v", "2").stdout
    assert (
        "  shop: 5 migrations -> 1\n"
        f"    shop/migrations/0001_remaked_{date.group(1)}.py: replaces 5 of 'shop'\n"
        "Old operations"
    ) in detailed, detailed
    assert "    - " not in detailed  # operations only at -v 3


def test_dry_run_verbosity_3_prints_the_files(migrated_shop: Project) -> None:
    before = migrated_shop.tree_hashes()

    out = migrated_shop.manage("remakemigrations", "--dry-run", "-v", "3").stdout

    assert migrated_shop.tree_hashes() == before
    assert not (migrated_shop.root / WORK_DIR).exists()
    heading = re.search(r"^--- (.*/shop/migrations/0001_remaked_\d{8}\.py)$", out, re.M)
    assert heading, out
    assert not Path(heading.group(1)).exists()
    text = out[heading.end() :]
    assert "class Migration(migrations.Migration):" in text
    assert "    initial = True\n" in text
    assert "    replaces = [" in text
    for name in ("0001_initial", "0002_item_price", "0003_seed_items"):
        assert f"('shop', '{name}')" in text


# -- 6. confirmation -------------------------------------------------------------


def test_no_terminal_no_question(migrated_shop: Project) -> None:
    """Without a terminal on stdin (CI, pipes) the command does not ask."""
    result = migrated_shop.manage("remakemigrations", stdin="n\n")

    assert "Continue?" not in result.stdout
    assert_remade(migrated_shop, "shop/migrations", result)


def in_terminal(project: Project, answer: str) -> subprocess.CompletedProcess[str]:
    """Run the command on a terminal, typing ``answer``; ``stdout`` is the screen."""
    result = runs.in_terminal(
        project, "remakemigrations", "--no-color", answer=answer, prompt="[y/N] "
    )
    result.stdout = runs.screen(result.stdout)
    return result


PROMPT = "This will delete 5 files and write 1 new migration. Continue? [y/N] "


@pytest.mark.parametrize("answer", ["n\n", "\n"])
def test_terminal_answer_no_changes_nothing(
    migrated_shop: Project, answer: str
) -> None:
    before = migrated_shop.tree_hashes()

    result = in_terminal(migrated_shop, answer)

    assert result.returncode == 0, result
    assert re.match(
        r"Building the old history on a new database for 'default'\.\.\. "
        r"19/19 migrations, done \(\d+\.\ds\)\nPlanned migrations:\n",
        result.stdout,
    ), result.stdout
    assert result.stdout.endswith(
        f"Old migration files to delete: 5\n{PROMPT}{answer}Nothing was changed.\n"
    ), result.stdout
    assert migrated_shop.tree_hashes() == before
    assert not (migrated_shop.root / WORK_DIR).exists()


def test_terminal_end_of_input_changes_nothing(migrated_shop: Project) -> None:
    """Ctrl-D at the prompt means no, like an empty answer."""
    before = migrated_shop.tree_hashes()

    result = in_terminal(migrated_shop, "\x04")  # Ctrl-D

    assert migrated_shop.tree_hashes() == before
    assert not (migrated_shop.root / WORK_DIR).exists()
    # The answer line ends as the terminal showed it, then the default applies.
    assert result.stdout.endswith(f"{PROMPT}\nNothing was changed.\n"), result.stdout
    assert result.returncode == 0, result


def test_terminal_answer_yes_remakes(migrated_shop: Project) -> None:
    result = in_terminal(migrated_shop, "y\n")

    assert result.returncode == 0, result
    assert PROMPT in result.stdout
    assert_remade(migrated_shop, "shop/migrations", result)
