"""Remake random histories nobody here wrote, and check every promise on each.

``tests/random_history.py`` grows a small project from a seed with Django's own
``makemigrations``, ``--merge`` and ``squashmigrations``. For each history:

* ``remakemigrations --no-input`` succeeds, or refuses cleanly (one message,
  no traceback, the tree byte-identical);
* a database fully migrated with the old history then applies nothing and
  ``makemigrations --check`` finds nothing;
* a fresh database built from the new history has the old one's schema;
* with the old files deleted, E001 catches every part-way database; with them
  kept (``--keep-old-migrations``), ``migrate`` finishes every one of them;
* ``delete_remaked_migrations`` afterwards leaves ``migrate`` a no-op.

By default it tries ``REMAKE_RANDOM_HISTORIES=2`` histories from seed
``REMAKE_RANDOM_SEED=1``; set them for a larger run (docs/development.md).
Marked ``slow``: each history builds a database per state. A failure names its seed and prints the history.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from .backends import Database
from .harness import Project
from .random_history import grow
from .runs import run, single_error
from .test_histories import (
    assert_deployed,
    assert_every_state_finishes,
    assert_fresh_database_runs_new_history,
    assert_part_way_states_are_refused,
)
from .test_states import build_states

COUNT = int(os.environ.get("REMAKE_RANDOM_HISTORIES", "2"))
FIRST_SEED = int(os.environ.get("REMAKE_RANDOM_SEED", "1"))


@pytest.fixture
def projects(tmp_path: Path) -> Iterator[list[Project]]:
    made: list[Project] = []
    yield made
    for project in made:
        project.close()


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(FIRST_SEED, FIRST_SEED + COUNT))
def test_random_history(
    tmp_path: Path, backend: str, seed: int, projects: list[Project]
) -> None:
    project = Project(tmp_path / "old", backend)
    projects.append(project)
    project.use_databases(default=project.new_database())
    log: list[str] = []
    try:
        apps = grow(project, seed, log)
        check_every_promise(project, apps, tmp_path / "kept", projects)
    except Exception as exc:
        history = "\n".join(f"  {line}" for line in log) or "  (not grown)"
        raise AssertionError(
            f"random history, seed {seed} on {backend}; replay it with\n"
            f"  REMAKE_RANDOM_SEED={seed} REMAKE_RANDOM_HISTORIES=1 "
            f"REMAKE_TEST_BACKENDS={backend} pytest tests/test_random_histories.py\n"
            f"history:\n{history}\n{type(exc).__name__}: {exc}"
        ) from exc


def remake(project: Project, *args: str) -> bool:
    """True when the remake wrote; False when it refused, cleanly."""
    before = project.tree_hashes()
    done = run(project, "remakemigrations", "--no-input", *args)
    if done.returncode == 0:
        return True
    single_error(done)
    assert project.tree_hashes() == before, "a refused remake changed files"
    return False


def check_every_promise(
    project: Project, apps: list[str], kept_root: Path, projects: list[Project]
) -> None:
    folders = {app: f"{app}/migrations" for app in apps}
    project.manage("migrate")
    old_db = project.databases[0]
    _order, prefixes = build_states(project, tuple(apps))
    shutil.copytree(project.root, kept_root)
    kept = Project(kept_root, project.backend)
    projects.append(kept)

    # old files deleted: the databases the old history left
    if remake(project):
        assert_deployed(project, folders)
        assert_part_way_states_are_refused(project, prefixes)
        assert_fresh_database_runs_new_history(project, folders, old_db)
        fresh = project.databases[-1]
        project.manage("delete_remaked_migrations")
        assert_migrate_applies_nothing(project, default=old_db, fresh=fresh)

    # old files kept: migrate finishes every state (p0 is a fresh database);
    # the last state is also the fully migrated database for this copy
    full = prefixes[f"p{len(prefixes) - 1}"]
    kept.databases.append(full)  # dropped twice: harmless
    kept.use_databases(default=full)
    if remake(kept, "--keep-old-migrations"):
        assert_deployed(kept, folders)
        assert_every_state_finishes(kept, prefixes)
        kept.use_databases(default=full, **prefixes)
        kept.manage("delete_remaked_migrations", "--remove-replaced")
        assert_migrate_applies_nothing(kept, default=full, **prefixes)


MIGRATE_IS_NO_OP = """
import io, json
from django.core.management import call_command
from django.db import connections

changed = {}
for alias in connections:
    out = io.StringIO()
    call_command("migrate", database=alias, stdout=out, no_color=True)
    if "No migrations to apply." not in out.getvalue():
        changed[alias] = out.getvalue()
print(json.dumps(changed))
"""


def assert_migrate_applies_nothing(project: Project, **aliases: Database) -> None:
    """``migrate`` on each database applies nothing; ``makemigrations --check``
    finds nothing."""
    project.use_databases(**aliases)
    assert json.loads(project.python(MIGRATE_IS_NO_OP)) == {}
    project.manage("makemigrations", "--check", "--dry-run")
