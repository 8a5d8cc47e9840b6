"""Inventory: the old operations that the models cannot re-create.

The new history is written by the autodetector from the models, so it has
the effect of every ``CreateModel``, ``AddField``, ``AlterField``... of the old
one. Everything else a database saw while running the old history is listed
here, one :class:`OldOperation` each, in the order a new database runs them:
``RunPython``, ``RunSQL``, extensions and collations, ``SeparateDatabaseAndState``,
operations of ``django.contrib.postgres`` and of other libraries, and custom
``Operation`` subclasses.

Each is sorted into one of three kinds:

* ``state``: it changes the project state (``RunSQL`` with ``state_operations``,
  ``SeparateDatabaseAndState`` with state operations, ``AddIndexConcurrently``,
  a custom operation that alters models). The models describe its state part,
  so the autodetector re-creates that; its database part is not carried, and
  the proof shows any difference it leaves (usually the old history's own
  leftovers).
* ``setup``: it creates an extension or a collation, which schema later in the
  history may need (a trigram index, a collated column): carried, first.
* ``data``: everything else (it changes rows or database objects the models do
  not describe): carried when it has an effect on a new database, which
  :mod:`django_remake.throwaway` observes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.migrations import operations as core_operations
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.migration import Migration
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

Key = tuple[str, str]
OperationKey = tuple[str, str, int]
"""(app_label, migration name, index in ``Migration.operations``)."""

#: Operations the autodetector writes itself: exactly these classes, not subclasses.
RECREATED: frozenset[type[Operation]] = frozenset(
    getattr(core_operations, name)
    for name in core_operations.__all__
    if name not in {"RunPython", "RunSQL", "SeparateDatabaseAndState"}
)

#: Stateless operations that never touch the models' state, by class.
_STATELESS = (core_operations.RunPython,)


def _setup_classes() -> tuple[type[Operation], ...]:
    """Extension and collation operations (``django.contrib.postgres`` needs
    psycopg to import, so a project without it has none)."""
    try:
        from django.contrib.postgres.operations import (
            CollationOperation,
            CreateExtension,
        )
    except ImportError:
        return ()
    return (CreateExtension, CollationOperation)


@dataclass(frozen=True)
class OldOperation:
    """One operation of the old history that the autodetector does not write."""

    key: OperationKey
    operation: Operation = field(compare=False, repr=False)
    kind: str  # "state", "setup" or "data"
    description: str
    elidable: bool
    #: dotted names of the functions it runs (RunPython code and reverse_code)
    functions: tuple[str, ...] = ()
    #: the old migration has ``atomic = False``
    non_atomic_migration: bool = False

    @property
    def name(self) -> str:
        """``app.migration #N`` (1-based), as settings and the report name it."""
        return f"{self.key[0]}.{self.key[1]} #{self.key[2] + 1}"

    @property
    def class_name(self) -> str:
        return type(self.operation).__name__


@dataclass(frozen=True)
class RunBefore:
    """An old first-party migration that must run before another app's."""

    migration: Key
    target: Key


def plan_order(graph: MigrationGraph) -> list[Key]:
    """Every node, parents first, in the order ``migrate`` applies them to a
    new database (the order of ``MigrationGraph.make_state``)."""
    order: list[Key] = []
    seen: set[Key] = set()
    for leaf in graph.leaf_nodes():
        for key in graph.forwards_plan(leaf):
            if key not in seen:
                seen.add(key)
                order.append(key)
    return order


def _node(graph: MigrationGraph, key: Key) -> Migration:
    migration = graph.nodes[key]
    assert migration is not None  # a loaded graph has no dummy nodes left
    return migration


def _describe(operation: Operation) -> str:
    try:
        return str(operation.describe())
    except Exception:  # a custom operation's describe() is not ours to trust
        return type(operation).__name__


def _functions(operation: Operation) -> tuple[str, ...]:
    names = []
    for attribute in ("code", "reverse_code"):
        code = getattr(operation, attribute, None)
        if callable(code) and code is not core_operations.RunPython.noop:
            module = getattr(code, "__module__", "?")
            name = getattr(code, "__qualname__", getattr(code, "__name__", repr(code)))
            names.append(f"{module}.{name}")
    return tuple(names)


def _kind(
    operation: Operation, app_label: str, state: Callable[[], ProjectState]
) -> str:
    if isinstance(operation, _setup_classes()):
        return "setup"
    if isinstance(operation, _STATELESS):
        return "data"
    if isinstance(
        operation, core_operations.RunSQL | core_operations.SeparateDatabaseAndState
    ):
        return "state" if operation.state_operations else "data"
    for known in RECREATED:
        if isinstance(operation, known):
            return "state"  # a subclass: AddIndexConcurrently, AddConstraintNotValid...
    # A custom operation: does its state_forwards change anything?
    before = state()
    after = before.clone()
    operation.state_forwards(app_label, after)
    return "state" if after.models != before.models else "data"


def _walk(
    graph: MigrationGraph, nodes: list[Key]
) -> Iterator[tuple[Key, Migration, int, Operation, Callable[[], ProjectState]]]:
    """Every operation of ``nodes``, with the project state just before it.

    The state is replayed only as far as a custom operation needs it: most
    histories have none, and replaying costs as much as loading the history.
    """
    state = ProjectState()
    replayed = 0  # how many operations of ``order`` are in ``state``
    order = plan_order(graph)
    flat: list[tuple[Key, int]] = [
        (key, index)
        for key in order
        for index in range(len(_node(graph, key).operations))
    ]
    position = {item: number for number, item in enumerate(flat)}

    def state_before(key: Key, index: int) -> Callable[[], ProjectState]:
        def replay() -> ProjectState:
            nonlocal replayed
            stop = position[(key, index)]
            while replayed < stop:
                done_key, done_index = flat[replayed]
                migration = _node(graph, done_key)
                migration.operations[done_index].state_forwards(done_key[0], state)
                replayed += 1
            return state

        return replay

    for key in nodes:
        migration = _node(graph, key)
        for index, operation in enumerate(migration.operations):
            yield key, migration, index, operation, state_before(key, index)


def take_inventory(graph: MigrationGraph, nodes: list[Key]) -> list[OldOperation]:
    """The old operations of ``nodes`` (first-party, in plan order) that the
    autodetector does not write."""
    found = []
    for key, migration, index, operation, state in _walk(graph, nodes):
        if type(operation) in RECREATED:
            continue
        found.append(
            OldOperation(
                key=(key[0], key[1], index),
                operation=operation,
                kind=_kind(operation, key[0], state),
                description=_describe(operation),
                elidable=bool(getattr(operation, "elidable", False)),
                functions=_functions(operation),
                non_atomic_migration=not getattr(migration, "atomic", True),
            )
        )
    return found


def run_before(
    graph: MigrationGraph, nodes: list[Key], labels: set[str]
) -> list[RunBefore]:
    """Hand-written ``run_before`` of old first-party migrations that name a
    migration of an app the remake does not replace."""
    found = []
    for key in nodes:
        for target in getattr(_node(graph, key), "run_before", ()) or ():
            target_key = (str(target[0]), str(target[1]))
            if target_key[0] not in labels:
                found.append(RunBefore(key, target_key))
    return found


def tables_of(operation: Operation, app_label: str, state: ProjectState) -> set[str]:
    """Tables whose models a state-changing operation touches, as far as its
    state operations say (for naming leftovers of the old history)."""
    tables: set[str] = set()
    inner: list[Any] = list(getattr(operation, "state_operations", None) or [operation])
    for sub in inner:
        for attribute in ("model_name", "name"):
            model_name = getattr(sub, attribute, None)
            if not isinstance(model_name, str):
                continue
            model_state = state.models.get((app_label, model_name.lower()))
            table = model_state.options.get("db_table") if model_state else None
            tables.add(table or f"{app_label}_{model_name.lower()}")
            break
    return tables
