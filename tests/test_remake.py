"""End to end: remake a project's history, then deploy it to old and new databases."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from .conftest import REMAKED
from .harness import Project, deploy, new_migration_names, schema_diff

# scenario -> {app label: migrations folder}
FIRST_PARTY = {
    "shop": {"shop": "shop/migrations"},
    "crossapp": {
        "accounts": "accounts/migrations",
        "catalog": "catalog/migrations",
        "orders": "orders/migrations",
    },
    "squashed": {"ledger": "ledger/migrations"},
    "migration_modules": {"notes": "notes_history"},
    "thirdparty": {"blog": "blog/migrations"},
}


def remake(project: Project, *args: str) -> str:
    return project.manage("remakemigrations", "--no-input", *args).stdout


def remade(project: Project, scenario: str) -> set[tuple[str, str]]:
    return {
        (app, name)
        for app, folder in FIRST_PARTY[scenario].items()
        for name in new_migration_names(project, folder)
    }


def check_report(project: Project, scenario: str, report: dict[str, Any]) -> None:
    assert report["makemigrations"] == {
        "out": "No changes detected\n",
        "err": "",
        "code": 0,
    }
    assert "[ ]" not in report["showmigrations"]["out"]
    assert "[X]" in report["showmigrations"]["out"]
    missing = remade(project, scenario) - report["applied"]
    assert not missing, f"not recorded as applied: {missing}"


def assert_deployed(project: Project, scenario: str) -> None:
    """The promises of a remake, checked on the database the project points at."""
    report = deploy(project)
    assert "No migrations to apply." in report["migrate"]["out"], report["migrate"]
    check_report(project, scenario, report)


def assert_fresh_database_runs_new_history(
    project: Project, scenario: str, old_db_index: int = 0
) -> None:
    """A new database runs the remade migrations, and only those, of the project's
    own apps, and ends with the old database's schema."""
    old_db = project.databases[old_db_index]
    fresh = project.new_database()
    project.use_databases(default=fresh)
    report = deploy(project)
    ran = {
        tuple(name.split(".", 1))
        for name in re.findall(r"Applying (\S+)\.\.\. OK", report["migrate"]["out"])
        if name.split(".")[0] in FIRST_PARTY[scenario]
    }
    assert ran == remade(project, scenario), report["migrate"]["out"]
    check_report(project, scenario, report)
    assert schema_diff(project, old_db, fresh) == []


@pytest.mark.parametrize("scenario", sorted(FIRST_PARTY))
def test_remake_then_deploy_everywhere(
    make_project: Callable[[str], Project], scenario: str
) -> None:
    project = make_project(scenario)
    project.manage("migrate")
    old_files = {f: project.migration_files(f) for f in FIRST_PARTY[scenario].values()}

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
    assert out.endswith(
        "Verified: makemigrations finds no changes; migrate has nothing to apply "
        "on 'default'; the old and the new history build the same database on "
        "'default'.\n"
    ), out
    assert_deployed(project, scenario)
    assert_fresh_database_runs_new_history(project, scenario)


def test_names_and_replaces_of_a_cycle(make_project: Callable[[str], Project]) -> None:
    """A foreign-key cycle splits an app; every old migration is replaced once."""
    project = make_project("crossapp")
    project.manage("migrate")
    remake(project)
    date = re.search(
        r"_remaked_(\d{8})", str(project.migration_files("orders/migrations"))
    )
    assert date
    suffix = f"remaked_{date.group(1)}"
    files = {
        app: project.migration_files(folder)
        for app, folder in FIRST_PARTY["crossapp"].items()
    }
    split = [app for app, names in files.items() if len(names) == 2]
    assert split, files  # the cycle between catalog and orders needs two steps
    assert all(
        name.endswith(f"{suffix}.py") for names in files.values() for name in names
    )
    replaced: list[tuple[str, str]] = []
    for app, folder in FIRST_PARTY["crossapp"].items():
        for name in project.migration_files(folder):
            out = project.python(
                f"""
                from django.db.migrations.loader import MigrationLoader
                loader = MigrationLoader(None, ignore_no_migrations=True)
                print(repr(loader.disk_migrations[({app!r}, {name[:-3]!r})].replaces))
                """
            )
            replaced.extend(eval(out))
    old = [
        ("accounts", "0001_initial"),
        ("accounts", "0002_profile"),
        ("catalog", "0001_initial"),
        ("catalog", "0002_product_promotion"),
        ("catalog", "0003_more_fields"),
        ("orders", "0001_initial"),
        ("orders", "0002_promotion"),
        ("orders", "0003_more_fields"),
    ]
    assert sorted(replaced) == old  # each exactly once
    orders = (project.root / "orders/migrations" / files["orders"][0]).read_text()
    assert "migrations.swappable_dependency(settings.AUTH_USER_MODEL)" in orders


def test_squash_without_its_originals(make_project: Callable[[str], Project]) -> None:
    project = make_project("squashed")
    for name in ("0001_initial", "0002_entries", "0003_longer_name"):
        (project.root / "ledger/migrations" / f"{name}.py").unlink()
    project.manage("migrate")
    remake(project)
    # Quotes as Django's writer puts them, whether or not black is on PATH.
    text = "".join(
        (project.root / "ledger/migrations" / n).read_text().replace('"', "'")
        for n in project.migration_files("ledger/migrations")
    )
    # A database built from the squash recorded the originals' names.
    for name in ("0001_initial", "0002_entries", "0003_longer_name", "0004_memo"):
        assert f"('ledger', '{name}')" in text
    assert_deployed(project, "squashed")
    assert_fresh_database_runs_new_history(project, "squashed")


def test_third_party_app_is_untouched(make_project: Callable[[str], Project]) -> None:
    project = make_project("thirdparty")
    project.manage("migrate")
    before = {p: p.read_bytes() for p in project.external.rglob("*.py")}
    remake(project)
    assert {p: p.read_bytes() for p in project.external.rglob("*.py")} == before
    (blog,) = project.migration_files("blog/migrations")
    text = (project.root / "blog/migrations" / blog).read_text()
    assert "('vendorapp', '0001_initial')" in text.replace('"', "'")
    assert_deployed(project, "thirdparty")


def test_keep_old_migrations(make_project: Callable[[str], Project]) -> None:
    project = make_project("crossapp")
    project.manage("migrate")
    before = project.tree_hashes()

    remake(project, "--keep-old-migrations")

    after = project.tree_hashes()
    assert {k: v for k, v in after.items() if k in before} == before
    added = sorted(set(after) - set(before))
    assert added and all("_remaked_" in name for name in added), added
    assert_deployed(project, "crossapp")
    assert_fresh_database_runs_new_history(project, "crossapp")


def test_second_run_on_the_same_day(make_project: Callable[[str], Project]) -> None:
    project = make_project("shop")
    project.manage("migrate")
    remake(project)
    (first,) = project.migration_files("shop/migrations")
    project.manage("migrate")  # records the remade name, as a deploy would

    remake(project)

    (second,) = project.migration_files("shop/migrations")
    assert second == first[:-3] + "_2.py"
    assert_deployed(project, "shop")
    assert_fresh_database_runs_new_history(project, "shop")
