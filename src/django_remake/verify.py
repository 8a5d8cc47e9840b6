"""Verify: after the write, ask a fresh Python process what Django now sees.

This process has imported the old migration modules, so the check runs in a
child (``python -m django_remake.verify``) that loads the files from disk as a
deploy would: per database alias, the migrate plan must be empty, and the
autodetector must find no changes (what ``makemigrations --check`` reports,
without calling a command that projects sometimes override).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from .errors import VerifyError
from .project import environ_for_subprocess


@dataclass
class Verification:
    plans: dict[str, list[str]] = field(default_factory=dict)
    changes: dict[str, list[str]] = field(default_factory=dict)
    error: str = ""

    def problems(self) -> list[str]:
        lines = []
        if self.error:
            lines.append(self.error)
        for alias, plan in self.plans.items():
            if plan:
                lines.append(f"database '{alias}' would still apply: {', '.join(plan)}")
        for app_label, operations in self.changes.items():
            lines.append(
                f"makemigrations would still write for '{app_label}': {'; '.join(operations)}"
            )
        return lines


def verify(aliases: Sequence[str]) -> Verification:
    """Run the checks in a child process and return what it found."""
    result = subprocess.run(
        [sys.executable, "-m", "django_remake.verify", *aliases],
        env=environ_for_subprocess(),
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if result.returncode != 0:
        tail = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        return Verification(
            error=f"the new history does not load in a fresh process: {tail}"
        )
    data = json.loads(result.stdout)
    return Verification(plans=data["plans"], changes=data["changes"])


def require_clean(verification: Verification) -> None:
    problems = verification.problems()
    if problems:
        raise VerifyError("Verification failed:\n  " + "\n  ".join(problems))


def _child(aliases: Sequence[str]) -> dict[str, object]:
    import django

    django.setup()
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
        raise SystemExit(f"conflicting leaf migrations: {conflicts}")
    autodetector = MigrationAutodetector(
        loader.project_state(),
        ProjectState.from_apps(apps),
        MigrationQuestioner(dry_run=True),
    )
    changes = autodetector.changes(graph=loader.graph)
    return {
        "plans": plans,
        "changes": {
            label: [op.describe() for m in migs for op in m.operations]
            for label, migs in changes.items()
        },
    }


if __name__ == "__main__":
    print(json.dumps(_child(sys.argv[1:])))
