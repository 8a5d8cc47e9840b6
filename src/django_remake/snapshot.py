"""Inspect: everything a remake needs to know about the project, read-only.

A :class:`Snapshot` holds the migration graph as Django's loader builds it from
disk (no database involved), which apps are first-party, and, for every
database alias, which migrations it has recorded as applied. Nothing here
writes anything.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connections, router
from django.db.migrations.exceptions import (
    BadMigrationError,
    CircularDependencyError,
    InconsistentMigrationHistory,
    NodeNotFoundError,
)
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.migration import Migration
from django.db.migrations.state import ProjectState

from .errors import NotReady
from .partway import database_plan, recorded
from .project import ProjectApp, is_installed_path, migration_files, project_root
from .references import Reference, find

Key = tuple[str, str]


@dataclass
class Snapshot:
    """The project as found on disk and in its databases."""

    apps: list[ProjectApp]
    loader: MigrationLoader
    #: per alias, the (app_label, name) rows of django_migrations
    applied: dict[str, set[Key]]
    #: the first-party apps' migration files, as found on disk
    files: dict[str, list[Path]] = field(default_factory=dict)
    #: migrations of other apps that name first-party migrations
    references: list[Reference] = field(default_factory=list)
    #: the text of the files of those references that the remake may edit
    editable: dict[Path, str] = field(default_factory=dict)

    @property
    def labels(self) -> set[str]:
        return {app.label for app in self.apps}

    @property
    def graph(self) -> MigrationGraph:
        graph: MigrationGraph = self.loader.graph
        return graph

    @cached_property
    def old_state(self) -> ProjectState:
        """The state the old history ends in, replayed once (it is the costly part)."""
        state: ProjectState = self.loader.project_state()
        return state

    def old_nodes(self) -> list[Key]:
        """First-party nodes of the loaded graph, parents before children.

        Squashed migrations appear here instead of the migrations they replace,
        exactly as on a fresh database.
        """
        return list(self._old_nodes)

    @cached_property
    def _old_nodes(self) -> tuple[Key, ...]:
        labels = self.labels
        order: list[Key] = []
        seen: set[Key] = set()
        for leaf in sorted(self.graph.leaf_nodes()):
            for key in self.graph.forwards_plan(leaf):
                if key not in seen:
                    seen.add(key)
                    if key[0] in labels:
                        order.append(key)
        return tuple(order)

    def old_files(self) -> list[Path]:
        return [path for app in self.apps for path in self.files.get(app.label, [])]

    def recorded_names(self, key: Key) -> list[Key]:
        """The rows that applying ``key`` writes to django_migrations.

        A squashed migration records the migrations it replaces (recursively,
        through replaced migrations that are themselves on disk, as Django 6
        does); every supported Django version records at least these.
        """
        migration = self.loader.disk_migrations.get(key)
        if migration is None or not migration.replaces:
            return [key]
        result: list[Key] = []
        for replaced in migration.replaces:
            for name in self.recorded_names(tuple(replaced)):  # type: ignore[arg-type]
                if name not in result:
                    result.append(name)
        return result

    def known_names(self, app_label: str) -> set[str]:
        """Every migration name the app has used: on disk, replaced, or recorded."""
        names = {
            name for label, name in self.loader.disk_migrations if label == app_label
        }
        for migration in self.loader.disk_migrations.values():
            for label, name in migration.replaces or ():
                if label == app_label:
                    names.add(name)
        for rows in self.applied.values():
            names.update(name for label, name in rows if label == app_label)
        return names

    def migration(self, key: Key) -> Migration:
        migration: Migration = self.loader.disk_migrations[key]
        return migration


def load_graph() -> MigrationLoader:
    """Load every migration on disk, turning load failures into clear errors."""
    try:
        return MigrationLoader(None, ignore_no_migrations=True)
    except BadMigrationError as exc:
        raise NotReady(
            f"{exc} Fix or remove that file, then run the command again."
        ) from exc
    except NodeNotFoundError as exc:
        raise NotReady(
            f"The migration history does not load: {str(exc).rstrip('.')}. "
            "Restore the missing migration or fix the dependency, then run "
            "`python manage.py showmigrations` to confirm it loads."
        ) from exc
    except CircularDependencyError as exc:
        raise NotReady(
            f"The migration history has a dependency cycle: {exc}. Break the cycle "
            "in the migration files, then run `python manage.py showmigrations` to "
            "confirm it loads."
        ) from exc
    except Exception as exc:
        # Importing a migration module runs its code: anything it raises (a
        # SyntaxError, an ImportError, a NameError...) is a problem in that file.
        raise NotReady(_describe_import_error(exc)) from exc


def _describe_import_error(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f"{exc.filename}, line {exc.lineno}"
        return (
            f"A migration file does not parse: {where}: {exc.msg}. Fix that file, "
            "then run the command again."
        )
    frames = traceback.extract_tb(exc.__traceback__)
    migration_frames = [
        f for f in frames if "/migrations/" in f.filename.replace("\\", "/")
    ]
    where = ""
    if migration_frames:
        frame = migration_frames[-1]
        where = f" ({frame.filename}, line {frame.lineno})"
    elif not isinstance(exc, ImportError):
        return (
            f"The migration history does not load: {type(exc).__name__}: {exc}. Run "
            "`python manage.py showmigrations` to see the whole error."
        )
    return (
        f"A migration file cannot be imported{where}: {type(exc).__name__}: {exc}. "
        "Fix that file, then run the command again."
    )


def read_applied(aliases: Iterable[str]) -> dict[str, set[Key]]:
    """What each database has recorded; an unreachable database is an error."""
    applied: dict[str, set[Key]] = {}
    for alias in aliases:
        history = recorded(alias)
        if history.error is not None:
            raise NotReady(
                f"Database '{alias}' cannot be reached: {history.error}".rstrip()
                + ". Make it reachable, or run with --skip-db-check if this machine "
                "cannot see your databases (then make sure yourself that every "
                "database is fully migrated)."
            )
        applied[alias] = set(history.applied or ())
    return applied


def migrated_aliases(labels: Iterable[str]) -> list[str]:
    """The aliases that routers let any of these apps migrate on.

    A database no first-party app may migrate to (a read replica, a legacy
    database reached through a router) has no history to check.
    """
    labels = list(labels)
    return [
        alias
        for alias in settings.DATABASES
        if any(router.allow_migrate(alias, label) for label in labels)
    ]


def take_snapshot(
    project_apps: list[ProjectApp], *, with_databases: bool = True
) -> Snapshot:
    loader = load_graph()
    labels = [app.label for app in project_apps]
    aliases = migrated_aliases(labels) if with_databases else []
    references = find(loader, labels)
    root = project_root()
    editable = {
        ref.path: ref.path.read_text(encoding="utf-8")
        for ref in references
        if ref.path is not None and not is_installed_path(ref.path, root)
    }
    return Snapshot(
        apps=project_apps,
        loader=loader,
        applied=read_applied(aliases),
        files={app.label: migration_files(app.directory) for app in project_apps},
        references=references,
        editable=editable,
    )


def check_databases(snapshot: Snapshot) -> None:
    """Refuse unless every database has applied exactly the migrations on disk."""

    problems: list[str] = []
    for alias in snapshot.applied:
        connection = connections[alias]
        try:
            plan = database_plan(snapshot.loader, connection, snapshot.applied[alias])
        except InconsistentMigrationHistory as exc:
            raise NotReady(
                f"Database '{alias}' has an inconsistent migration history: {exc} "
                "Repair the django_migrations table of that database first."
            ) from exc
        except DatabaseError as exc:
            raise NotReady(f"Database '{alias}' cannot be reached: {exc}") from exc
        if plan:
            names = ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in plan)
            problems.append(
                f"  database '{alias}': {len(plan)} unapplied: {names}\n"
                f"    fix: python manage.py migrate --database {alias}"
            )
        partial = _partly_applied_squashes(snapshot.loader, snapshot.applied[alias])
        if partial:
            problems.append(
                f"  database '{alias}': squashed migrations partly applied: "
                + ", ".join(f"{a}.{n}" for a, n in partial)
                + f"\n    fix: python manage.py migrate --database {alias}"
            )
    if problems:
        raise NotReady(
            "Every database must be fully migrated before a remake, otherwise the "
            "missing schema would be marked as applied and never created.\n"
            + "\n".join(problems)
        )


def _partly_applied_squashes(loader: MigrationLoader, applied: set[Key]) -> list[Key]:
    result = []
    for key, migration in loader.replacements.items():
        statuses = [tuple(r) in applied for r in migration.replaces]
        if any(statuses) and not all(statuses):
            result.append(key)
    return sorted(result)
