"""Which old migrations each new migration replaces.

The rules Django's loader applies to ``replaces`` (``MigrationLoader.build_graph``
and ``MigrationGraph.remove_replaced_nodes``) fix the scheme:

* every new migration must replace something, and all of it must be recorded
  on a fully migrated database, or that database would run it again;
* the replaced sets must not overlap: applying a replacing migration records
  every name it replaces, so with overlapping sets a fresh database that stopped
  half-way through the new history would later skip the rest;
* with the old files kept, a new migration inherits every dependency edge of
  the old nodes it replaces, so each old node must go to a new migration that
  sits, in one fixed order of the new graph, after everything the old node
  depended on and before everything that depended on it. Otherwise those
  inherited edges form a cycle.

So: order the new graph (with the third-party nodes) once, then walk the old
first-party nodes parents-first and give each to the earliest new migration
that comes no earlier than its parents' replacements, preferring its own app.
New migrations left with nothing take a node from a neighbour when that keeps
the order. The result is checked by replaying Django's own replacement step.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence

from django.conf import settings
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.migration import Migration

from .errors import PlanError
from .snapshot import Key, Snapshot


class CycleError(PlanError):
    """The new migrations and the migrations they build on form a cycle."""

    def __init__(self, message: str, stuck: list[Key]) -> None:
        super().__init__(message)
        self.stuck = stuck  # every node that could not be ordered


def resolve(
    dependency: Sequence[str], new_by_app: Mapping[str, list[Key]], base: MigrationGraph
) -> Key | None:
    """The node a dependency tuple points at once the new files are on disk."""
    # A swappable dependency resolves to the first migration of the model's app.
    app_label = settings_app(dependency)
    name = "__first__" if dependency[0] == "__setting__" else dependency[1]
    if app_label in new_by_app:
        nodes = new_by_app[app_label]
        if name == "__first__":
            return nodes[0]
        if name == "__latest__":
            return nodes[-1]
        return (app_label, name)
    if name == "__first__":
        roots = base.root_nodes(app_label)
        return roots[0] if roots else None
    if name == "__latest__":
        leaves = base.leaf_nodes(app_label)
        return leaves[0] if leaves else None
    return (app_label, name)


def new_nodes_by_app(changes: Mapping[str, list[Migration]]) -> dict[str, list[Key]]:
    return {
        label: [(label, m.name) for m in migs]
        for label, migs in changes.items()
        if migs
    }


def combined_order(
    changes: Mapping[str, list[Migration]],
    base: MigrationGraph,
    snapshot: Snapshot,
    app_order: Sequence[str],
    retargets: Mapping[tuple[Key, str, Key], Key] | None = None,
) -> list[Key]:
    """One topological order of the third-party nodes and the new migrations.

    Ties go to third-party nodes first, then by app order, then by name, so the
    order (and with it every ``replaces`` list) is the same on every run.
    """
    new_by_app = new_nodes_by_app(changes)
    parents: dict[Key, set[Key]] = {
        key: {p.key for p in base.node_map[key].parents} for key in base.nodes
    }
    for label, migs in changes.items():
        for migration in migs:
            key = (label, migration.name)
            resolved = {resolve(d, new_by_app, base) for d in migration.dependencies}
            parents[key] = {d for d in resolved if d is not None and d != key}
    # Third-party migrations that depend on a first-party app (through
    # AUTH_USER_MODEL, typically) will depend on its new migrations.
    labels = snapshot.labels
    retargets = retargets or {}
    for key in base.nodes:
        old_migration = snapshot.loader.disk_migrations.get(key)
        for dep in getattr(old_migration, "dependencies", ()):
            target_app = settings_app(dep)
            if target_app in labels and target_app in new_by_app:
                retargeted = retargets.get((key, "dependencies", (dep[0], dep[1])))
                target = retargeted or resolve(dep, new_by_app, base)
                if target is not None and target not in new_by_app[target_app]:
                    target = new_by_app[target_app][0]
                if target is not None:
                    parents[key].add(target)
    for (source, attribute, _old), target in retargets.items():
        if attribute == "run_before":
            parents[target].add(source)
    rank = {label: index for index, label in enumerate(app_order)}
    children: dict[Key, set[Key]] = {key: set() for key in parents}
    missing: set[Key] = set()
    for key, deps in parents.items():
        for dep in deps:
            if dep not in children:
                missing.add(dep)
                continue
            children[dep].add(key)
    if missing:
        raise PlanError(
            "The new migrations depend on migrations that are not in the graph: "
            + ", ".join(f"{a}.{n}" for a, n in sorted(missing))
        )
    waiting = {
        key: len([d for d in deps if d in children]) for key, deps in parents.items()
    }

    def priority(key: Key) -> tuple[int, int, str, str]:
        return (
            1 if key[0] in new_by_app else 0,
            rank.get(key[0], len(rank)),
            key[0],
            key[1],
        )

    ready = [(priority(k), k) for k, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order: list[Key] = []
    while ready:
        _prio, key = heapq.heappop(ready)
        order.append(key)
        for child in sorted(children[key]):
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, (priority(child), child))
    if len(order) != len(parents):
        stuck = sorted(k for k, n in waiting.items() if n > 0)
        raise CycleError(
            "The new migrations form a dependency cycle with: "
            + ", ".join(f"{a}.{n}" for a, n in stuck[:10]),
            stuck,
        )
    return order


def settings_app(dependency: Sequence[str]) -> str:
    if dependency[0] == "__setting__":
        return str(getattr(settings, dependency[1])).split(".", 1)[0]
    return dependency[0]


def assign_replacements(
    snapshot: Snapshot,
    order: Sequence[Key],
    new_keys: Sequence[Key],
) -> dict[Key, list[Key]]:
    """Give every old first-party node to exactly one new migration."""
    position = {key: index for index, key in enumerate(order)}
    by_app: dict[str, list[Key]] = {}
    for key in new_keys:
        by_app.setdefault(key[0], []).append(key)
    labels = snapshot.labels
    owner: dict[Key, Key] = {}
    for old in snapshot.old_nodes():
        low = 0
        for parent in snapshot.graph.node_map[old].parents:
            if parent.key in owner:
                low = max(low, position[owner[parent.key]])
            elif parent.key[0] not in labels and parent.key in position:
                low = max(low, position[parent.key] + 1)
        candidates = [k for k in by_app.get(old[0], []) if position[k] >= low]
        if not candidates:
            candidates = [k for k in new_keys if position[k] >= low]
        if not candidates:
            raise PlanError(
                f"Old migration {old[0]}.{old[1]} depends on migrations that the "
                "new history puts after all of its own migrations; it cannot be "
                "replaced without a dependency cycle."
            )
        owner[old] = min(candidates, key=position.__getitem__)
    groups: dict[Key, list[Key]] = {key: [] for key in new_keys}
    for old, new in owner.items():
        groups[new].append(old)
    _fill_empty_groups(snapshot, groups, owner, position)
    return groups


def _fill_empty_groups(
    snapshot: Snapshot,
    groups: dict[Key, list[Key]],
    owner: dict[Key, Key],
    position: Mapping[Key, int],
) -> None:
    """Move old nodes so that each new migration replaces something.

    A move may empty the group it takes from; that group is then filled the
    same way (an augmenting path), never from a group already on the path.
    """
    labels = snapshot.labels
    graph = snapshot.graph

    def low(old: Key) -> int:
        result = 0
        for parent in graph.node_map[old].parents:
            if parent.key in owner:
                result = max(result, position[owner[parent.key]])
            elif parent.key[0] not in labels and parent.key in position:
                result = max(result, position[parent.key] + 1)
        return result

    def fits(old: Key, here: int) -> bool:
        if low(old) > here:
            return False
        for child in graph.node_map[old].children:
            if child.key in owner and position[owner[child.key]] < here:
                return False
            if (
                child.key not in owner
                and child.key in position
                and position[child.key] <= here
            ):
                return False
        return True

    def fill(new: Key, path: frozenset[Key]) -> bool:
        here = position[new]
        ranked = sorted(
            owner,
            key=lambda old: (old[0] != new[0], abs(position[owner[old]] - here), old),
        )
        for old in ranked:
            source = owner[old]
            if source in path or source == new or not fits(old, here):
                continue
            groups[source].remove(old)
            owner[old] = new
            groups[new].append(old)
            if groups[source] or fill(source, path | {new}):
                return True
            groups[new].remove(old)
            owner[old] = source
            groups[source].append(old)
        return False

    for new in list(groups):
        if not groups[new] and not fill(new, frozenset()):
            raise PlanError(
                f"New migration {new[0]}.{new[1]} has no old migration it could "
                "replace without breaking the dependency order, so a fully migrated "
                "database would run it again."
            )
    order = {old: index for index, old in enumerate(snapshot.old_nodes())}
    for group in groups.values():
        group.sort(key=order.__getitem__)
