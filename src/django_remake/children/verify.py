"""Child side of :mod:`django_remake.verify`: what Django sees in the files on disk.

Per database alias, the plan ``migrate`` would run; then what the autodetector
would write (``makemigrations --check``, without calling a command that
projects sometimes override).
"""

from __future__ import annotations

import sys
from typing import Any

from . import Failed, serve


def check(aliases: list[str]) -> dict[str, Any]:
    from django.apps import apps
    from django.db import connections
    from django.db.migrations.autodetector import MigrationAutodetector
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.questioner import MigrationQuestioner
    from django.db.migrations.state import ProjectState

    plans: dict[str, list[str]] = {}
    for alias in aliases:
        connection = connections[alias]
        executor = MigrationExecutor(connection)
        executor.loader.check_consistent_history(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        plans[alias] = [f"{m.app_label}.{m.name}" for m, _backwards in plan]
    loader = MigrationLoader(None, ignore_no_migrations=True)
    conflicts = loader.detect_conflicts()
    if conflicts:
        described = "; ".join(
            f"{', '.join(names)} in '{app}'" for app, names in sorted(conflicts.items())
        )
        raise Failed(f"conflicting leaf migrations: {described}")
    autodetector = MigrationAutodetector(
        loader.project_state(),
        ProjectState.from_apps(apps),
        MigrationQuestioner(dry_run=True),
    )
    changes = autodetector.changes(graph=loader.graph)
    return {
        "plans": plans,
        "changes": {
            label: [str(op.describe()) for m in migs for op in m.operations]
            for label, migs in changes.items()
        },
    }


if __name__ == "__main__":
    sys.exit(serve(check))
