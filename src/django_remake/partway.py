"""Finish the old history on a database that is part-way through it.

Django cannot do this by itself once remade migrations sit beside the old
files: a remade migration whose replaced set is partly applied is dropped, but
one whose replaced set is untouched would run on top of the old schema (see
docs/replaces.md). So, before the ordinary ``migrate``, the old migrations that
are still missing run with replacements switched off, exactly as they would
have before the remake, and then the remade migrations are recorded.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.migration import Migration
from django.db.migrations.recorder import MigrationRecorder

from .checks import find_part_way, remade_replacements
from .errors import NotReady

Key = tuple[str, str]


def finish_old_history(
    connection: BaseDatabaseWrapper, report: Callable[[str], None]
) -> list[Key]:
    """Apply the rest of the old history if the database is part-way through it.

    Returns the remade migrations it recorded; does nothing (and returns ``[]``)
    unless the database is part-way and every old file it needs is on disk.
    """
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return []
    loader = MigrationLoader(connection, replace_migrations=False)
    applied = set(recorder.applied_migrations())
    state = find_part_way(loader, connection.alias, applied)
    if state is None or state.missing_files:
        return []  # nothing to do, or the system check explains what to deploy
    remade = remade_replacements(loader)
    squashes = {
        key: m
        for key, m in loader.disk_migrations.items()
        if m.replaces
        and key not in remade
        and all(tuple(r) in loader.disk_migrations for r in m.replaces)
    }
    while squashes:
        inner = {tuple(r) for m in squashes.values() for r in m.replaces}
        key = min(k for k in squashes if k not in inner)
        loader.graph.remove_replacement_node(key, squashes.pop(key).replaces)
    executor = MigrationExecutor(connection)
    executor.loader = loader
    # Django's migration_plan() reads a target in an app that is behind another
    # target of the same app as a request to go back; build the forward plan.
    plan: list[tuple[Migration, bool]] = []
    planned = set(applied)
    targets = [t for t in state.unapplied if t in loader.graph.nodes]
    for target in targets:
        for key in loader.graph.forwards_plan(target):
            if key not in planned:
                planned.add(key)
                plan.append((loader.graph.nodes[key], False))
    blocked = [
        f"{m.app_label}.{m.name}" for m, _ in plan if (m.app_label, m.name) in remade
    ]
    if blocked:
        raise NotReady(
            f"Database '{connection.alias}' is part-way through the old history, and "
            f"finishing it would need the remade migrations {', '.join(blocked)}. "
            "Deploy the release from before the remake to this database and run "
            "`migrate` there first."
        )
    report(
        f"Database '{connection.alias}' is part-way through the history that the "
        f"remade migrations replace; applying the {len(plan)} old migrations it lacks first."
    )
    executor.migrate(targets, plan=plan)
    applied = set(recorder.applied_migrations())
    recorded = []
    for key, names in sorted(remade.items()):
        if key not in applied and all(name in applied for name in names):
            recorder.record_applied(*key)
            recorded.append(key)
    return recorded
