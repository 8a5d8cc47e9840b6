"""The REMAKE_MIGRATIONS_* settings, and the commands' --help texts.

Settings only change what is written, not how a database behaves, so these
run on SQLite alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .harness import Project

MakeProject = Callable[..., Project]


@pytest.fixture
def sqlite_project(tmp_path: Path) -> Iterator[MakeProject]:
    made: list[Project] = []

    def make(scenario: str, settings: str = "", migrate: bool = True) -> Project:
        project = Project.from_scenario(scenario, tmp_path / f"p{len(made)}", "sqlite")
        made.append(project)
        project.use_databases(default=project.new_database())
        if migrate:
            project.manage("migrate")
        if settings:
            path = project.root / "project_settings.py"
            path.write_text(path.read_text() + "\n" + settings + "\n")
        return project

    yield make
    for project in made:
        project.close()


def only_file(project: Project, folder: str) -> str:
    (name,) = project.migration_files(folder)
    return (project.root / folder / name).read_text()


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ('FIRST_APPS = "shop"', "a list of app labels (strings)"),
        ("INCLUDE_APPS = 5", "a list of app labels (strings)"),
        (
            'POST_COMMANDS = ["showmigrations"]',
            "a list of commands, each a non-empty list of strings",
        ),
        (
            'EXTENSIONS = {"shop": "x.Y"}',
            "a dict of app label -> list of dotted operation class paths",
        ),
        (
            'RUN_BEFORE = {"shop": ["auth"]}',
            "a dict of app label -> list of (app_label, migration_name) pairs",
        ),
        ('REPLACES_ALL = "yes"', "True or False"),
    ],
)
def test_a_wrong_type_names_the_setting(
    sqlite_project: MakeProject, setting: str, expected: str
) -> None:
    project = sqlite_project("shop", "REMAKE_MIGRATIONS_" + setting)
    before = project.tree_hashes()
    name = setting.split(" ")[0]

    result = project.manage("remakemigrations", "--no-input", ok=False)

    assert f"REMAKE_MIGRATIONS_{name} must be {expected}" in result.stderr
    assert "Traceback" not in result.stderr
    assert project.tree_hashes() == before
    check = project.manage("check", ok=False)
    assert "django_remake.E002" in check.stderr


def test_ignored_settings_are_flagged(sqlite_project: MakeProject) -> None:
    project = sqlite_project(
        "shop",
        'REMAKE_MIGRATIONS_REPLACES_ALL = True\nREMAKE_MIGRATIONS_REPLACE_OTHER_APP = {"shop": ["auth"]}',
    )
    check = project.manage("check")
    assert "(django_remake.W001) REMAKE_MIGRATIONS_REPLACES_ALL and " in check.stderr
    project.manage("remakemigrations", "--no-input")  # still works


def test_extensions_open_the_first_migration(sqlite_project: MakeProject) -> None:
    project = sqlite_project("shop")
    project.write(
        "shop/operations.py",
        """\
        from django.db.migrations.operations.base import Operation


        class Marker(Operation):
            reversible = True

            def state_forwards(self, app_label, state):
                pass

            def database_forwards(self, app_label, schema_editor, from_state, to_state):
                pass

            def database_backwards(self, app_label, schema_editor, from_state, to_state):
                pass

            def describe(self):
                return "Marker"
        """,
    )
    path = project.root / "project_settings.py"
    path.write_text(
        path.read_text()
        + '\nREMAKE_MIGRATIONS_EXTENSIONS = {"shop": ["shop.operations.Marker"]}\n'
    )

    project.manage("remakemigrations", "--no-input")

    text = only_file(project, "shop/migrations")
    assert "import shop.operations" in text
    assert re.search(
        r"operations = \[\s+shop\.operations\.Marker\(\s*\),\s+migrations\.CreateModel",
        text,
    )


def test_extensions_for_an_app_without_migrations_is_an_error(
    sqlite_project: MakeProject,
) -> None:
    project = sqlite_project("shop", 'REMAKE_MIGRATIONS_EXTENSIONS = {"auth": ["x.Y"]}')
    before = project.tree_hashes()
    result = project.manage("remakemigrations", "--no-input", ok=False)
    assert "REMAKE_MIGRATIONS_EXTENSIONS names app 'auth'" in result.stderr
    assert project.tree_hashes() == before


def test_run_before(sqlite_project: MakeProject) -> None:
    project = sqlite_project(
        "shop",
        'REMAKE_MIGRATIONS_RUN_BEFORE = {"shop": [("auth", "0012_alter_user_first_name_max_length")]}',
    )
    project.manage("remakemigrations", "--no-input")
    text = only_file(project, "shop/migrations")
    assert (
        "run_before = [('auth', '0012_alter_user_first_name_max_length')]"
        in text.replace('"', "'")
    )
    fresh = project.new_database()
    project.use_databases(default=fresh)
    plan = project.migrate_plan()
    names = [line.split(" ")[0] for line in plan]
    shop = next(i for i, n in enumerate(names) if n.startswith("shop."))
    assert shop < names.index("auth.0012_alter_user_first_name_max_length")


def test_post_commands_run_in_a_fresh_process(sqlite_project: MakeProject) -> None:
    project = sqlite_project(
        "shop", 'REMAKE_MIGRATIONS_POST_COMMANDS = [["showmigrations", "shop"]]'
    )
    out = project.manage("remakemigrations", "--no-input").stdout
    assert "Running: manage.py showmigrations shop" in out
    # the child saw the new file (Django records it on the next migrate)
    assert re.search(r"\[-\] 0001_remaked_\d{8} \(5 squashed migrations\)", out), out


def test_a_failing_post_command_is_reported(sqlite_project: MakeProject) -> None:
    project = sqlite_project(
        "shop", 'REMAKE_MIGRATIONS_POST_COMMANDS = [["no_such_command"]]'
    )
    result = project.manage("remakemigrations", "--no-input", ok=False)
    assert (
        "REMAKE_MIGRATIONS_POST_COMMANDS: `manage.py no_such_command` failed"
        in result.stderr
    )
    assert "the remade migrations are in place and verified" in result.stderr
    assert project.migration_files("shop/migrations")[0].startswith("0001_remaked_")


def test_include_and_exclude_apps(sqlite_project: MakeProject) -> None:
    project = sqlite_project("thirdparty", 'REMAKE_MIGRATIONS_EXCLUDE_APPS = ["blog"]')
    result = project.manage("remakemigrations", "--no-input", ok=False)
    assert "No first-party app with migrations was found" in result.stderr

    project = sqlite_project(
        "thirdparty", 'REMAKE_MIGRATIONS_INCLUDE_APPS = ["blog", "nope"]'
    )
    result = project.manage("remakemigrations", "--no-input", ok=False)
    assert (
        "REMAKE_MIGRATIONS_INCLUDE_APPS names apps that are not installed: 'nope'"
        in result.stderr
    )

    project = sqlite_project("thirdparty", 'REMAKE_MIGRATIONS_INCLUDE_APPS = ["blog"]')
    project.manage("remakemigrations", "--no-input")
    assert all("_remaked_" in n for n in project.migration_files("blog/migrations"))


def first_app_in_plan(project: Project) -> str:
    out = project.manage("remakemigrations", "--dry-run").stdout
    match = re.search(r"^  (\w+): \d+ migrations -> \d+$", out, re.M)
    assert match, out
    return match.group(1)


def test_first_and_last_apps_order_the_plan(sqlite_project: MakeProject) -> None:
    # Two apps that do not depend on each other: INSTALLED_APPS order, unless
    # the settings say otherwise.
    assert first_app_in_plan(sqlite_project("pair")) == "left"
    project = sqlite_project("pair", 'REMAKE_MIGRATIONS_FIRST_APPS = ["right"]')
    assert first_app_in_plan(project) == "right"
    project = sqlite_project("pair", 'REMAKE_MIGRATIONS_LAST_APPS = ["left"]')
    assert first_app_in_plan(project) == "right"


@pytest.mark.parametrize(
    ("command", "options"),
    [
        (
            "remakemigrations",
            [
                "--keep-old-migrations",
                "--dry-run",
                "--no-input",
                "--skip-db-check",
                "--verify-schema",
                "--no-header",
            ],
        ),
        (
            "delete_remaked_migrations",
            ["--app-label", "--remove-replaced", "--dry-run", "--force"],
        ),
    ],
)
def test_help_lists_every_option(
    sqlite_project: MakeProject, command: str, options: list[str]
) -> None:
    project = sqlite_project("shop", migrate=False)
    out = project.manage(command, "--help").stdout
    for option in options:
        assert option in out
