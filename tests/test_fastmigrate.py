"""The fast path builds the same database as Django's executor.

For every scenario: remake, then build one new database with django-remake's
``migrate`` (the fast path) and one with ``REMAKE_MIGRATIONS_FAST_MIGRATE =
False`` (Django's executor, operation by operation), and compare everything a
user could notice: the schema with every index and constraint name, every row
of every table, the rows of ``django_migrations``, and what ``migrate``
printed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .benchmark_projects import ROOT, generated_project
from .harness import Project, histories

MakeProject = Callable[[str], Project]

DUMP = """
import json
from dataclasses import asdict
from django.db import connection
from django_remake.schema import read_schema

# The normalized schema (content), plus Django's own introspection of every
# constraint and index by name.
schema = read_schema(connection, exclude_tables=())
names = {}
rows = {}
with connection.cursor() as cursor:
    for table in schema.tables:
        names[table.name] = connection.introspection.get_constraints(cursor, table.name)
        # When and in which order Django records names is not part of the
        # result: Django 5.2 records replacing migrations in set order.
        skip = {"applied", "id"} if table.name == "django_migrations" else set()
        columns = [c.name for c in table.columns if c.name not in skip]
        cursor.execute(
            "SELECT " + ", ".join(connection.ops.quote_name(c) for c in columns)
            + " FROM " + connection.ops.quote_name(table.name)
        )
        rows[table.name] = sorted(repr(row) for row in cursor.fetchall())
print(json.dumps({"schema": asdict(schema), "names": names, "rows": rows}, default=str))
"""

SCENARIOS = [
    "shop",
    "crossapp",
    "seeds",
    "squashed",
    "thirdparty",
    "migration_modules",
    "hist_threecycle",
    "hist_moved",
    "hist_grown",
    "hist_merge",
    "pgobjects",
    "carry",
    "pair",
    "hist_squashgone",
    *histories("hist_squashsquash"),
]


#: Scenarios whose remade migrations the fast path leaves to Django's executor,
#: and what it says at -v 2: carry's one remade migration holds a custom
#: operation class of the project's, whose effect on the state only its own
#: code knows.
DECLINED = {"carry": "InsertRows is applied by Django's executor"}


def build(project: Project, *, fast: bool, verbosity: str = "1") -> tuple[str, Any]:
    """Migrate a new database one way; return the output and a dump of it."""
    settings = project.root / "project_settings.py"
    text = re.sub(
        r"\nREMAKE_MIGRATIONS_FAST_MIGRATE = \w+\n", "\n", settings.read_text()
    )
    settings.write_text(text + f"\nREMAKE_MIGRATIONS_FAST_MIGRATE = {fast}\n")
    project.use_databases(default=project.new_database())
    out = project.manage("migrate", "-v", verbosity).stdout
    return out, json.loads(project.python(DUMP))


def steps(out: str) -> list[str]:
    """The output without timings."""
    return [re.sub(r" \(\d+\.\d+s\)", "", line) for line in out.splitlines()]


def assert_fast_path_builds_what_the_executor_builds(
    project: Project, declined: str | None = None
) -> None:
    """Remake ``project`` (its database fully migrated), then build a new
    database each way, at ``-v 2``, and compare them. ``declined``: the note
    with which the fast path leaves every remade migration to the executor."""
    project.manage("migrate")
    project.manage("remakemigrations", "--no-input")

    slow_out, slow = build(project, fast=False, verbosity="2")
    fast_out, fast = build(project, fast=True, verbosity="2")

    # The fast path ran, or said why not; apart from its notes, migrate
    # printed the same.
    if declined is None:
        assert "remade migrations at once." in fast_out, fast_out
    else:
        assert "remade migrations at once." not in fast_out, fast_out
        assert declined in fast_out, fast_out
    assert [s for s in steps(fast_out) if not FAST_NOTE.match(s)] == steps(slow_out)
    assert fast["schema"] == slow["schema"]
    assert fast["names"] == slow["names"]
    assert fast["rows"] == slow["rows"]


#: the fast path's lines at -v 2 (fastmigrate.FastExecutor.note)
FAST_NOTE = re.compile(r"  (Created the tables of |\w+\.\w+: )")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_fast_path_builds_what_the_executor_builds(
    make_project: MakeProject, backend: str, scenario: str
) -> None:
    if scenario == "pgobjects" and backend != "postgresql":
        pytest.skip("PostgreSQL objects")
    assert_fast_path_builds_what_the_executor_builds(
        make_project(scenario), declined=DECLINED.get(scenario)
    )


def test_verbosity_2_says_what_the_fast_path_did(make_project: MakeProject) -> None:
    project = make_project("crossapp")
    project.manage("migrate")
    project.manage("remakemigrations", "--no-input")

    out, _dump = build(project, fast=True, verbosity="2")

    assert re.search(
        r"Created the tables of \d+ models for \d+ remade migrations at once\.", out
    ), out


def test_migrations_after_the_remake_go_through_the_executor(
    make_project: MakeProject, backend: str
) -> None:
    """A migration added later (an AlterField on a remade model) is applied
    by Django's executor, after the fast run, and says so at -v 2."""
    project = make_project("shop")
    project.manage("migrate")
    project.manage("remakemigrations", "--no-input")
    models = project.root / "shop/models.py"
    models.write_text(
        models.read_text().replace(
            "name = models.CharField(max_length=80, db_index=True)",
            "name = models.CharField(max_length=100, db_index=True)",
        )
    )
    project.manage("makemigrations", "shop", "-n", "longer_name")

    slow_out, slow = build(project, fast=False)
    fast_out, fast = build(project, fast=True, verbosity="2")

    assert "Applying shop.0002_longer_name... OK" in fast_out
    assert fast["schema"] == slow["schema"]
    assert fast["names"] == slow["names"]
    assert fast["rows"] == slow["rows"]


def test_the_test_database_of_manage_py_test_takes_the_fast_path(
    make_project: MakeProject,
) -> None:
    project = make_project("crossapp")
    project.manage("migrate")
    project.manage("remakemigrations", "--no-input")
    project.write(
        "catalog/tests.py",
        """\
        from django.test import TestCase

        from catalog.models import Product


        class Smoke(TestCase):
            def test_tables_exist(self):
                self.assertEqual(Product.objects.count(), 0)
        """,
    )

    result = project.manage("test", "catalog", "-v", "3")

    output = result.stdout + result.stderr
    assert re.search(
        r"Created the tables of \d+ models for \d+ remade migrations at once\.", output
    ), output
    assert "Ran 1 test" in output and "OK" in output


@pytest.mark.parametrize(
    "source, settings",
    [("demo", "demo_project.settings"), ("small", "bench_project.settings")],
    ids=["demo project", "small benchmark project"],
)
def test_fast_path_builds_what_the_executor_builds_for_whole_projects(
    tmp_path: Path, backend: str, source: str, settings: str
) -> None:
    """The bundled demo project, and the benchmark's small preset (110
    migrations written by makemigrations, cycles between apps, a custom user
    model, data migrations)."""
    if source == "demo":
        path = ROOT / "examples" / "demo"
    else:
        path = generated_project(source, tmp_path / "cache")
    project = Project.from_django_project(path, settings, tmp_path / source, backend)
    try:
        project.use_databases(default=project.new_database())
        assert_fast_path_builds_what_the_executor_builds(project)
    finally:
        project.close()


def test_the_test_database_of_pytest_django_takes_the_fast_path(
    make_project: MakeProject,
) -> None:
    """pytest-django builds its test database with ``migrate`` too; nothing
    in the project's settings has to change for it to take the fast path."""
    project = make_project("crossapp")
    project.manage("migrate")
    project.manage("remakemigrations", "--no-input")
    project.write("pytest.ini", "[pytest]\n")  # not this suite's configuration
    project.write(
        "test_smoke.py",
        """\
        import pytest

        from catalog.models import Product


        @pytest.mark.django_db
        def test_tables_exist():
            assert Product.objects.count() == 0
        """,
    )

    # -vvv: pytest-django's verbosity 3 runs migrate at -v 2, which says what
    # the fast path did; -s shows it.
    result = project.run_python(
        "-m", "pytest", "-p", "pytest_django", "--ds=settings", "-vvv", "-s",
        "test_smoke.py",
    )  # fmt: skip

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(
        r"Created the tables of \d+ models for \d+ remade migrations at once\.", output
    ), output
    assert "1 passed" in output
