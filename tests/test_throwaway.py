"""Tests for django_remake.throwaway on real throwaway databases.

throwaway runs its work in child processes that import the project's
settings, so each test calls it from inside ``project.python(...)`` and reads
back the JSON that code prints. SQLite throwaways go to ``TMPDIR``, which the
``tmpdir_env`` fixture points into the test's own folder.
"""

from __future__ import annotations

import json
import re
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from django_remake import throwaway
from django_remake.throwaway import Throwaway

from .backends import Database, drop_database
from .harness import Project

MakeProject = Callable[[str], Project]
VENDOR = {"sqlite": "sqlite", "postgresql": "postgresql", "mariadb": "mysql"}

EXTRA_TABLE = """\
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("shop", "0005_stock_and_index")]
    operations = [
        migrations.RunSQL(
            "CREATE TABLE extra_thing (id integer primary key)",
            "DROP TABLE extra_thing",
        ),
        # Output of a migration must not get mixed up with the child's answer.
        migrations.RunPython(lambda apps, schema_editor: print("noise")),
    ]
"""

BROKEN = """\
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("shop", "0005_stock_and_index")]
    operations = [migrations.RunSQL("THIS IS NOT SQL")]
"""

SYNTAX_ERROR = {
    "sqlite": 'OperationalError: near "THIS": syntax error',
    "postgresql": 'ProgrammingError: syntax error at or near "THIS"',
    "mariadb": 'ProgrammingError: (1064, "You have an error in your SQL syntax;',
}


@pytest.fixture
def tmpdir_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


PRELUDE = """\
import json
import os
import re
import tempfile
from dataclasses import asdict, astuple

from django.db import connection

from django_remake import throwaway
from django_remake.throwaway import Throwaway


def existing():
    \"\"\"Names of the throwaway databases that exist now: files on SQLite.\"\"\"
    if connection.vendor == "sqlite":
        names = os.listdir(tempfile.gettempdir())
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT datname FROM pg_database"
                if connection.vendor == "postgresql"
                else "SHOW DATABASES"
            )
            names = [row[0] for row in cursor.fetchall()]
    ours = re.compile(r"remake_[a-z0-9]+_[0-9a-f]{12}(\\.sqlite3)?")
    return sorted(name for name in names if ours.fullmatch(name))


def short(throwaway):
    return os.path.basename(throwaway.name)
"""


@pytest.fixture
def built(backend: str) -> Iterator[list[Throwaway]]:
    """Throwaways built by :func:`build`, dropped at the end even if the test
    failed before it dropped them (an SQLite file dies with ``tmp_path``)."""
    made: list[Throwaway] = []
    yield made
    for database in made:
        if backend != "sqlite":
            drop_database(Database(backend, database.name, {}))


def run(project: Project, code: str) -> Any:
    """Run ``code`` in the project after ``PRELUDE``; decode the JSON it prints last."""
    out = project.python(PRELUDE + textwrap.dedent(code))
    return json.loads(out.strip().splitlines()[-1])


def build(project: Project, tag: str, built: list[Throwaway]) -> Throwaway:
    data = run(
        project, f"print(json.dumps(asdict(throwaway.build('default', {tag!r}))))"
    )
    built.append(Throwaway(**data))
    return built[-1]


def compare_and_drop(project: Project, old: Throwaway, new: Throwaway) -> Any:
    """Both comparisons (schema only, then with rows), then drop both:
    ``[[schema lines, row lines], [schema lines, row lines]]``."""
    return run(
        project,
        f"""
        old, new = Throwaway(**{vars(old)!r}), Throwaway(**{vars(new)!r})
        try:
            result = [
                astuple(throwaway.compare("default", old, new)),
                astuple(throwaway.compare("default", old, new, rows=True)),
            ]
        finally:
            throwaway.drop("default", old)
            throwaway.drop("default", new)
        print(json.dumps(result))
        """,
    )


def short(throwaway: Throwaway) -> str:
    return Path(throwaway.name).name


def unique(tag: str) -> str:
    """A tag no concurrent run uses, so that what is left behind can be told apart."""
    return f"{tag}{uuid.uuid4().hex[:8]}"


# -- building and comparing ----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["shop", "crossapp"])
def test_same_files_build_the_same_schema(
    make_project: MakeProject, backend: str, scenario: str, tmpdir_env: Path
) -> None:
    project = make_project(scenario)
    seen = run(
        project,
        """
        old = throwaway.build("default", "old")
        new = throwaway.build("default", tag="new")
        seen = {"old": asdict(old), "new": asdict(new), "existing": existing()}
        seen["schema"] = throwaway.compare("default", old, new).lines
        seen["rows"] = throwaway.compare("default", old, new, rows=True).lines
        throwaway.drop("default", old)
        throwaway.drop("default", new)
        seen["after"] = existing()
        print(json.dumps(seen))
        """,
    )
    old, new = Throwaway(**seen["old"]), Throwaway(**seen["new"])
    assert (old.alias, old.tag, old.vendor) == ("default", "old", VENDOR[backend])
    assert (new.alias, new.tag, new.vendor) == ("default", "new", VENDOR[backend])
    assert re.fullmatch(r"remake_old_[0-9a-f]{12}", Path(old.name).stem)
    if backend == "sqlite":
        assert Path(old.name).parent == tmpdir_env
    assert {short(old), short(new)} <= set(seen["existing"])
    assert (seen["schema"], seen["rows"]) == ([], [])
    assert {short(old), short(new)} & set(seen["after"]) == set()


def test_an_extra_table_is_reported(
    make_project: MakeProject, tmpdir_env: Path, built: list[Throwaway]
) -> None:
    project = make_project("shop")
    old = build(project, "old", built)
    project.write("shop/migrations/0006_extra.py", EXTRA_TABLE)
    new = build(project, "new", built)
    extra = ["table 'extra_thing' only in new"]
    assert compare_and_drop(project, old, new) == [[extra, []], [extra, []]]


def test_seeded_rows_are_reported_only_when_asked(
    make_project: MakeProject, tmpdir_env: Path, built: list[Throwaway]
) -> None:
    """The shop's 0003 seeds one item; a history without it has the same schema."""
    project = make_project("shop")
    old = build(project, "old", built)
    (project.root / "shop/migrations/0003_seed_items.py").unlink()
    path = project.root / "shop/migrations/0004_tags_and_checks.py"
    path.write_text(path.read_text().replace("0003_seed_items", "0002_item_price"))
    new = build(project, "new", built)
    assert compare_and_drop(project, old, new) == [
        [[], []],
        [[], ["table 'shop_item': 1 row in old, 0 in new"]],
    ]


@pytest.mark.parametrize("tag", ["old", "new"])
def test_a_history_that_does_not_build_is_a_clear_error(
    make_project: MakeProject, backend: str, tag: str, tmpdir_env: Path
) -> None:
    project = make_project("shop")
    project.write("shop/migrations/0006_broken.py", BROKEN)
    tag = unique(tag)
    error = run(
        project,
        f"""
        from django_remake.errors import VerifyError
        try:
            throwaway.build("default", {tag!r})
        except throwaway.SchemaCheckError as exc:
            print(json.dumps({{
                "verify_error": isinstance(exc, VerifyError),
                "message": str(exc),
                "detail": exc.detail,
                "migration": exc.migration,
                "existing": existing(),
            }}))
        """,
    )
    assert error["verify_error"] is True
    assert error["migration"] == "shop.0006_broken"
    assert error["detail"].startswith(SYNTAX_ERROR[backend])
    assert error["message"] == (
        f"The {tag} migration history does not build on database 'default'"
        f" ({VENDOR[backend]}) while applying 'shop.0006_broken': {error['detail']}."
        " Run `python manage.py migrate --database default` against an empty"
        " database to see the whole error."
    )
    assert "\n" not in error["message"]
    assert [name for name in error["existing"] if f"_{tag}_" in name] == []


def test_a_database_the_server_will_not_create_is_a_clear_error(
    make_project: MakeProject, backend: str, tmpdir_env: Path
) -> None:
    """A TEST setting the server rejects stops the build before any migration."""
    if backend == "sqlite":
        pytest.skip("SQLite has no server-side settings to reject")
    project = make_project("shop")
    db = project.new_database()
    test = {"NAME": f"test_{db.name}", "CHARSET": "nonsense"}
    config = {"default": {**db.settings, "TEST": test}}
    (project.root / "databases.json").write_text(json.dumps(config))
    tag = unique("old")
    error = run(
        project,
        f"""
        try:
            throwaway.build("default", {tag!r})
        except throwaway.SchemaCheckError as exc:
            print(json.dumps({{
                "message": str(exc),
                "migration": exc.migration,
                "existing": existing(),
            }}))
        """,
    )
    reason = {
        "postgresql": "nonsense is not a valid encoding name",
        "mariadb": "Unknown character set: 'nonsense'",
    }[backend]
    assert error["migration"] is None
    assert error["message"].startswith(
        f"Could not create a new database for 'default' ({VENDOR[backend]}): "
    )
    assert reason in error["message"]
    assert error["message"].endswith(
        "It is made as `python manage.py test` makes its test database, from the"
        " TEST settings of 'default': check that this works."
    )
    assert "Got an error" not in error["message"]
    assert [name for name in error["existing"] if f"_{tag}_" in name] == []


# -- dropping -----------------------------------------------------------------------


def test_drop_removes_the_database_and_can_run_twice(
    make_project: MakeProject, tmpdir_env: Path
) -> None:
    project = make_project("shop")
    seen = run(
        project,
        """
        old = throwaway.build("default", "old")
        seen = {"name": short(old), "built": existing()}
        throwaway.drop("default", old)
        seen["dropped"] = existing()
        throwaway.drop("default", old)
        seen["again"] = existing()
        print(json.dumps(seen))
        """,
    )
    assert seen["name"] in seen["built"]
    assert seen["name"] not in seen["dropped"]
    assert seen["name"] not in seen["again"]


def test_the_context_manager_drops_even_when_the_block_fails(
    make_project: MakeProject, tmpdir_env: Path
) -> None:
    project = make_project("shop")
    seen = run(
        project,
        """
        seen = {}
        try:
            with throwaway.throwaway("default", "old") as old:
                seen["old"] = short(old)
                with throwaway.throwaway("default", "new") as new:
                    seen["new"] = short(new)
                    seen["inside"] = existing()
                    seen["differences"] = throwaway.compare("default", old, new).lines
                    raise RuntimeError("boom")
        except RuntimeError as exc:
            seen["error"] = str(exc)
        seen["after"] = existing()
        print(json.dumps(seen))
        """,
    )
    assert seen["differences"] == []
    assert seen["error"] == "boom"
    assert {seen["old"], seen["new"]} <= set(seen["inside"])
    assert {seen["old"], seen["new"]} & set(seen["after"]) == set()


def test_comparing_with_a_dropped_database_is_a_clear_error(
    make_project: MakeProject, tmpdir_env: Path
) -> None:
    project = make_project("shop")
    seen = run(
        project,
        """
        with throwaway.throwaway("default", "old") as old:
            new = throwaway.build("default", "new")
            throwaway.drop("default", new)
            try:
                throwaway.compare("default", old, new)
            except throwaway.SchemaCheckError as exc:
                print(json.dumps({"message": str(exc), "new": short(new)}))
        """,
    )
    assert seen["message"].startswith(
        "Could not compare the throwaway databases of 'default': "
    )
    assert "\n" not in seen["message"]
    assert seen["new"] in seen["message"]


# -- which aliases ----------------------------------------------------------------


def test_aliases_to_check_skips_mirrors_and_shared_databases(
    make_project: MakeProject,
) -> None:
    project = make_project("shop")
    first, second = project.new_database(), project.new_database()
    config = {
        "default": first.settings,
        "replica": {**first.settings, "TEST": {"MIRROR": "default"}},
        "same": dict(first.settings),
        "other": second.settings,
    }
    (project.root / "databases.json").write_text(json.dumps(config))
    checked = run(
        project,
        """
        print(json.dumps(throwaway.aliases_to_check(["default", "replica", "same", "other"])))
        """,
    )
    assert checked == ["default", "other"]


# -- refusing bad input (no database needed) ---------------------------------------


def test_build_refuses_a_tag_that_cannot_name_a_database() -> None:
    with pytest.raises(ValueError, match="tag must be 1-16 lowercase letters"):
        throwaway.build("default", "Old-1")


def test_drop_refuses_a_database_it_did_not_build() -> None:
    production = Throwaway("default", "old", "postgresql", "shop_production")
    with pytest.raises(ValueError, match="refusing to drop 'shop_production'"):
        throwaway.drop("default", production)
