"""A new database at about the cost of creating its tables.

Django's executor applies a migration one operation at a time, cloning and
re-rendering the project state for each (``ProjectState.clone``,
``StateApps.render_multiple``); the cost grows with operations × models. A
remade history is additive: ``CreateModel`` and operations on the models it
just created (``AddField``, ``AddIndex``, ``AddConstraint``, options), plus the
operations the remake carried (extensions and collations first, data after the
schema it touches). For a run of such migrations on a database that has none
of them, :class:`FastExecutor` computes the state once (model states only),
renders it once, creates the tables with the schema editor as ``migrate
--run-syncdb`` does (foreign keys are deferred to the end, which resolves
cycles), runs the carried operations in their order, and records every
migration. Everything else goes through Django's own executor, unchanged:
third-party migrations, migrations added after the remake, a database that
has part of the history, ``--fake``, ``--fake-initial``, plans that go back.

The tests build databases both ways on every backend and compare them:
schema with index and constraint names, rows, ``django_migrations``.
"""

from __future__ import annotations

import inspect
import re
import sys
import types
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.core.management.base import no_translations
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import transaction
from django.db.migrations import operations as ops
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.migration import Migration
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

from . import conf

#: the names remakemigrations gives: 0001_remaked_20261201, 0002_remaked_20261201_2
REMADE_NAME = re.compile(r"^\d{4}_remaked_\d{8}(_\d+)?$")

#: Operations on a model created earlier in the same run: only their state
#: matters, because the table is created from the final state at once.
_ON_NEW_MODELS: tuple[type[Operation], ...] = tuple(
    getattr(ops, name)
    for name in (
        "AddField",
        "AddIndex",
        "AddConstraint",
        "AlterUniqueTogether",
        "AlterIndexTogether",
        "AlterModelOptions",
        "AlterModelManagers",
        "AlterModelTable",
        "AlterModelTableComment",
        "AlterOrderWithRespectTo",
    )
    if hasattr(ops, name)
)


def _stateless() -> tuple[type[Operation], ...]:
    """Operations the remake carries, which do not change the project state."""
    found: list[type[Operation]] = [ops.RunPython, ops.RunSQL]
    # A migration that uses them has imported them; importing them here would
    # load psycopg into every migrate (0.15 s) for nothing.
    postgres = sys.modules.get("django.contrib.postgres.operations")
    if postgres is not None:
        found += [postgres.CreateExtension, postgres.CollationOperation]
    return tuple(found)


def enabled() -> bool:
    """``REMAKE_MIGRATIONS_FAST_MIGRATE`` (default True) switches the fast path."""
    return conf.fast_migrate()


class FastExecutor(MigrationExecutor):
    """Django's executor, with runs of remade migrations applied at once.

    ``note`` receives one line per decision (the ``migrate`` command prints
    them at verbosity 2).
    """

    @staticmethod
    def note(text: str) -> None:
        """Replaced by :func:`executor_class` to report to the command."""

    # Private Django API: ``migrate()`` hands every forwards plan to this
    # method (same signature in Django 5.2, 6.0 and 6.1); overriding it keeps
    # the rest of ``migrate()`` -- the django_migrations table, the full plan,
    # check_replacements -- Django's own.
    def _migrate_all_forwards(
        self,
        state: ProjectState,
        plan: list[tuple[Migration, bool]],
        full_plan: list[tuple[Migration, bool]],
        fake: bool,
        fake_initial: bool,
    ) -> ProjectState:
        if fake or fake_initial or not enabled():
            forwards = super()._migrate_all_forwards  # type: ignore[misc]
            result: ProjectState = forwards(
                state, plan, full_plan, fake=fake, fake_initial=fake_initial
            )
            return result
        to_run = {migration for migration, _backwards in plan}
        run: list[Migration] = []
        created: set[tuple[str, str]] = set()
        for migration, _backwards in full_plan:
            if not to_run:
                break
            if migration not in to_run:
                continue
            to_run.remove(migration)
            why_not = self._why_not_fast(migration, created)
            if why_not is None:
                run.append(migration)
                continue
            if run:
                state = self._apply_at_once(state, run)
                run, created = [], set()
            if REMADE_NAME.match(migration.name):
                self.note(f"  {migration.app_label}.{migration.name}: {why_not}")
            state = self._apply_one(state, migration)
        if run:
            state = self._apply_at_once(state, run)
        return state

    def _apply_one(self, state: ProjectState, migration: Migration) -> ProjectState:
        """What Django's ``_migrate_all_forwards`` does for one migration."""
        if "apps" not in state.__dict__:
            if self.progress_callback:
                self.progress_callback("render_start")
            state.apps  # noqa: B018 - render all, as Django does here
            if self.progress_callback:
                self.progress_callback("render_success")
        applied: ProjectState = self.apply_migration(state, migration)
        return applied

    def _why_not_fast(
        self, migration: Migration, created: set[tuple[str, str]]
    ) -> str | None:
        """``None`` if ``migration`` can join the run whose new models are
        ``created`` (which it extends); else why it goes through the executor."""
        if not REMADE_NAME.match(migration.name):
            return "not a remade migration"
        if not migration.atomic:
            return "not atomic"
        app = migration.app_label
        stateless = _stateless()
        mine = set(created)
        for operation in migration.operations:
            if type(operation) is ops.CreateModel:
                mine.add((app, operation.name_lower))
            elif type(operation) in _ON_NEW_MODELS:
                model = getattr(operation, "model_name_lower", None) or getattr(
                    operation, "name_lower", None
                )
                if (app, model) not in mine:
                    return (
                        f"{type(operation).__name__} on a model this run did not "
                        "create; Django's executor applies it"
                    )
            elif isinstance(operation, stateless) and not getattr(
                operation, "state_operations", None
            ):
                continue
            else:
                return f"{type(operation).__name__} is applied by Django's executor"
        created |= mine
        return None

    def _apply_at_once(
        self, state: ProjectState, migrations: Sequence[Migration]
    ) -> ProjectState:
        """Apply a run of remade migrations: tables from the final state at
        once, carried operations in their order, every migration recorded."""
        if "apps" in state.__dict__:
            # Mutating model states without rendered apps is cheap; render once below.
            del state.__dict__["apps"]
        stateless = _stateless()
        first: list[tuple[Migration, Operation]] = []
        after: list[tuple[Migration, Operation]] = []
        creates: list[tuple[str, ops.CreateModel]] = []
        for migration in migrations:
            schema = [
                i
                for i, op in enumerate(migration.operations)
                if not isinstance(op, stateless)
            ]
            for index, operation in enumerate(migration.operations):
                if isinstance(operation, stateless):
                    # Before the migration's first schema operation: extensions,
                    # collations (the remake puts them there). Else: after all
                    # the tables, in order.
                    ahead = bool(schema) and index < schema[0]
                    (first if ahead else after).append((migration, operation))
                    continue
                operation.state_forwards(migration.app_label, state)
                if type(operation) is ops.CreateModel:
                    creates.append((migration.app_label, operation))
        alias = self.connection.alias
        with self.connection.schema_editor(atomic=True) as editor:
            for migration, operation in first:
                if isinstance(operation, ops.RunPython):
                    _run(migration, operation, editor, state)  # renders: rare here
                else:
                    # SQL and extensions read no state: run them before the tables.
                    _run(migration, operation, editor, state, needs_state=False)
            rendered = state.apps
            for app_label, create in creates:
                model = rendered.get_model(app_label, create.name)
                if create.allow_migrate_model(alias, model):
                    editor.create_model(model)
            # Foreign keys and indexes now, as each migration's schema editor
            # would have made them before the next migration ran.
            for sql in editor.deferred_sql:
                editor.execute(sql)
            editor.deferred_sql = []
            for migration, operation in after:
                _run(migration, operation, editor, state)
            # In the same transaction, as Django records a migration whose
            # schema editor has no deferred SQL left; one INSERT for all rows.
            self._record_all(migrations)
        for migration in migrations:
            if self.progress_callback:
                self.progress_callback("apply_start", migration, False)
                self.progress_callback("apply_success", migration, False)
        self.note(
            f"  Created the tables of {len(creates)} models for "
            f"{len(migrations)} remade migrations at once."
        )
        return state

    def _record_all(self, migrations: Sequence[Migration]) -> None:
        """Insert the ``django_migrations`` rows that Django's executor would
        insert one by one for ``migrations`` (the replaced names too; which
        ones depends on the Django version, so its own ``record_migration``
        names them)."""
        rows = _RowCollector()
        recorder, self.recorder = self.recorder, rows  # type: ignore[assignment]
        try:
            for migration in migrations:
                _record(self, migration)
        finally:
            self.recorder = recorder
        recorder.ensure_schema()
        recorder.migration_qs.bulk_create(
            recorder.Migration(app=app, name=name) for app, name in rows.names
        )


class _RowCollector:
    """Stands in for the executor's ``MigrationRecorder`` while it names rows."""

    def __init__(self) -> None:
        self.names: list[tuple[str, str]] = []

    def record_applied(self, app: str, name: str) -> None:
        self.names.append((app, name))


def _record(executor: MigrationExecutor, migration: Migration) -> None:
    """``record_migration`` as this Django version's executor calls it: Django
    5.2 passes the migration, 6.0 its app label and name."""
    record: Any = executor.record_migration
    if "migration" in inspect.signature(record).parameters:
        record(migration)
    else:
        record(migration.app_label, migration.name)


def _run(
    migration: Migration,
    operation: Operation,
    editor: Any,
    state: ProjectState,
    *,
    needs_state: bool = True,
) -> None:
    """Run a stateless operation as ``Migration.apply`` runs it."""
    atomic = operation.atomic or (migration.atomic and operation.atomic is not False)
    current = state if needs_state else ProjectState()
    if not editor.atomic_migration and atomic:
        with transaction.atomic(editor.connection.alias):
            operation.database_forwards(migration.app_label, editor, current, current)
    else:
        operation.database_forwards(migration.app_label, editor, current, current)


def executor_class(note: Callable[[str], None]) -> type[FastExecutor]:
    """:class:`FastExecutor` reporting its decisions to ``note``."""
    return type("FastExecutor", (FastExecutor,), {"note": staticmethod(note)})


def django_migrate_handle(
    executor_class: type[MigrationExecutor],
) -> Callable[..., Any] | None:
    """Django's own ``migrate`` handle, building ``executor_class`` instead of
    ``MigrationExecutor``; ``None`` if this Django's handle is not shaped so.

    Private Django API, used only here: ``Command.handle`` is wrapped by
    ``no_translations`` (the original is in the wrapper's closure) and looks
    ``MigrationExecutor`` up in its module's globals. The same code runs with
    one global replaced, so the output, signals and checks are exactly
    Django's, and nothing of Django's is modified. Tested on every supported
    Django version.
    """
    wrapper = DjangoMigrate.handle
    inner = _closure_function(wrapper)
    if inner is None or "MigrationExecutor" not in inner.__code__.co_names:
        return None
    namespace = dict(inner.__globals__)
    namespace["MigrationExecutor"] = executor_class
    handle = types.FunctionType(
        inner.__code__, namespace, inner.__name__, inner.__defaults__, inner.__closure__
    )
    handle.__kwdefaults__ = inner.__kwdefaults__
    result: Callable[..., Any] = no_translations(handle)
    return result


def _closure_function(wrapper: Callable[..., Any]) -> types.FunctionType | None:
    cells: Iterable[Any] = getattr(wrapper, "__closure__", None) or ()
    for cell in cells:
        if inspect.isfunction(cell.cell_contents):
            function: types.FunctionType = cell.cell_contents
            return function
    return None
