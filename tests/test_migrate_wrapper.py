"""django-remake's ``migrate`` and its system check, held against Django's own.

Installing the app must change ``migrate`` in one case only: a plain
``migrate`` on a database that is part-way through the history the remade
migrations replace, with the old files on disk. Everywhere else the command
must do exactly what Django's does, which these tests check by running the same
command twice, on two databases in the same state: once as installed, once with
``settings_django`` (the same settings without ``django_remake``), and
comparing the exit code, the output, the recorded rows and the schema.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .harness import Database, Project, new_migration_names

DJANGO_ONLY = ("--settings", "settings_django")

SETTINGS_DJANGO = """\
from settings import *  # noqa: F403

INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "django_remake"]  # noqa: F405
"""

# What the part-way databases of ``crossapp`` have applied besides the
# third-party apps. ``orders 0002`` leaves every remade migration either wholly
# applied or untouched, so Django's own ``migrate`` accepts it (and would run
# the untouched remade migrations on top of the old schema); ``catalog 0003``
# leaves one old migration to apply.
ORDERS_0002 = ("orders", "0002_promotion")
CATALOG_0003 = ("catalog", "0003_more_fields")
CROSSAPP = {"accounts": "accounts", "catalog": "catalog", "orders": "orders"}

BUILD = """
from django.core.management import call_command
for alias, target in TARGETS.items():
    if target is None:
        call_command("migrate", database=alias, verbosity=0)
    else:
        for app in ("admin", "sessions"):
            call_command("migrate", app, database=alias, verbosity=0)
        call_command("migrate", *target, database=alias, verbosity=0)
"""

SNAPSHOT = """
import json
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder
from django_remake.schema import read_schema
result = {}
for alias in connections:
    recorder = MigrationRecorder(connections[alias])
    rows = sorted(recorder.applied_migrations()) if recorder.has_table() else []
    result[alias] = {"rows": rows, "schema": repr(read_schema(connections[alias]))}
print(json.dumps(result))
"""


@dataclass(frozen=True)
class Outcome:
    """What a user sees of one command: exit code, output, last error line."""

    code: int
    out: str
    error: str


def outcome(result: subprocess.CompletedProcess[str]) -> Outcome:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    # --run-syncdb lists the installed apps without migrations; the one
    # difference of INSTALLED_APPS between the two settings is not behaviour.
    out = re.sub(
        r"(?m)^(  Synchronize unmigrated apps: .*)django_remake, ", r"\1", result.stdout
    )
    # MariaDB names the database in its errors; each side has its own.
    error = re.sub(r"\bremake_[0-9a-f]{12}\b", "<database>", lines[-1] if lines else "")
    return Outcome(result.returncode, out, error)


def manage(project: Project, *args: str) -> Outcome:
    """Run ``manage.py`` as the harness does; a failure is an outcome to compare."""
    env = {
        **os.environ,
        "PYTHONPATH": str(project.root),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=project.root,
        env=env,
        input="",
        capture_output=True,
        text=True,
        timeout=600,
    )
    return outcome(result)


def snapshot(project: Project) -> dict[str, Any]:
    """Recorded rows and schema of every alias the project points at."""
    return dict(json.loads(project.python(SNAPSHOT)))


def django_only(project: Project) -> None:
    (project.root / "settings_django.py").write_text(SETTINGS_DJANGO)


def crossapp_states(
    make_project: Callable[[str], Project], **targets: tuple[str, str] | None
) -> tuple[Project, dict[str, Database]]:
    """``crossapp`` with one database per target (``None``: fully migrated),
    built on the old history, then remade with the old files kept (the
    default database, fully migrated, is the one the remake checks)."""
    project = make_project("crossapp")
    django_only(project)
    databases = {alias: project.new_database() for alias in targets}
    full = project.databases[0]
    project.use_databases(default=full, **databases)
    project.python(BUILD.replace("TARGETS", repr({"default": None, **targets})))
    project.use_databases(default=full)
    project.manage("remakemigrations", "--no-input", "--keep-old-migrations")
    return project, databases


def remade_keys(project: Project, apps: dict[str, str]) -> list[str]:
    return sorted(
        f"{app}.{name}"
        for app, folder in apps.items()
        for name in new_migration_names(project, f"{folder}/migrations")
    )


# -- 1. options that must be Django's migrate, unchanged -----------------------


def test_check_and_plan_write_nothing_on_a_part_way_database(
    make_project: Callable[[str], Project],
) -> None:
    project, dbs = crossapp_states(make_project, part=ORDERS_0002)
    project.use_databases(default=dbs["part"])
    before = snapshot(project)
    for args in (["--check"], ["--plan"], ["--check", "--plan"], ["--check", "-v0"]):
        django = manage(project, "migrate", *args, *DJANGO_ONLY)
        assert snapshot(project) == before, args
        ours = manage(project, "migrate", *args)
        assert snapshot(project) == before, f"migrate {args} wrote to the database"
        assert ours == django, args
        if "--check" in args:
            assert ours.code != 0, f"migrate {args} exited 0 on a part-way database"


OPTIONS = [
    ("--fake",),
    ("--fake-initial",),
    ("--run-syncdb",),
    ("--prune",),
    ("accounts", "--prune"),
    ("orders",),
    ("catalog", "0003_more_fields"),
    ("catalog", "zero"),
]


def test_other_options_are_djangos_migrate(
    make_project: Callable[[str], Project],
) -> None:
    """Each option on two databases in the same part-way state: the one with
    django-remake ends exactly as the one without."""
    targets = {f"{side}{i}": ORDERS_0002 for i in range(len(OPTIONS)) for side in "ab"}
    project, dbs = crossapp_states(make_project, **targets)
    differences = []
    for i, args in enumerate(OPTIONS):
        project.use_databases(default=dbs[f"a{i}"])
        ours = manage(project, "migrate", "--no-input", *args)
        ours_state = snapshot(project)["default"]
        project.use_databases(default=dbs[f"b{i}"])
        django = manage(project, "migrate", "--no-input", *args, *DJANGO_ONLY)
        django_state = snapshot(project)["default"]
        if ours != django:
            differences.append(f"migrate {args}: {ours} != {django}")
        if ours_state != django_state:
            differences.append(f"migrate {args}: the databases differ afterwards")
    assert differences == []


def test_another_database_leaves_the_part_way_one_alone(
    make_project: Callable[[str], Project],
) -> None:
    project, dbs = crossapp_states(
        make_project, part=ORDERS_0002, full_a=None, full_b=None
    )
    project.use_databases(default=dbs["part"], other=dbs["full_a"])
    before = snapshot(project)["default"]
    ours = manage(project, "migrate", "--database", "other")
    assert snapshot(project)["default"] == before
    project.use_databases(default=dbs["part"], other=dbs["full_b"])
    django = manage(project, "migrate", "--database", "other", *DJANGO_ONLY)
    assert ours == django
    assert ours.code == 0


# -- the one case that is not: a plain migrate on a part-way database ---------


def test_plain_migrate_finishes_the_old_history(
    make_project: Callable[[str], Project],
) -> None:
    project, dbs = crossapp_states(
        make_project, one=CATALOG_0003, four=ORDERS_0002, quiet=ORDERS_0002
    )
    remade = remade_keys(project, CROSSAPP)
    full = project.databases[0]

    project.use_databases(default=dbs["one"])
    out = project.manage("migrate", "--no-color").stdout
    assert out == (
        "Finishing the old history first:\n"
        "  Database 'default' is part-way through the migrations that the remade "
        "migrations replace: applying the 1 old migration it lacks.\n"
        "  Rendering model states... DONE\n"
        "  Applying accounts.0002_profile... OK\n"
        f"  Recorded {len(remade)} remade migrations as applied.\n"
        "Operations to perform:\n"
        "  Apply all migrations: accounts, admin, auth, catalog, contenttypes, "
        "orders, sessions\n"
        "Running migrations:\n"
        "  No migrations to apply.\n"
    )

    project.use_databases(default=dbs["four"])
    out = project.manage("migrate", "--no-color", "-v2").stdout
    assert "applying the 4 old migrations it lacks.\n" in out
    assert "".join(f"    {key}\n" for key in remade) in out

    # --database names the part-way database; -v0 prints nothing at all
    project.use_databases(default=full, other=dbs["quiet"])
    result = project.manage("migrate", "--database", "other", "-v0")
    assert (result.stdout, result.stderr) == ("", "")
    project.use_databases(
        default=full, one=dbs["one"], four=dbs["four"], quiet=dbs["quiet"]
    )
    states = snapshot(project)
    for alias in ("one", "four", "quiet"):
        assert states[alias]["schema"] == states["default"]["schema"], alias
        rows = {f"{app}.{name}" for app, name in states[alias]["rows"]}
        assert rows >= set(remade), alias
        assert manage(project, "migrate", "--check", "--database", alias).code == 0


# -- 2. a history that loads only with Django's replacements ------------------

EXTRAS_MIGRATION = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = [("catalog", "0003_more_fields")]
    operations = [
        migrations.CreateModel(
            name="Note",
            fields=[("id", models.BigAutoField(primary_key=True)), ("text", models.TextField())],
        ),
    ]
"""
EXTRAS_MODELS = """\
from django.db import models


class Note(models.Model):
    text = models.TextField()
"""


def test_a_migration_that_depends_on_a_deleted_old_one(
    make_project: Callable[[str], Project],
) -> None:
    """An app outside the remake (excluded, or added on another branch) whose
    migration depends on an old name: Django maps it to the remade migration
    that replaces that name, and so must django-remake's ``migrate``."""
    project = make_project("crossapp")
    django_only(project)
    full_a, full_b = project.new_database(), project.new_database()
    fresh_a, fresh_b = project.new_database(), project.new_database()
    project.use_databases(default=project.databases[0], a=full_a, b=full_b)
    project.python(
        BUILD.replace("TARGETS", repr({"default": None, "a": None, "b": None}))
    )
    project.use_databases(default=project.databases[0])
    project.manage("remakemigrations", "--no-input")
    project.write("extras/__init__.py", "")
    project.write("extras/models.py", EXTRAS_MODELS)
    project.write("extras/migrations/__init__.py", "")
    project.write("extras/migrations/0001_initial.py", EXTRAS_MIGRATION)
    settings = project.root / "project_settings.py"
    settings.write_text(settings.read_text() + 'INSTALLED_APPS.insert(-1, "extras")\n')

    for ours_db, django_db in ((full_a, full_b), (fresh_a, fresh_b)):
        project.use_databases(default=ours_db)
        ours = manage(project, "migrate")
        ours_state = snapshot(project)["default"]
        project.use_databases(default=django_db)
        django = manage(project, "migrate", *DJANGO_ONLY)
        assert ours == django
        assert ours.code == 0, ours
        assert "Applying extras.0001_initial... OK" in ours.out
        assert ours_state == snapshot(project)["default"]


# -- 3. the system check on a history that does not load ------------------------
# Loading is the same on every backend: these run on SQLite.


@pytest.fixture
def sqlite_project(tmp_path: Path) -> Iterator[Callable[[str], Project]]:
    made: list[Project] = []

    def make(scenario: str) -> Project:
        project = Project.from_scenario(scenario, tmp_path / f"p{len(made)}", "sqlite")
        made.append(project)
        django_only(project)
        project.use_databases(default=project.new_database())
        return project

    yield make
    for project in made:
        project.close()


LATER = """\
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [DEPENDENCIES]
    operations = [migrations.RunSQL(migrations.RunSQL.noop, migrations.RunSQL.noop)]
"""


def test_a_history_that_does_not_load_is_djangos_to_report(
    sqlite_project: Callable[[str], Project],
) -> None:
    project = sqlite_project("shop")
    project.manage("migrate")
    project.manage("remakemigrations", "--no-input")
    (remade_name,) = new_migration_names(project, "shop/migrations")
    remade = project.root / "shop/migrations" / f"{remade_name}.py"
    later = project.root / "shop/migrations/0002_later.py"
    good_remade = remade.read_text()
    good_later = LATER.replace("DEPENDENCIES", f"('shop', {remade_name!r})")
    missing = "('shop', '0099_missing')"
    breaks = {
        "syntax error in the remade migration": (
            good_remade + "\ndef (:\n",
            good_later,
        ),
        "NameError in the remade migration": (
            good_remade + "\nundefined_name\n",
            good_later,
        ),
        "missing dependency of the remade migration": (
            good_remade.replace("dependencies = [", f"dependencies = [{missing}, ", 1),
            good_later,
        ),
        "syntax error in a later migration": (good_remade, good_later + "\ndef (:\n"),
        "NameError in a later migration": (
            good_remade,
            good_later + "\nundefined_name\n",
        ),
        "missing dependency of a later migration": (
            good_remade,
            LATER.replace("DEPENDENCIES", f"('shop', {remade_name!r}), {missing}"),
        ),
    }
    differences = []
    for case, (remade_text, later_text) in breaks.items():
        assert remade_text != good_remade or later_text != good_later, case
        remade.write_text(remade_text)
        later.write_text(later_text)
        for command in (["migrate"], ["check", "--database", "default"]):
            ours = manage(project, *command)
            django = manage(project, *command, *DJANGO_ONLY)
            if ours != django:
                differences.append(f"{case}: {command}: {ours} != {django}")
            if command == ["migrate"] and ours.code == 0:
                differences.append(f"{case}: migrate succeeded")
    assert differences == []


# -- 4. what installing the app costs ------------------------------------------
# The counting lives in the test: a sitecustomize module on the project's
# PYTHONPATH wraps MigrationLoader.build_graph in every subprocess.

COUNT_BUILDS = """\
import atexit
from pathlib import Path
from typing import Any

from django.db.migrations.loader import MigrationLoader

calls = []
build_graph = MigrationLoader.build_graph


def counted(self):
    calls.append(1)
    return build_graph(self)


MigrationLoader.build_graph = counted
atexit.register(
    lambda: Path(__file__).with_name("build_graph_calls").write_text(str(len(calls)))
)
"""


def graphs_built(project: Project, *args: str) -> int:
    """How many migration graphs ``manage.py *args`` built."""
    counter = project.root / "build_graph_calls"
    counter.unlink(missing_ok=True)
    result = manage(project, *args)
    assert result.code == 0, result
    return int(counter.read_text())


def test_the_graph_is_built_once_unless_a_history_must_be_finished(
    sqlite_project: Callable[[str], Project],
) -> None:
    project = sqlite_project("shop")
    (project.root / "sitecustomize.py").write_text(COUNT_BUILDS)
    full = project.databases[0]
    part = project.new_database()
    project.use_databases(default=full, part=part)
    project.manage("migrate")
    project.manage("migrate", "shop", "0002_item_price", "--database", "part")

    # A project that never remade: exactly Django's cost.
    assert graphs_built(project, "migrate", *DJANGO_ONLY) == 1
    assert graphs_built(project, "migrate") == 1
    assert graphs_built(project, "check", "--database", "default") == 0

    project.use_databases(default=full)
    project.manage("remakemigrations", "--no-input", "--keep-old-migrations")
    project.use_databases(default=full, part=part)
    # Remade migrations, nothing part-way: still only Django's graph.
    assert graphs_built(project, "migrate") == 1
    assert graphs_built(project, "check", "--database", "part") == 0
    # A part-way database: one graph of the old history to finish it, and Django's.
    assert graphs_built(project, "migrate", "--database", "part", "-v0") == 2
    assert project.applied("part") == project.applied("default")


def test_migration_modules_are_where_remade_migrations_are_found(
    sqlite_project: Callable[[str], Project],
) -> None:
    """``MIGRATION_MODULES`` moves the migrations out of the app: the wrapper
    and the check look there."""
    project = sqlite_project("migration_modules")
    full = project.databases[0]
    kept, gone = project.new_database(), project.new_database()
    project.use_databases(default=full, kept=kept, gone=gone)
    project.manage("migrate")
    for alias in ("kept", "gone"):
        project.manage("migrate", "notes", "0001_initial", "--database", alias)
    project.use_databases(default=full)
    project.manage("remakemigrations", "--no-input", "--keep-old-migrations")
    project.use_databases(default=full, kept=kept, gone=gone)

    out = project.manage("migrate", "--database", "kept", "--no-color").stdout
    assert out.startswith(
        "Finishing the old history first:\n"
        "  Database 'kept' is part-way through the migrations that the remade "
        "migrations replace: applying the 1 old migration it lacks.\n"
    ), out
    (remade,) = new_migration_names(project, "notes_history")
    assert {("notes", "0002_pinned"), ("notes", remade)} <= project.applied("kept")

    for old in ("0001_initial.py", "0002_pinned.py"):
        (project.root / "notes_history" / old).unlink()
    stderr = project.manage("check", "--database", "gone", ok=False).stderr
    assert (
        "Database 'gone' is part-way through the migration history that the remade "
        "migrations replace: it has applied 1 of the 2 old migrations, and 1 "
        "migration it lacks is no longer on disk: notes.0002_pinned." in stderr
    ), stderr
