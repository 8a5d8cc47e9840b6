"""What an operation changed when the old history was built on a new database.

The autodetector re-creates models, not data or hand-written SQL, so a remake
must decide for each RunPython, RunSQL or custom operation whether a fresh
database needs it. It decides by observation: while the old history is built on
a throwaway database (:func:`django_remake.throwaway.build` with ``observe``),
the child process records, for each operation asked about, the rows its
statements inserted, updated or deleted and the schema objects it created,
altered or dropped. An :class:`Effect` that changed nothing (a back-fill over
empty tables, a fix-up of rows a fresh database never has) can be dropped.

How the recording works, in the child (:class:`Recorder`):

- Django's ``pre_migrate`` signal hands over the plan ``migrate`` is about to
  run: the very ``Migration`` objects the executor applies. Each operation
  asked about is replaced, in that migration's own ``operations`` list (a copy
  of the class attribute), by a shallow copy whose ``database_forwards``
  brackets the original's. Everything else about the operation is untouched:
  same class, same ``atomic``, ``state_forwards`` and ``reversible``, so the
  executor's transaction handling is exactly as it is without observation. The
  files, the modules and Django itself are not modified.
- ``connection.execute_wrapper`` sees every statement. Inside an observed
  operation, data statements add their ``rowcount`` to their table. A
  statement that may change the schema (anything but SELECT, INSERT, UPDATE,
  DELETE and transaction control) makes the recorder read the catalog just
  before it runs and again when the operation ends (:mod:`.catalog`); the
  difference is the schema effect. A catalog read stays valid until another
  statement may have changed the schema, so consecutive RunSQL operations of
  one migration share reads. An operation that only uses the ORM costs no
  catalog read.
- What cannot be counted is said rather than guessed: a ``DO`` block, a
  procedure call, or a SELECT that calls one of the database's own functions
  may write rows its ``rowcount`` does not show; such statements are listed in
  :attr:`Effect.unsure` and count as a change.
"""

from __future__ import annotations

import contextlib
import copy
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import catalog

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.migrations.migration import Migration

__all__ = ["Effect", "OperationKey", "Recorder", "observing"]

#: (app_label, migration name, index in ``Migration.operations``), 0-based.
OperationKey = tuple[str, str, int]


@dataclass(frozen=True)
class Effect:
    """What one operation changed on a new database built by the old history.

    ``rows`` maps a table to the rows the operation's statements inserted,
    updated or deleted there (-1: some, but how many is unknown). ``schema``
    describes each schema change, ``"created view 'v'"``. ``tables`` names
    every table or view its SQL mentioned, read or written, to order it after
    them. ``global_only`` is true when all it changed are objects tied to no
    table (extensions, collations, functions, types, schemas, sequences of no
    table): such an operation can run before any table exists. ``unsure``
    holds statements whose row changes could not be counted. ``error`` says
    why the effect is unknown, when it is.
    """

    rows: Mapping[str, int] = field(default_factory=dict)
    schema: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    global_only: bool = False
    unsure: tuple[str, ...] = ()
    error: str = ""

    @property
    def changed(self) -> bool:
        """Whether a fresh database needs it: anything changed, or unknown."""
        return bool(
            self.schema
            or self.unsure
            or self.error
            or any(count != 0 for count in self.rows.values())
        )

    def describe(self) -> list[str]:
        """One line per change, for a report: ``"changed 3 rows of 'x'"``."""
        if self.error:
            return [f"not observed: {self.error}"]
        lines = [
            f"changed {count if count >= 0 else 'some'}"
            f" {'row' if count == 1 else 'rows'} of '{table}'"
            for table, count in sorted(self.rows.items())
            if count
        ]
        lines += self.schema
        lines += [
            f"ran SQL whose row changes cannot be counted: {s}" for s in self.unsure
        ]
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": dict(self.rows),
            "schema": list(self.schema),
            "tables": list(self.tables),
            "global_only": self.global_only,
            "unsure": list(self.unsure),
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Effect:
        return cls(
            rows={str(k): int(v) for k, v in data.get("rows", {}).items()},
            schema=tuple(data.get("schema", ())),
            tables=tuple(data.get("tables", ())),
            global_only=bool(data.get("global_only", False)),
            unsure=tuple(data.get("unsure", ())),
            error=str(data.get("error", "")),
        )


# -- statements -------------------------------------------------------------------

_LEAD = re.compile(r"(?:\s+|--[^\n]*\n?|/\*.*?\*/|\()*", re.S)
_WORD = re.compile(r"[A-Za-z]+")
_NAME = r"(?:\"[^\"]+\"|`[^`]+`|\[[^\]]+\]|[\w$]+)(?:\.(?:\"[^\"]+\"|`[^`]+`|[\w$]+))*"
_TARGET = re.compile(
    r"\b(?:INSERT(?:\s+(?:OR\s+\w+|IGNORE|LOW_PRIORITY|DELAYED|HIGH_PRIORITY))*"
    r"\s+INTO|REPLACE(?:\s+(?:LOW_PRIORITY|DELAYED))*\s+INTO|MERGE\s+INTO"
    r"|UPDATE(?:\s+(?:ONLY|LOW_PRIORITY|IGNORE|OR\s+\w+))*"
    r"|DELETE(?:\s+(?:LOW_PRIORITY|QUICK|IGNORE))*(?:\s+[\w`\"]+)?\s+FROM(?:\s+ONLY)?"
    r"|TRUNCATE(?:\s+TABLE)?(?:\s+ONLY)?|REFRESH\s+MATERIALIZED\s+VIEW(?:\s+CONCURRENTLY)?)"
    rf"\s+({_NAME})",
    re.I,
)
_IDENTIFIER = re.compile(
    r"\"([^\"]+)\"|`([^`]+)`|\[([^\]]+)\]|'([^']*)'|([A-Za-z_][\w$]*)"
)
_SEQUENCE_CALL = re.compile(r"\b(?:setval|nextval)\s*\(", re.I)

_DATA = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE"})
_READ = frozenset({"SELECT", "VALUES", "SHOW", "EXPLAIN", "TABLE", "DESCRIBE", "DESC"})
_SESSION = frozenset(
    {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET"}
    | {"PRAGMA", "RESET", "DISCARD", "LOCK", "UNLOCK", "USE", "DECLARE", "FETCH"}
    | {"CLOSE", "LISTEN", "NOTIFY", "UNLISTEN", "CHECKPOINT", "PREPARE", "DEALLOCATE"}
)
# Row changes that no rowcount reports: a count of -1 on their table.
_BULK = frozenset({"TRUNCATE", "REFRESH"})
_SCHEMA = frozenset(
    {"CREATE", "ALTER", "DROP", "COMMENT", "GRANT", "REVOKE", "RENAME", "ANALYZE"}
    | {"VACUUM", "REINDEX", "CLUSTER", "SECURITY", "IMPORT", "OPTIMIZE", "REPAIR"}
    | {"FLUSH", "INSTALL", "UNINSTALL"}
)


@dataclass(frozen=True)
class Statement:
    """A statement sorted by what it can change.

    ``kind`` is ``"data"`` (a rowcount tells), ``"read"``, ``"session"``,
    ``"bulk"`` (rows change uncounted), ``"schema"`` or ``"opaque"`` (anything
    may change: ``DO``, ``CALL``, ``COPY``, verbs we do not know).
    """

    verb: str
    kind: str
    target: str = ""


def classify(sql: str) -> Statement:
    """Sort ``sql`` by its leading verb, and find the table a DML statement writes."""
    start = _LEAD.match(sql)
    found = _WORD.match(sql, start.end() if start else 0)
    verb = found[0].upper() if found else ""
    if verb == "WITH":  # the statement after the common table expressions
        target = _TARGET.search(sql)
        if target is None:
            return Statement(verb, "read")
        verb = target[0].split(None, 1)[0].upper()
    if verb in _DATA or verb in _BULK:
        target = _TARGET.search(sql)
        name = _unquote(target[1]) if target else ""
        return Statement(verb, "data" if verb in _DATA else "bulk", name)
    if verb in _READ:
        return Statement(verb, "read")
    if verb in _SESSION:
        return Statement(verb, "session")
    if verb in _SCHEMA:
        return Statement(verb, "schema")
    return Statement(verb, "opaque")


def _unquote(name: str) -> str:
    parts: list[tuple[str, ...]] = re.findall(
        r"\"([^\"]+)\"|`([^`]+)`|\[([^\]]+)\]|([\w$]+)", name
    )
    return next(part for part in parts[-1] if part)


def _mentions(sql: str) -> set[str]:
    """Every identifier and string literal in ``sql``: candidates for table names."""
    return {
        next(p for p in m.groups() if p is not None) for m in _IDENTIFIER.finditer(sql)
    }


def _short(sql: str, limit: int = 80) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- recording --------------------------------------------------------------------


@dataclass
class _Running:
    """What one observed operation has done so far."""

    key: OperationKey
    orm: bool  # a RunPython: its SELECTs are ORM reads of tables
    rows: Counter[str] = field(default_factory=Counter)
    unknown: set[str] = field(default_factory=set)  # tables with uncounted changes
    mentions: set[str] = field(default_factory=set)
    unsure: list[str] = field(default_factory=list)
    before: catalog.Catalog | None = None  # read before its first schema statement
    pending: tuple[str, int] | None = None  # an SQLite data statement's table, changes
    error: str = ""


class Recorder:
    """Observe the operations at ``keys`` while ``migrate`` runs on ``connection``.

    Use through :func:`observing`. After the run, :attr:`effects` holds an
    :class:`Effect` for each key that ran.
    """

    def __init__(self, connection: BaseDatabaseWrapper, keys: Collection[OperationKey]):
        self.connection = connection
        self.keys = frozenset(keys)
        self.effects: dict[OperationKey, Effect] = {}
        self.planned = False  # pre_migrate delivered a plan
        self._running: _Running | None = None
        self._quiet = False  # our own catalog reads pass unrecorded
        self._structure: catalog.Catalog | None = None  # valid until schema changes
        self._names: catalog.Names | None = None

    # -- wrapping the plan ------------------------------------------------------

    def on_pre_migrate(
        self, *, using: str, plan: Sequence[Any] | None = None, **_: Any
    ) -> None:
        """``pre_migrate`` receiver: wrap the observed operations of the plan.

        The signal is sent once per app, always with the same plan.
        """
        if using != self.connection.alias or self.planned or plan is None:
            return
        self.planned = True
        for migration, backwards in plan:
            if not backwards:
                self._wrap(migration)

    def _wrap(self, migration: Migration) -> None:
        for index, operation in enumerate(migration.operations):
            key = (migration.app_label, migration.name, index)
            if key not in self.keys:
                continue
            try:
                # A copy, so that an operation object shared between two
                # migrations (a module-level constant) is observed at each
                # place separately, and the class attribute stays untouched.
                observed = copy.copy(operation)
                observed.database_forwards = self._forwards(  # type: ignore[method-assign]
                    key, operation, operation.database_forwards
                )
            except Exception as exc:  # an operation that refuses copying runs as is
                self.effects[key] = Effect(error=f"could not be wrapped ({exc})")
                continue
            migration.operations[index] = observed  # type: ignore[index]

    def _forwards(
        self, key: OperationKey, operation: Any, forwards: Callable[..., None]
    ) -> Callable[..., None]:
        from django.db.migrations import RunPython

        orm = isinstance(operation, RunPython)

        def database_forwards(*args: Any, **kwargs: Any) -> None:
            if self._running is not None:  # called from another observed one
                forwards(*args, **kwargs)
                return
            self._running = _Running(key, orm)
            try:
                forwards(*args, **kwargs)
                self.effects[key] = self._finish(self._running)
            finally:
                self._running = None

        return database_forwards

    # -- statements -------------------------------------------------------------

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: Mapping[str, Any],
    ) -> Any:
        """``execute_wrapper``: look at each statement before and after it runs."""
        if self._quiet:
            return execute(sql, params, many, context)
        running = self._running
        if running is None:
            # Between observed operations run the other operations and the
            # executor's bookkeeping: assume they changed the schema, because
            # sorting every statement of a long history costs more than the
            # catalog reads it would save.
            self._forget()
            return execute(sql, params, many, context)
        statement = classify(sql)
        self._settle(running)
        running.mentions |= _mentions(sql)
        if self._changes_schema(statement, sql, running):
            if running.before is None:
                running.before = self._read(running)
            self._forget()
        if statement.kind == "data" and self.connection.vendor == "sqlite":
            # sqlite3 counts the rows of INSERT ... RETURNING only once they
            # are fetched, which the caller does after this returns: count
            # the connection's changes when the next statement comes.
            changes = self.connection.connection.total_changes
            running.pending = (statement.target, changes)
            return execute(sql, params, many, context)
        result = execute(sql, params, many, context)
        if statement.kind == "data":
            count = getattr(context["cursor"], "rowcount", -1)
            if count is None or count < 0:
                running.unknown.add(statement.target)
            else:
                running.rows[statement.target] += count
        elif statement.kind == "bulk":
            running.unknown.add(statement.target)
        return result

    def _settle(self, running: _Running) -> None:
        if running.pending is not None:
            target, changes = running.pending
            running.pending = None
            running.rows[target] += self.connection.connection.total_changes - changes

    def _changes_schema(
        self, statement: Statement, sql: str, running: _Running
    ) -> bool:
        """Whether ``sql`` may change the schema; note it if rows may change uncounted."""
        if statement.kind == "opaque":
            running.unsure.append(_short(sql))
            return True
        if statement.kind in {"schema", "bulk"}:
            return True
        if statement.kind != "read":
            return False
        calls = self._user_function_call(sql, running)
        if calls:
            running.unsure.append(_short(sql))
        # Outside RunPython a SELECT is hand-written SQL: setval(), a function
        # that creates things (create_hypertable()), ... Read the catalog.
        return calls or not running.orm or bool(_SEQUENCE_CALL.search(sql))

    def _user_function_call(self, sql: str, running: _Running) -> bool:
        if self.connection.vendor == "sqlite":  # no stored functions
            return False
        names = self._names or self._read_names(running)
        return bool(names.functions and names.calls(sql))

    # -- catalog reads ----------------------------------------------------------

    def _forget(self) -> None:
        self._structure = None
        self._names = None

    def _read(self, running: _Running) -> catalog.Catalog | None:
        """Read the catalog; reuse the schema part while nothing changed it."""
        try:
            with self._own_queries():
                if self._structure is None:
                    self._structure = catalog.read(self.connection)
                return self._structure.with_values(catalog.read_values(self.connection))
        except Exception as exc:
            running.error = running.error or f"could not read the catalog ({exc})"
            return None

    def _read_names(self, running: _Running) -> catalog.Names:
        try:
            with self._own_queries():
                self._names = catalog.read_names(self.connection)
        except Exception as exc:
            running.error = running.error or f"could not read the catalog ({exc})"
            self._names = catalog.Names(frozenset(), frozenset())
        return self._names

    @contextlib.contextmanager
    def _own_queries(self) -> Iterator[None]:
        """Run our reads unrecorded; on PostgreSQL inside a savepoint when a
        transaction is open, so that a failed read cannot abort the migration."""
        from django.db import transaction

        self._quiet = True
        try:
            if (
                self.connection.vendor == "postgresql"
                and self.connection.in_atomic_block
            ):
                with transaction.atomic(using=self.connection.alias):
                    yield
            else:
                yield
        finally:
            self._quiet = False

    def _finish(self, running: _Running) -> Effect:
        self._settle(running)
        schema: list[catalog.Change] = []
        names = running.before.names() if running.before else set()
        if running.before is not None:
            after = self._read(running)
            if after is not None:
                schema = catalog.diff(running.before, after)
                names |= after.names()
        elif running.mentions:
            names = set((self._names or self._read_names(running)).tables)
        rows = {t: c for t, c in running.rows.items() if c} | {
            t: -1 for t in running.unknown
        }
        return Effect(
            rows=rows,
            schema=tuple(change.text for change in schema),
            tables=tuple(sorted(running.mentions & names)),
            global_only=bool(schema)
            and not (rows or running.unsure or running.error)
            and all(change.is_global for change in schema),
            unsure=tuple(running.unsure),
            error=running.error,
        )


@contextlib.contextmanager
def observing(
    connection: BaseDatabaseWrapper, keys: Collection[OperationKey]
) -> Iterator[Recorder]:
    """Record the operations at ``keys`` of any ``migrate`` run inside the block."""
    from django.db.models.signals import pre_migrate

    recorder = Recorder(connection, keys)
    if not recorder.keys:
        yield recorder
        return
    uid = f"django_remake.observe.{id(recorder)}"
    pre_migrate.connect(recorder.on_pre_migrate, weak=False, dispatch_uid=uid)
    try:
        with connection.execute_wrapper(recorder):
            yield recorder
    finally:
        pre_migrate.disconnect(dispatch_uid=uid)
    if not recorder.planned:
        reason = "migrate sent no pre_migrate signal (no installed app has models)"
        for key in recorder.keys - recorder.effects.keys():
            recorder.effects[key] = Effect(error=reason)
