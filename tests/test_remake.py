"""End to end: remake a project's history, then deploy it to old and new databases."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import REMAKED
from .harness import Project, new_migration_names, schema_diff

FIRST_PARTY = {
    "shop": ["shop/migrations"],
    "crossapp": ["accounts/migrations", "catalog/migrations", "orders/migrations"],
}


def remake(project: Project, *args: str) -> str:
    return project.manage("remakemigrations", "--no-input", *args).stdout


def assert_deployed(project: Project, scenario: str) -> None:
    """The promises of a remake, checked on the database the project points at."""
    migrate = project.manage("migrate").stdout
    assert "No migrations to apply." in migrate
    check = project.manage("makemigrations", "--check", "--dry-run")
    assert check.stdout.strip() == "No changes detected"
    shown = project.manage("showmigrations").stdout
    assert "[ ]" not in shown
    applied = project.applied()
    for folder in FIRST_PARTY[scenario]:
        app = folder.split("/")[0]
        for name in new_migration_names(project, folder):
            assert (app, name) in applied, f"{app}.{name} not recorded"


@pytest.mark.parametrize("scenario", sorted(FIRST_PARTY))
def test_remake_then_deploy_everywhere(
    make_project: Callable[[str], Project], scenario: str
) -> None:
    project = make_project(scenario)
    project.manage("migrate")
    old_db = project.databases[0]
    old_files = {f: project.migration_files(f) for f in FIRST_PARTY[scenario]}

    out = remake(project)

    for folder, before in old_files.items():
        after = project.migration_files(folder)
        assert after, folder
        assert all(REMAKED.match(name) for name in after), after
        assert not set(before) & set(after)
        for name in after:
            text = (project.root / folder / name).read_text()
            assert "initial = True" in text
            assert "replaces = [" in text
    assert "Verified: makemigrations finds no changes; migrate has nothing to apply on 'default'." in out

    assert_deployed(project, scenario)

    fresh = project.new_database()
    project.use_databases(default=fresh)
    plan = project.migrate_plan()
    first_party = {f.split("/")[0] for f in FIRST_PARTY[scenario]}
    planned_first_party = [line for line in plan if line.split(".")[0] in first_party]
    expected = sum(len(new_migration_names(project, f)) for f in FIRST_PARTY[scenario])
    assert len(planned_first_party) == expected, plan
    project.manage("migrate")
    assert schema_diff(project, old_db, fresh) == []
    assert_deployed(project, scenario)
