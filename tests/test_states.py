"""Deploy a remake to databases in every state the old history can leave them in.

For a history, take one topological order of its first-party migrations and
build a database at every prefix of it (each prefix with the third-party
migrations it needs): the empty one (a fresh database), every part-way one,
and the full one. Then deploy the remade files and run ``migrate`` on each.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from .harness import Database, Project

BUILD_PREFIXES = """
import json
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

FIRST_PARTY = {first_party!r}
loader = MigrationLoader(None, ignore_no_migrations=True)
order = []
for leaf in sorted(loader.graph.leaf_nodes()):
    for key in loader.graph.forwards_plan(leaf):
        if key[0] in FIRST_PARTY and key not in order:
            order.append(key)
for count in range(len(order) + 1):
    connection = connections[f"p{{count}}"]
    executor = MigrationExecutor(connection)
    plan, seen = [], set()
    for target in order[:count]:
        for key in executor.loader.graph.forwards_plan(target):
            if key not in seen:
                seen.add(key)
                plan.append((executor.loader.graph.nodes[key], False))
    executor.migrate(order[:count], plan=plan)
print(json.dumps(order))
"""

MIGRATE_EACH = """
import io, json
from django.core.management import call_command
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder
from django_remake.schema import diff_schemas, read_schema

full = read_schema(connections["default"])
results = {{}}
for count in range({count}):
    alias = f"p{{count}}"
    out = io.StringIO()
    try:
        call_command("migrate", database=alias, stdout=out, verbosity=1)
        error = ""
    except Exception as exc:  # the test reports which state failed, and how
        error = f"{{type(exc).__name__}}: {{exc}}"
    applied = sorted(MigrationRecorder(connections[alias]).applied_migrations())
    results[alias] = {{
        "error": error,
        "diff": diff_schemas(full, read_schema(connections[alias])) if not error else [],
        "applied": applied,
    }}
print(json.dumps(results))
"""

CHECK_EACH = """
import io, json
from django.core.management import call_command
from django.core.management.base import SystemCheckError

results = {{}}
for count in range({count}):
    alias = f"p{{count}}"
    try:
        call_command("check", databases=[alias], stdout=io.StringIO(), stderr=io.StringIO())
        results[alias] = ""
    except SystemCheckError as exc:
        results[alias] = str(exc)
print(json.dumps(results))
"""

HISTORIES = {"crossapp": ("accounts", "catalog", "orders"), "shop": ("shop",)}


def build_states(
    project: Project, first_party: tuple[str, ...]
) -> tuple[list[tuple[str, str]], dict[str, Database]]:
    full = project.databases[0]
    order_size_probe = project.python(
        """
        from django.db.migrations.loader import MigrationLoader
        loader = MigrationLoader(None, ignore_no_migrations=True)
        print(sum(1 for key in loader.graph.nodes if key[0] in FIRST_PARTY))
        """.replace("FIRST_PARTY", repr(first_party))
    )
    count = int(order_size_probe) + 1
    prefixes = {f"p{i}": project.new_database() for i in range(count)}
    project.use_databases(default=full, **prefixes)
    order = json.loads(project.python(BUILD_PREFIXES.format(first_party=first_party)))
    project.use_databases(default=full)
    return [tuple(key) for key in order], prefixes


def remade_names(project: Project) -> set[tuple[str, str]]:
    return {
        tuple(row)
        for row in json.loads(
            project.python(
                """
                import json
                from django.db.migrations.loader import MigrationLoader
                loader = MigrationLoader(None, ignore_no_migrations=True)
                print(json.dumps([k for k in loader.disk_migrations if "_remaked_" in k[1]]))
                """
            )
        )
    }


@pytest.mark.slow
@pytest.mark.parametrize("history", sorted(HISTORIES))
def test_every_state_with_old_files_kept(
    make_project: Callable[[str], Project], history: str
) -> None:
    project = make_project(history)
    project.manage("migrate")
    order, prefixes = build_states(project, HISTORIES[history])
    assert len(prefixes) == len(order) + 1 >= 2

    project.manage("remakemigrations", "--no-input", "--keep-old-migrations")
    remade = remade_names(project)

    project.use_databases(default=project.databases[0], **prefixes)
    results = json.loads(project.python(MIGRATE_EACH.format(count=len(prefixes))))
    for alias, result in results.items():
        assert result["error"] == "", f"{alias}: {result['error']}"
        assert result["diff"] == [], f"{alias}: {result['diff']}"
        applied = {tuple(row) for row in result["applied"]}
        assert remade <= applied, f"{alias}: not recorded {remade - applied}"


@pytest.mark.slow
@pytest.mark.parametrize("history", sorted(HISTORIES))
def test_every_state_with_old_files_deleted(
    make_project: Callable[[str], Project], history: str
) -> None:
    project = make_project(history)
    project.manage("migrate")
    order, prefixes = build_states(project, HISTORIES[history])

    project.manage("remakemigrations", "--no-input")

    project.use_databases(default=project.databases[0], **prefixes)
    results = json.loads(project.python(CHECK_EACH.format(count=len(prefixes))))
    last = f"p{len(order)}"
    for alias, error in results.items():
        if alias in ("p0", last):
            assert error == "", f"{alias} is fresh or complete: {error}"
        else:
            assert "django_remake.E001" in error, alias
            assert f"Database '{alias}' is part-way through" in error
            assert f"python manage.py migrate --database {alias}" in error
    # migrate itself refuses such a database, before running anything
    project.use_databases(default=prefixes["p1"])
    refused = project.manage("migrate", ok=False)
    assert "django_remake.E001" in refused.stderr
