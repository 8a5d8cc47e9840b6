"""Fewer operations: only foreign keys that close a model-level cycle get a
migration of their own; everything else lives in the ``CreateModel``."""

from __future__ import annotations

import re

from .conftest import MakeProject
from .harness import Project, deploy, schema_diff

OPERATION = re.compile(r"^\s+migrations\.([A-Z]\w+)\(", re.M)


def operations(project: Project, app_dir: str) -> dict[str, list[str]]:
    """Each new migration file of an app and the operations it holds, in order."""
    folder = project.root / app_dir
    return {
        path.name: OPERATION.findall(path.read_text())
        for path in sorted(folder.glob("0*_remaked_*.py"))
    }


def test_only_a_cycle_closing_foreign_key_is_split_out(
    make_project: MakeProject,
) -> None:
    project: Project = make_project("crossapp")
    old = project.new_database()
    project.use_databases(default=old)
    project.manage("migrate")
    project.manage("remakemigrations", "--no-input")

    # accounts.Profile.favourite points at catalog, which does not need
    # accounts: the field stays in Profile's CreateModel (makemigrations puts
    # it in a second migration, because the apps form a cycle).
    accounts = operations(project, "accounts/migrations")
    assert list(accounts.values()) == [["CreateModel", "CreateModel"]]
    assert list(operations(project, "orders/migrations").values()) == [
        ["CreateModel", "CreateModel"]
    ]
    # catalog.Product.promotion -> orders.Promotion, and orders.Order ->
    # catalog.Product: this one closes the cycle and must come later. Product's
    # index does not wait for it: it is in Product's CreateModel.
    catalog = list(operations(project, "catalog/migrations").items())
    assert [ops for _, ops in catalog] == [["CreateModel", "CreateModel"], ["AddField"]]
    first, second = (
        (project.root / "catalog/migrations" / name).read_text().replace('"', "'")
        for name, _ in catalog
    )
    assert "name='promotion'" in second
    assert "name='product_title'" in first

    report = deploy(project)
    assert "No migrations to apply." in report["migrate"]["out"], report["migrate"]
    assert report["makemigrations"]["code"] == 0, report["makemigrations"]
    fresh = project.new_database()
    project.use_databases(default=fresh, old=old)
    project.manage("migrate")
    assert schema_diff(project, old, fresh) == []
