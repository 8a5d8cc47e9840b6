"""Write fewer operations than the autodetector does for a new project.

When apps depend on each other in a cycle, ``makemigrations`` cuts an app's
migration at the first operation that needs the other app, and everything
after the cut goes into the app's next migration: foreign keys to apps that
are no part of the cycle, foreign keys within the app, and the ``AddIndex``
and ``AddConstraint`` of models created before the cut. Only foreign keys that
close a model-level cycle need a later migration. This pass moves every other
such operation back to the migration that creates its model, where Django's
own optimizer folds it into the ``CreateModel``, drops migrations left empty,
and numbers the rest again.

A move adds at most one dependency, and only when that makes no cycle; the
plan's checks (the new graph ends in the models' state, no cycle, the
replacement replay) and the proof still hold the result.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.conf import settings
from django.db.migrations import operations as ops
from django.db.migrations.migration import Migration
from django.db.migrations.operations.base import Operation
from django.db.migrations.optimizer import MigrationOptimizer

from .mutate import set_attributes

Key = tuple[str, str]

#: operations that only add to a model, and can join the migration creating it
_ADDS = (
    ops.AddField,
    ops.AddIndex,
    ops.AddConstraint,
    ops.AlterUniqueTogether,
)


def compact(changes: dict[str, list[Migration]]) -> None:
    """Move operations back to their model's migration; renumber ``changes``."""
    created = {
        (migration.app_label, operation.name_lower): migration
        for migrations in changes.values()
        for migration in migrations
        for operation in migration.operations
        if isinstance(operation, ops.CreateModel)
    }
    moved = False
    #: fields whose AddField stays in a later migration: nothing naming them moves
    staying: dict[Key, set[str]] = {}
    for app_label, migrations in changes.items():
        for migration in migrations[1:]:
            kept: list[Operation] = []
            for operation in migration.operations:
                model = (app_label, _model_of(operation))
                home = created.get(model)
                if (
                    isinstance(operation, _ADDS)
                    and home is not None
                    and home is not migration
                    and not _names_any(operation, staying.get(model, set()))
                    and _move(operation, migration, home, changes, created)
                ):
                    moved = True
                    continue
                if isinstance(operation, ops.AddField):
                    staying.setdefault(model, set()).add(operation.name)
                kept.append(operation)
            set_attributes(migration, operations=kept)
    optimizer = MigrationOptimizer()
    for app_label, migrations in changes.items():
        for migration in migrations:
            operations = _close_up(list(migration.operations), app_label)
            optimized = optimizer.optimize(operations, app_label)
            set_attributes(migration, operations=optimized)
    if moved:
        _drop_empty(changes)


def _close_up(operations: list[Operation], app_label: str) -> list[Operation]:
    """Each index, constraint and unique_together of a model created in the
    same migration right after what it needs (see :func:`_position`)."""
    created = {op.name_lower for op in operations if isinstance(op, ops.CreateModel)}
    moving = [
        op
        for op in operations
        if isinstance(op, _ADDS)
        and not isinstance(op, ops.AddField)
        and _model_of(op) in created
    ]
    kept = [op for op in operations if all(op is not m for m in moving)]
    for operation in moving:
        kept.insert(_position(kept, operation, app_label), operation)
    return kept


def _names_any(operation: Operation, fields: set[str]) -> bool:
    """Might ``operation`` refer to one of ``fields``? Errs towards yes: an
    index or constraint is read from its whole deconstruction, so names in
    expressions and lookups (``price__gte``) count too."""
    if not fields:
        return False
    text = repr(operation.deconstruct())
    return any(
        re.search(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])", text)
        for name in fields
    )


def _model_of(operation: Operation) -> str:
    name = getattr(operation, "model_name_lower", None) or getattr(
        operation, "name_lower", ""
    )
    return str(name)


def _related(operation: Operation) -> Key | None:
    """The model a field added by ``operation`` points at, as (app, model)."""
    field = getattr(operation, "field", None)
    remote = getattr(field, "remote_field", None)
    if remote is None:
        return None
    target = remote.model
    if not isinstance(target, str):
        target = f"{target._meta.app_label}.{target._meta.model_name}"
    if "." not in target:
        return None
    app_label, model = target.split(".", 1)
    return app_label, model.lower()


def _move(
    operation: Operation,
    source: Migration,
    home: Migration,
    changes: dict[str, list[Migration]],
    created: dict[Key, Migration],
) -> bool:
    """Append ``operation`` to ``home`` if what it needs can come first there."""
    needed: list[tuple[str, str]] = []
    related = _related(operation)
    if related is not None:
        through = getattr(getattr(operation, "field", None), "remote_field", None)
        if getattr(through, "through", None) is not None and not getattr(
            getattr(through, "through", None), "_meta", None
        ):
            return False  # an explicit through model given by name: leave it
        target_home = created.get(related)
        if target_home is None:
            # A model of another app (third-party or the user model): the
            # source migration's dependency on it must already be one of home's.
            return _already_depends(home, source, related[0])
        if target_home is not home:
            key = (target_home.app_label, target_home.name)
            if _reaches(changes, key, (home.app_label, home.name)):
                return False  # the foreign key closes a cycle: it stays put
            needed.append(key)
    for dependency in needed:
        if dependency not in [tuple(d) for d in home.dependencies]:
            set_attributes(home, dependencies=[*home.dependencies, dependency])
    operations = list(home.operations)
    operations.insert(_position(operations, operation, home.app_label), operation)
    set_attributes(home, operations=operations)
    return True


def _position(operations: list[Operation], operation: Operation, app_label: str) -> int:
    """Right after what ``operation`` needs in ``operations``: its model's
    creation and the operations already on that model, and the creation of a
    model its field points at; so Django's optimizer can fold it into the
    ``CreateModel`` (an index or constraint passes no other operation)."""
    model = _model_of(operation)
    related = _related(operation)
    after = 0
    for index, other in enumerate(operations):
        if _model_of(other) == model and (isinstance(other, (ops.CreateModel, *_ADDS))):
            after = index + 1
        elif (
            related is not None
            and related[0] == app_label
            and isinstance(other, ops.CreateModel)
            and other.name_lower == related[1]
        ):
            after = max(after, index + 1)
    return after


def _already_depends(home: Migration, source: Migration, app_label: str) -> bool:
    wanted = [d for d in source.dependencies if _app_of(d) == app_label]
    have = [tuple(d) for d in home.dependencies]
    return bool(wanted) and all(tuple(d) in have for d in wanted)


def _app_of(dependency: Iterable[str]) -> str:
    app_label, name = tuple(dependency)
    if app_label == "__setting__":
        return str(getattr(settings, name)).split(".", 1)[0]
    return app_label


def _reaches(changes: dict[str, list[Migration]], start: Key, goal: Key) -> bool:
    """Does the new migration ``start`` depend on ``goal``, directly or not?"""
    by_key = {(m.app_label, m.name): m for migs in changes.values() for m in migs}
    stack, seen = [start], set()
    while stack:
        key = stack.pop()
        if key == goal:
            return True
        if key in seen or key not in by_key:
            continue
        seen.add(key)
        stack.extend((str(d[0]), str(d[1])) for d in by_key[key].dependencies)
    return False


def _drop_empty(changes: dict[str, list[Migration]]) -> None:
    """Remove migrations left without operations and number the rest 0001...;
    a dependency on a removed one moves to the migration before it."""
    renames: dict[Key, Key] = {}
    for app_label, migrations in changes.items():
        kept: list[Migration] = []
        for migration in migrations:
            if migration.operations or not kept:
                kept.append(migration)
            else:
                renames[(app_label, migration.name)] = (app_label, kept[-1].name)
        suffix = migrations[0].name.split("_", 1)[1]
        for number, migration in enumerate(kept, start=1):
            new = f"{number:04d}_{suffix}"
            for old, target in list(renames.items()):
                if target == (app_label, migration.name):
                    renames[old] = (app_label, new)
            if new != migration.name:
                renames[(app_label, migration.name)] = (app_label, new)
                migration.name = new
        changes[app_label] = kept
    for migrations in changes.values():
        for migration in migrations:
            deps: list[Key] = []
            for dependency in migration.dependencies:
                key = (str(dependency[0]), str(dependency[1]))
                target = renames.get(key, key)
                if (
                    target != (migration.app_label, migration.name)
                    and target not in deps
                ):
                    deps.append(target)
            set_attributes(migration, dependencies=deps)
