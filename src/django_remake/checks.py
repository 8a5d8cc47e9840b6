"""System checks: settings that have no effect, and half-deployed remakes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from . import conf

Key = tuple[str, str]
REMAKED = "_remaked_"


@register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Validate the settings early, and flag the ones django-remake ignores."""
    try:
        loaded = conf.load()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="django_remake.E002")]
    messages: list[CheckMessage] = []
    if loaded.replaces_all or loaded.replace_other_app:
        messages.append(
            Warning(
                "REMAKE_MIGRATIONS_REPLACES_ALL and REMAKE_MIGRATIONS_REPLACE_OTHER_APP "
                "have no effect.",
                hint="django-remake computes `replaces` so that fresh, fully "
                "migrated and part-way databases all work; remove these settings.",
                id="django_remake.W001",
            )
        )
    return messages


@dataclass(frozen=True)
class PartWay:
    """A database that applied part of the history a remake replaced."""

    alias: str
    applied: list[Key]
    unapplied: list[Key]
    missing_files: list[Key]


def remade_replacements(loader: MigrationLoader) -> dict[Key, list[Key]]:
    """Remade migrations on disk that still replace something, and what."""
    return {
        key: [(str(a), str(n)) for a, n in migration.replaces]
        for key, migration in loader.disk_migrations.items()
        if REMAKED in key[1] and migration.replaces
    }


def find_part_way(
    loader: MigrationLoader, alias: str, applied: set[Key]
) -> PartWay | None:
    """Has this database run part of the old history, but not all of it?

    Names recorded because a remade migration was applied (Django records what
    a replacing migration replaces) do not count: a new database that stopped
    half-way through the *new* history is not part-way through the old one.
    """
    remade = remade_replacements(loader)
    explained = {
        name for key, names in remade.items() if key in applied for name in names
    }
    old_progress = [
        name
        for names in remade.values()
        for name in names
        if name in applied and name not in explained
    ]
    todo: list[Key] = []
    for key, names in remade.items():
        if key not in applied:
            todo.extend(
                name for name in names if name not in applied and name not in todo
            )
    if not old_progress or not todo:
        return None
    missing = [name for name in todo if name not in loader.disk_migrations]
    return PartWay(alias, sorted(set(old_progress)), todo, missing)


def _names(keys: Sequence[Key], limit: int = 8) -> str:
    shown = ", ".join(f"{a}.{n}" for a, n in keys[:limit])
    more = len(keys) - limit
    return shown + (f" and {more} more" if more > 0 else "")


@register(Tags.database)
def check_part_way_databases(
    app_configs: Any = None, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """A database part-way through the replaced history, with those files gone.

    Django would silently treat the missing schema as applied; stop ``migrate``
    before it does.
    """
    if not databases:
        return []
    loader = MigrationLoader(None, ignore_no_migrations=True)
    if not remade_replacements(loader):
        return []
    messages: list[CheckMessage] = []
    for alias in databases:
        recorder = MigrationRecorder(connections[alias])
        try:
            if not recorder.has_table():
                continue
            applied = set(recorder.applied_migrations())
        except DatabaseError:
            continue  # Django's own checks report unreachable databases
        state = find_part_way(loader, alias, applied)
        if state is None or not state.missing_files:
            continue
        messages.append(
            Error(
                f"Database '{alias}' is part-way through the migration history that "
                f"the remade migrations replace: {len(state.applied)} of "
                f"{len(state.applied) + len(state.unapplied)} old migrations are "
                f"applied, and these are not applied and no longer on disk: "
                f"{_names(state.missing_files)}.",
                hint="Deploy the release from before the remake (with the old "
                "migration files) to this database and run `python manage.py migrate "
                f"--database {alias}` to finish the old history; then deploy the "
                "remake.",
                id="django_remake.E001",
            )
        )
    return messages
