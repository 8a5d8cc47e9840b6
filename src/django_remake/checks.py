"""System checks: settings that have no effect, and half-deployed remakes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from . import conf
from .partway import Key, disk_migrations, find_part_way, recorded


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
    before it does. It never builds a migration graph: without remade
    migrations it costs a listing of the migration folders, and a history that
    does not load is Django's to report.
    """
    if not databases:
        return []
    disk = disk_migrations()
    if disk is None or not disk.remade:
        return []
    messages: list[CheckMessage] = []
    for alias in databases:
        applied = recorded(alias).applied
        if applied is None:
            continue  # no history; Django's own checks report unreachable ones
        state = find_part_way(disk, alias, set(applied))
        if state is None or not state.missing_files:
            continue
        lacking = len(state.missing_files)
        messages.append(
            Error(
                f"Database '{alias}' is part-way through the migration history that "
                f"the remade migrations replace: it has applied {len(state.applied)} "
                f"of the {len(state.applied) + len(state.unapplied)} old migrations, "
                f"and {lacking} {'migration' if lacking == 1 else 'migrations'} it "
                f"lacks {'is' if lacking == 1 else 'are'} no longer on disk: "
                f"{_names(state.missing_files)}.",
                hint="Deploy the release from before the remake (with the old "
                "migration files) to this database and run `python manage.py migrate "
                f"--database {alias}` to finish the old history; then deploy the "
                "remake.",
                id="django_remake.E001",
            )
        )
    return messages
