"""django-linear-migrations: each app's ``max_migration.txt`` names its leaf.

When ``django_linear_migrations`` is installed, its system check wants a
``max_migration.txt`` in every first-party migrations folder naming the app's
latest migration, and fails the next ``makemigrations`` otherwise. A remake
changes every remade app's latest migration, and so may a clean-up; both put
the new name in the file within their all-or-nothing write, with no setting.

Nothing here touches disk except to read the current files: the updates come
back as data for :mod:`django_remake.apply` to write.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.apps import apps
from django.db.migrations.loader import MigrationLoader

from .errors import NotReady

if TYPE_CHECKING:
    from .plan import NewMigration, Plan

APP = "django_linear_migrations"
FILENAME = "max_migration.txt"


@dataclass(frozen=True)
class MaxMigration:
    """A ``max_migration.txt`` to write: its path, and the migration it names."""

    app_label: str
    path: Path
    name: str

    @property
    def data(self) -> bytes:
        return f"{self.name}\n".encode()  # as create_max_migration_files writes it


def enabled() -> bool:
    return apps.is_installed(APP)


def _tracked(app_label: str) -> bool:
    """Does django-linear-migrations check this app (its FIRST_PARTY_APPS
    setting, or its own guess)?

    ``is_first_party_app_config`` is a module-level function of its
    ``apps`` module, not a documented API: if a release renames it, every
    app counts, which is what the package does without that setting.
    """
    try:
        module = importlib.import_module(f"{APP}.apps")
        decide = module.is_first_party_app_config
    except (ImportError, AttributeError):
        return True
    return bool(decide(apps.get_app_config(app_label)))


def updates(leaves: Mapping[str, tuple[Path, str]]) -> list[MaxMigration]:
    """The files to write, given each app's migrations folder and latest
    migration name; none where the file already names it, or where the
    package is not installed or does not check the app."""
    if not enabled():
        return []
    found = []
    for label, (directory, name) in leaves.items():
        if not _tracked(label):
            continue
        path = directory / FILENAME
        if path.is_file() and path.read_text(encoding="utf-8").strip() == name:
            continue
        found.append(MaxMigration(label, path, name))
    return found


def leaf_of(names: Iterable[str], dependencies: Mapping[str, Iterable[str]]) -> str:
    """The one of ``names`` that no other of them depends on (the last one
    by name if that is not a single migration, as in a conflict)."""
    ordered = sorted(names)
    needed = {dep for name in ordered for dep in dependencies.get(name, ())}
    leaves = [name for name in ordered if name not in needed]
    return leaves[-1] if leaves else ordered[-1]


def after_remake(plan: Plan) -> list[MaxMigration]:
    """Each remade app's file, naming its latest new migration."""
    by_app: dict[str, list[NewMigration]] = {}
    for item in plan.new:
        by_app.setdefault(item.migration.app_label, []).append(item)
    leaves = {}
    for label, items in by_app.items():
        dependencies = {
            item.migration.name: [
                name for app, name in item.migration.dependencies if app == label
            ]
            for item in items
        }
        leaves[label] = (items[0].path.parent, leaf_of(dependencies, dependencies))
    return updates(leaves)


def after_cleanup(directories: Mapping[str, Path]) -> list[MaxMigration]:
    """Each app's file, naming its latest migration once ``replaces`` is gone.

    Django's loader without a connection puts every remade migration in place
    of those it replaces, and points their dependents at it: the graph a
    clean-up leaves. An app with more than one leaf (a conflict) is left to
    django-linear-migrations' own check.
    """
    if not enabled():
        return []
    try:
        graph = MigrationLoader(None, ignore_no_migrations=True).graph
    except Exception as exc:  # the project's own migrations do not load
        raise NotReady(
            "django-linear-migrations is installed, and the migrations do not "
            f"load, so their latest names are unknown: {type(exc).__name__}: "
            f"{exc}. Fix the migrations first; nothing was changed."
        ) from exc
    leaves = {}
    for label, directory in directories.items():
        nodes = graph.leaf_nodes(label)
        if len(nodes) == 1:
            leaves[label] = (directory, nodes[0][1])
    return updates(leaves)
