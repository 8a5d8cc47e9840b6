"""Check plan: prove in memory, before anything is written, that the plan holds.

Two checks, both on Django's own graph and state classes:

* the new history alone (with the third-party history) has no cycle, and the
  state it ends in is the state of the current models;
* replaying Django's replacement step for a database with the old files still
  on disk leaves no old first-party node and no cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.apps import apps
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.exceptions import CircularDependencyError
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.migration import Migration
from django.db.migrations.questioner import MigrationQuestioner
from django.db.migrations.state import ProjectState

from .errors import PlanError
from .replaces import new_nodes_by_app, resolve
from .samestate import same_models
from .snapshot import Key, Snapshot


def graph_with_new_migrations(
    existing: MigrationGraph,
    changes: Mapping[str, list[Migration]],
    base: MigrationGraph,
    edges: Iterable[tuple[Key, Key]] = (),
) -> MigrationGraph:
    """A copy of ``existing`` plus the new migrations, wired as the loader will."""
    new_by_app = new_nodes_by_app(changes)
    graph = MigrationGraph()
    for key in existing.nodes:
        graph.add_node(key, existing.nodes[key])
    for label, migrations in changes.items():
        for migration in migrations:
            graph.add_node((label, migration.name), migration)
    for key in existing.nodes:
        for parent in existing.node_map[key].parents:
            graph.add_dependency(None, key, parent.key, skip_validation=True)
    for label, migrations in changes.items():
        for migration in migrations:
            for dependency in migration.dependencies:
                target = resolve(dependency, new_by_app, base)
                if target is not None:
                    graph.add_dependency(
                        None, (label, migration.name), target, skip_validation=True
                    )
    for child, parent in edges:
        graph.add_dependency(None, child, parent, skip_validation=True)
    return graph


def check_new_history(
    snapshot: Snapshot,
    base: MigrationGraph,
    changes: Mapping[str, list[Migration]],
    edges: Iterable[tuple[Key, Key]] = (),
) -> None:
    """The new graph has no cycle and ends in the current models' state.

    ``edges`` are (child, parent) dependencies that rewritten migrations of
    apps not remade will declare.
    """
    graph = graph_with_new_migrations(base, changes, base, edges)
    try:
        graph.validate_consistency()
        graph.ensure_not_cyclic()
    except (CircularDependencyError, ValueError) as exc:
        raise PlanError(f"The new migration graph is not valid: {exc}") from exc
    state = graph.make_state(
        nodes=graph.leaf_nodes(),
        at_end=True,
        # ProjectState asserts a set; django-stubs says list.
        real_apps=set(snapshot.loader.unmigrated_apps),  # type: ignore[arg-type]
    )
    models = ProjectState.from_apps(apps)
    if same_models(state, models, snapshot.labels):
        return
    autodetector = MigrationAutodetector(
        state,
        models,
        MigrationQuestioner(specified_apps=snapshot.labels, dry_run=True),
    )
    leftover = autodetector.changes(graph=graph, trim_to_apps=snapshot.labels)
    if leftover:
        described = [
            f"{label}: {operation.describe()}"
            for label, migrations in sorted(leftover.items())
            for migration in migrations
            for operation in migration.operations
        ]
        raise PlanError(
            "The new migrations do not end in the state of the current models: "
            + "; ".join(described)
        )


def check_replacement_graph(
    snapshot: Snapshot,
    base: MigrationGraph,
    changes: Mapping[str, list[Migration]],
    groups: Mapping[Key, list[Key]],
) -> None:
    """Replay Django's replacement step for a fresh database with old files kept.

    Every inherited edge lands on a new migration; the result must have no
    cycle and no old first-party node left.
    """
    graph = graph_with_new_migrations(snapshot.graph, changes, base)
    for new, replaced in groups.items():
        graph.remove_replaced_nodes(new, replaced)
    try:
        graph.ensure_not_cyclic()
    except CircularDependencyError as exc:
        raise PlanError(
            "With the old files kept, the new migrations would inherit a "
            f"dependency cycle: {exc}"
        ) from exc
    left = sorted(k for k in graph.nodes if k[0] in snapshot.labels and k not in groups)
    if left:
        raise PlanError(
            "Old migrations left unreplaced: " + ", ".join(f"{a}.{n}" for a, n in left)
        )
