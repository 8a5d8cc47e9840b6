"""Where carried operations go in the new history.

* Operations carried *first* (extensions, collations, SQL that creates only
  objects no table owns) open the first new migration of their app, in the old
  order; the other apps' first new migrations then depend on it where that
  makes no cycle, so an extension exists before any app's schema needs it.
* Every other carried operation runs after the schema it touches: after the
  last new migration of its own app and of every app whose tables it touched
  (all apps, when its effect was not observed), and after every earlier carried
  operation it conflicts with (same app, a shared table, or both changed the
  schema), which keeps the old relative order where it can matter, across
  apps too. They go into a *tail* migration per app, numbered after the app's
  last; when a tail would need nothing its app's last migration does not
  already have, its operations are appended to that migration instead, and
  no file is added.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.db.migrations.migration import Migration
from django.db.migrations.operations.base import Operation

from .carry import CARRY, Fate
from .inventory import OperationKey
from .mutate import set_attributes

Key = tuple[str, str]


@dataclass
class _Tail:
    app: str
    number: int  # 1, 2... among the app's tails
    operations: list[Fate] = field(default_factory=list)
    needs: set[Key] = field(default_factory=set)  # schema migrations
    after: set[tuple[str, int]] = field(default_factory=set)  # other tails


def _conflict(earlier: Fate, later: Fate) -> bool:
    if earlier.old.key[0] == later.old.key[0]:
        return True
    if earlier.tables is None or later.tables is None:
        return True
    return bool(earlier.tables & later.tables) or (earlier.ddl and later.ddl)


def _ancestors(changes: Mapping[str, list[Migration]], start: Key) -> set[Key]:
    """New migrations ``start`` depends on, directly or not (itself included)."""
    by_key = {(m.app_label, m.name): m for migs in changes.values() for m in migs}
    seen: set[Key] = set()
    stack = [start]
    while stack:
        key = stack.pop()
        if key in seen or key not in by_key:
            continue
        seen.add(key)
        for dependency in by_key[key].dependencies:
            stack.append((dependency[0], dependency[1]))
    return seen


def place(
    changes: dict[str, list[Migration]],
    fates: Sequence[Fate],
    table_apps: Mapping[str, str],
    placeholder: str,
) -> dict[OperationKey, Key]:
    """Put every carried operation of ``fates`` into ``changes``; return where
    each went (keys with the placeholder names of ``changes``)."""
    where: dict[OperationKey, Key] = {}
    _place_first(changes, [f for f in fates if f.action == CARRY and f.first], where)
    later = [f for f in fates if f.action == CARRY and not f.first]
    if later:
        _place_later(changes, later, table_apps, placeholder, where)
    return where


def _place_first(
    changes: dict[str, list[Migration]],
    fates: Sequence[Fate],
    where: dict[OperationKey, Key],
) -> None:
    by_app: dict[str, list[Fate]] = {}
    for fate in fates:
        by_app.setdefault(fate.old.key[0], []).append(fate)
    for app, carried in by_app.items():
        if app not in changes:
            changes[app] = [Migration(f"0001_{_placeholder_of(changes)}", app)]
        first = changes[app][0]
        set_attributes(
            first,
            operations=[f.operation for f in carried] + list(first.operations),
        )
        if any(f.old.non_atomic_migration for f in carried):
            set_attributes(first, atomic=False)
        for fate in carried:
            where[fate.old.key] = (app, first.name)
    for app in by_app:
        head = (app, changes[app][0].name)
        for other, migrations in changes.items():
            if other == app or not migrations:
                continue
            root = migrations[0]
            root_key = (other, root.name)
            known = [tuple(d) for d in root.dependencies]
            if root_key not in _ancestors(changes, head) and head not in known:
                set_attributes(root, dependencies=[*root.dependencies, head])


def _placeholder_of(changes: Mapping[str, list[Migration]]) -> str:
    for migrations in changes.values():
        for migration in migrations:
            return migration.name.split("_", 1)[1]
    return "remake"


def _place_later(
    changes: dict[str, list[Migration]],
    fates: Sequence[Fate],
    table_apps: Mapping[str, str],
    placeholder: str,
    where: dict[OperationKey, Key],
) -> None:
    last = {app: (app, migs[-1].name) for app, migs in changes.items() if migs}
    tails: dict[tuple[str, int], _Tail] = {}
    current: dict[str, int] = {}
    host: dict[int, tuple[str, int]] = {}

    def reaches(start: tuple[str, int], goal: tuple[str, int]) -> bool:
        stack, seen = [start], set()
        while stack:
            node = stack.pop()
            if node == goal:
                return True
            if node not in seen and node in tails:
                seen.add(node)
                stack.extend(tails[node].after)
        return False

    for index, fate in enumerate(fates):
        app = fate.old.key[0]
        number = current.get(app, 1)
        preds = [host[i] for i in range(index) if _conflict(fates[i], fate)]
        # An earlier operation of another app that must come first, but whose
        # tail already follows this app's current tail: open the next one.
        while any(p[0] != app and reaches(p, (app, number)) for p in preds):
            number += 1
        current[app] = number
        tail = tails.setdefault((app, number), _Tail(app, number))
        if number > 1:
            tail.after.add((app, number - 1))
        tail.operations.append(fate)
        tail.after.update(p for p in preds if p != (app, number))
        if app in last:
            tail.needs.add(last[app])
        if fate.tables is None:
            tail.needs.update(last.values())
        else:
            tail.needs.update(
                last[table_apps[t]] for t in fate.tables if table_apps.get(t) in last
            )
        host[index] = (app, number)

    key_of: dict[tuple[str, int], Key] = {}
    for app, number in _topological(tails):
        tail = tails[(app, number)]
        needs = set(tail.needs) | {key_of[other] for other in tail.after}
        own = last.get(app)
        if (
            number == 1
            and (app, 2) not in tails
            and own is not None
            and needs <= _ancestors(changes, own)
        ):
            target = changes[app][-1]
            set_attributes(
                target,
                operations=[
                    *target.operations,
                    *(f.operation for f in tail.operations),
                ],
            )
            key_of[(app, number)] = own
        else:
            target = Migration(
                f"{len(changes.get(app, [])) + 1:04d}_{placeholder}", app
            )
            set_attributes(
                target,
                operations=[f.operation for f in tail.operations],
                dependencies=sorted(needs),
            )
            changes.setdefault(app, []).append(target)
            key_of[(app, number)] = (app, target.name)
        if any(f.old.non_atomic_migration for f in tail.operations):
            set_attributes(target, atomic=False)
        for fate in tail.operations:
            where[fate.old.key] = key_of[(app, number)]


def _topological(tails: Mapping[tuple[str, int], _Tail]) -> list[tuple[str, int]]:
    """Tails, each after every tail it must follow (they form no cycle)."""
    order: list[tuple[str, int]] = []
    done: set[tuple[str, int]] = set()

    def visit(node: tuple[str, int]) -> None:
        if node in done:
            return
        done.add(node)
        for other in sorted(tails[node].after):
            visit(other)
        order.append(node)

    for node in sorted(tails):
        visit(node)
    return order


def operations_of(fates: Sequence[Fate]) -> list[Operation]:
    return [fate.operation for fate in fates]
