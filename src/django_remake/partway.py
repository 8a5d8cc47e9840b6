"""Databases part-way through the history that remade migrations replace.

A database is *part-way* when it applied some of the old migrations that remade
migrations replace, but not all of them. Django cannot finish such a history
by itself once remade migrations sit beside the old files: a remade migration
whose replaced set is partly applied is dropped, but one whose replaced set is
untouched would run on top of the old schema (see docs/replaces.md). So,
before the ordinary ``migrate``, the old migrations that are still missing run
on the graph as it was before the remake, and then the remade migrations are
recorded.

Telling whether a database is part-way must cost next to nothing, because the
system check and ``migrate`` ask on every run of every project that installs
the app. It needs only the names of the migration files, what the remade ones
replace, and the recorded rows: no migration graph. The graph of the old
history is built only when a database really has to be finished.
"""

from __future__ import annotations

import copy
import os
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.apps import apps
from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.exceptions import CircularDependencyError, NodeNotFoundError
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.migration import Migration
from django.db.migrations.recorder import MigrationRecorder

from .errors import NotReady

Key = tuple[str, str]


@dataclass(frozen=True)
class Recorded:
    """What one database's ``django_migrations`` table holds."""

    #: the applied migrations; ``None`` when the database has no such table or
    #: could not be read
    applied: frozenset[Key] | None
    #: the first line of the database's error, when it could not be read
    error: str | None = None


def recorded(alias: str) -> Recorded:
    """Read the migration rows of database ``alias``, never raising for it."""
    recorder = MigrationRecorder(connections[alias])
    try:
        if not recorder.has_table():
            return Recorded(None)
        return Recorded(frozenset(recorder.applied_migrations()))
    except DatabaseError as exc:
        lines = str(exc).strip().splitlines()
        return Recorded(None, error=lines[0] if lines else type(exc).__name__)


#: in the name of every remade migration: ``NNNN_remaked_YYYYMMDD[_N]``
REMAKED = "_remaked_"


@dataclass(frozen=True)
class DiskMigrations:
    """The migration files of the installed apps, read without building a graph."""

    #: every migration on disk, named as Django's loader names them
    names: frozenset[Key]
    #: remade migrations that still replace something, and what they replace
    remade: Mapping[Key, tuple[Key, ...]]
    #: app label -> its migrations package
    packages: Mapping[str, str] = field(default_factory=dict)

    def replaced_by(self, keys: Iterable[Key]) -> set[Key] | None:
        """What these migrations on disk replace: the originals a squash runs.

        Imports them, so it is asked only of a part-way database. ``None`` when
        one does not import: Django's loader reports that, in its words.
        """
        found: set[Key] = set()
        for label, name in keys:
            try:
                migration = import_module(f"{self.packages[label]}.{name}").Migration
                found.update((str(a), str(n)) for a, n in migration.replaces)
            except Exception:
                return None
        return found


def read_disk() -> DiskMigrations | None:
    """List the migration packages and read ``replaces`` of the remade files.

    A project without remade migrations costs one directory listing per app.
    Only the remade migrations are imported. ``None`` means one of them could
    not be imported or has no readable ``replaces``: Django's loader imports
    every file and reports that error itself, with its own message.
    """
    packages: dict[str, tuple[str, list[str]]] = {}
    for app_config in apps.get_app_configs():
        package, _explicit = MigrationLoader.migrations_module(app_config.label)
        if package is None:
            continue  # MIGRATION_MODULES = {label: None}
        try:
            spec = find_spec(package)
        except (ImportError, ValueError):
            continue  # Django's loader decides what a missing package means
        if spec is None or spec.origin is None or not spec.submodule_search_locations:
            continue  # missing, a namespace package, or a single module
        packages[app_config.label] = (package, list(spec.submodule_search_locations))
    if not any(
        REMAKED in entry
        for _package, locations in packages.values()
        for location in locations
        for entry in _listdir(location)
    ):
        return DiskMigrations(frozenset(), {})
    names: set[Key] = set()
    remade: dict[Key, tuple[Key, ...]] = {}
    for label, (package, locations) in packages.items():
        for _finder, name, is_package in pkgutil.iter_modules(locations):
            if is_package or name[0] in "_~":  # skipped by Django's loader too
                continue
            names.add((label, name))
            if REMAKED not in name:
                continue
            try:
                migration = import_module(f"{package}.{name}").Migration
                replaces = tuple((str(a), str(n)) for a, n in migration.replaces)
            except Exception:  # any error here is Django's to report, in its words
                return None
            if replaces:
                remade[label, name] = replaces
    return DiskMigrations(
        frozenset(names),
        remade,
        {label: package for label, (package, _locations) in packages.items()},
    )


def _listdir(location: str) -> list[str]:
    try:
        return os.listdir(location)
    except OSError:
        return []


_reading: ContextVar[Callable[[], DiskMigrations | None] | None] = ContextVar(
    "django_remake_disk_migrations", default=None
)


@contextmanager
def one_reading() -> Iterator[None]:
    """Read the migration files at most once within this block.

    ``migrate`` wraps its whole run in this, so that the system check and the
    command share one reading; a later run reads the files afresh.
    """
    token = _reading.set(cache(read_disk))
    try:
        yield
    finally:
        _reading.reset(token)


def disk_migrations() -> DiskMigrations | None:
    """The reading of the enclosing :func:`one_reading` block, or a fresh one."""
    reading = _reading.get()
    return reading() if reading is not None else read_disk()


@dataclass(frozen=True)
class PartWay:
    """A database that applied part of the history a remake replaced."""

    alias: str
    applied: list[Key]
    unapplied: list[Key]
    missing_files: list[Key]


def find_part_way(
    disk: DiskMigrations, alias: str, applied: set[Key]
) -> PartWay | None:
    """Has this database run part of the old history, but not all of it?

    Names recorded because a remade migration was applied (Django records what
    a replacing migration replaces) do not count: a new database that stopped
    half-way through the *new* history is not part-way through the old one.
    """
    explained = {
        name for key, names in disk.remade.items() if key in applied for name in names
    }
    old_progress = {
        name
        for names in disk.remade.values()
        for name in names
        if name in applied and name not in explained
    }
    todo: list[Key] = []
    for key, names in sorted(disk.remade.items()):
        if key not in applied:
            todo.extend(
                name for name in names if name not in applied and name not in todo
            )
    if not old_progress or not todo:
        return None
    missing = [name for name in todo if name not in disk.names]
    if missing:
        # A squash the project kept, whose originals it deleted before the
        # remake: running the squash records them, so they are not missing.
        squashed = disk.replaced_by(key for key in todo if key in disk.names)
        missing = [name for name in missing if name not in (squashed or ())]
    return PartWay(alias, sorted(old_progress), todo, missing)


class HistoryBeforeRemake(MigrationLoader):
    """The graph Django built before the remake.

    The remade migrations stay in the graph but replace nothing, so the old
    migrations, and any squashed migrations among them, are resolved exactly
    as they were before the remake.
    """

    def load_disk(self) -> None:
        super().load_disk()
        for (_app, name), migration in self.disk_migrations.items():
            if REMAKED in name:
                migration.replaces = []  # type: ignore[misc]  # an instance copy


class ExecutorOnLoader(MigrationExecutor):
    """Django's executor, on a loader given to it.

    ``MigrationExecutor.__init__`` builds a loader of its own: a second graph,
    and the wrong one. This sets the same four attributes instead (Django 5.2
    to 6.1); ``tests/test_migrate_wrapper.py`` counts the graphs built.
    """

    def __init__(
        self,
        connection: BaseDatabaseWrapper,
        loader: MigrationLoader,
        progress_callback: Callable[..., Any] | None,
    ) -> None:
        self.connection = connection
        self.loader = loader
        self.recorder = MigrationRecorder(connection)
        self.progress_callback = progress_callback


def plan_on_loaded_graph(
    loader: MigrationLoader, connection: BaseDatabaseWrapper, applied: set[Key]
) -> list[tuple[Migration, bool]] | None:
    """What ``migrate`` would apply on a database that recorded ``applied``,
    from ``loader``, a graph loaded without a connection.

    Django's executor builds a graph of its own for each database: on a large
    history that costs as much as the first one. The two graphs differ only
    where a squashed migration's replaced migrations are partly applied (then
    Django keeps the replaced ones) or where a squash replaces another squash
    (resolved recursively, differently on Django 5.2 and 6.x); for those this
    returns ``None`` and the caller asks Django's executor. Otherwise the
    graph is the same, the applied set is the one Django's loader would build
    (a squash counts as applied when everything it replaces is), and the plan
    and the consistency check are Django's own, run on it. Raises
    ``InconsistentMigrationHistory`` as ``check_consistent_history`` does.
    ``tests/test_safety.py`` compares both on every state of a history.
    """
    # Django keeps the django_migrations rows as values; only the keys are read.
    view: dict[Key, Any] = dict.fromkeys(applied)
    for key, migration in loader.replacements.items():
        replaced = [tuple(target) for target in migration.replaces]
        if any(target in loader.replacements for target in replaced):
            return None
        statuses = [target in applied for target in replaced]
        if all(statuses):
            view[key] = migration
        elif any(statuses):
            return None
        else:
            view.pop(key, None)
    loader.check_consistent_history(connection)
    database_view = copy.copy(loader)
    database_view.applied_migrations = view
    executor = ExecutorOnLoader(connection, database_view, None)
    plan: list[tuple[Migration, bool]] = executor.migration_plan(
        loader.graph.leaf_nodes()
    )
    return plan


def database_plan(
    loader: MigrationLoader, connection: BaseDatabaseWrapper, applied: set[Key]
) -> list[tuple[Migration, bool]]:
    """What ``migrate`` would apply on ``connection``'s database, after
    Django's consistency check: from ``loader``'s graph when
    :func:`plan_on_loaded_graph` can answer, else from Django's executor and
    the graph it builds for that database."""
    plan = plan_on_loaded_graph(loader, connection, applied)
    if plan is None:
        executor = MigrationExecutor(connection)
        executor.loader.check_consistent_history(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return plan


def finish_old_history(
    connection: BaseDatabaseWrapper,
    *,
    progress_callback: Callable[..., Any] | None = None,
    starting: Callable[[PartWay, int], None] | None = None,
) -> list[Key]:
    """Apply the rest of the old history if the database is part-way through it.

    ``starting`` hears how many old migrations are about to run, and
    ``progress_callback`` is Django's executor callback. Returns the remade
    migrations it recorded as applied. Does nothing (and returns ``[]``) unless
    the database is part-way, every old file it needs is on disk, and the old
    graph loads; otherwise Django's ``migrate`` (and the system check) decide.
    """
    disk = disk_migrations()
    if disk is None or not disk.remade:
        return []
    before = recorded(connection.alias).applied
    if before is None:
        return []  # no history yet, or Django's migrate reports the error
    state = find_part_way(disk, connection.alias, set(before))
    if state is None or state.missing_files:
        return []  # nothing to do, or the system check explains what to deploy
    try:
        loader = HistoryBeforeRemake(connection)
    except (NodeNotFoundError, CircularDependencyError):
        return []  # Django's own graph may still load: let its migrate decide
    # Django's migration_plan() reads a target in an app that is behind another
    # target of the same app as a request to go back; build the forward plan.
    plan: list[tuple[Migration, bool]] = []
    planned = set(loader.applied_migrations)
    targets = [key for key in state.unapplied if key in loader.graph.nodes]
    for target in targets:
        for key in loader.graph.forwards_plan(target):
            if key not in planned:
                planned.add(key)
                plan.append((loader.graph.nodes[key], False))
    blocked = [
        f"{m.app_label}.{m.name}"
        for m, _ in plan
        if (m.app_label, m.name) in disk.remade
    ]
    if blocked:
        raise NotReady(
            f"Database '{connection.alias}' is part-way through the old history, and "
            f"finishing it would need the remade migrations {', '.join(blocked)}. "
            "Deploy the release from before the remake to this database and run "
            f"`python manage.py migrate --database {connection.alias}` there first."
        )
    if plan:
        if starting is not None:
            starting(state, len(plan))
        ExecutorOnLoader(connection, loader, progress_callback).migrate(
            targets, plan=plan
        )
    recorder = MigrationRecorder(connection)
    applied = set(recorder.applied_migrations())
    done = []
    for key, names in sorted(disk.remade.items()):
        if key not in applied and all(name in applied for name in names):
            recorder.record_applied(*key)
            done.append(key)
    return done
