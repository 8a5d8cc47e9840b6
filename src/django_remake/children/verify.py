"""Child side of :mod:`django_remake.verify`: what Django sees in the files on disk.

Per database alias, the plan ``migrate`` would run; then what the autodetector
would write (``makemigrations --check``, without calling a command that
projects sometimes override), asked only when the history's model states and
the models' differ (:mod:`django_remake.samestate`).
"""

from __future__ import annotations

import sys
from typing import Any

from . import Failed, serve


def check(aliases: list[str]) -> dict[str, Any]:
    from django.apps import apps
    from django.db import connections
    from django.db.migrations.autodetector import MigrationAutodetector
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.migration import Migration
    from django.db.migrations.questioner import MigrationQuestioner
    from django.db.migrations.recorder import MigrationRecorder
    from django.db.migrations.state import ProjectState

    from django_remake.partway import database_plan
    from django_remake.samestate import same_models

    # One graph for every question, as makemigrations loads it; a database
    # whose squashes are partly applied gets Django's graph of its own.
    loader = MigrationLoader(None, ignore_no_migrations=True)
    plans: dict[str, list[str]] = {}
    for alias in aliases:
        connection = connections[alias]
        applied = set(MigrationRecorder(connection).applied_migrations())
        plan = database_plan(loader, connection, applied)
        plans[alias] = [f"{m.app_label}.{m.name}" for m, _backwards in plan]
    conflicts = loader.detect_conflicts()
    if conflicts:
        described = "; ".join(
            f"{', '.join(names)} in '{app}'" for app, names in sorted(conflicts.items())
        )
        raise Failed(f"conflicting leaf migrations: {described}")
    history = loader.project_state()
    models = ProjectState.from_apps(apps)
    changes: dict[str, list[Migration]] = {}
    if not same_models(history, models):
        changes = MigrationAutodetector(
            history, models, MigrationQuestioner(dry_run=True)
        ).changes(graph=loader.graph)
    return {
        "plans": plans,
        "changes": {
            label: [str(op.describe()) for m in migs for op in m.operations]
            for label, migs in changes.items()
        },
    }


if __name__ == "__main__":
    sys.exit(serve(check))
