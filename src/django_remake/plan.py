"""Plan: the new history, built in memory from the current models.

Django's own :class:`MigrationAutodetector` writes the new migrations, starting
from a state that holds every model except the first-party ones, so the result
is what ``makemigrations`` would write for a brand-new project. The third-party
apps' history stays as it is.

Then every old first-party migration is given to exactly one new migration to
replace (see :mod:`django_remake.replaces` and docs/replaces.md).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.migration import Migration
from django.db.migrations.operations.base import Operation
from django.db.migrations.questioner import MigrationQuestioner
from django.db.migrations.state import ProjectState
from django.utils.module_loading import import_string

from .carry import Fate
from .checkplan import (
    check_new_history,
    check_replacement_graph,
    graph_with_new_migrations,
)
from .compact import compact
from .conf import RemakeSettings
from .errors import NotReady, PlanError
from .inventory import OperationKey, RunBefore
from .mutate import set_attributes
from .placement import place
from .project import why_not_remade
from .references import rewrite_names
from .replaces import (
    CycleError,
    assign_replacements,
    combined_order,
    new_nodes_by_app,
)
from .samestate import same_models
from .snapshot import Key, Snapshot


@dataclass
class NewMigration:
    """One migration file the remake will write."""

    migration: Migration
    path: Path
    #: the old first-party migrations this one stands for, in history order
    replaced_nodes: list[Key] = field(default_factory=list)

    @property
    def key(self) -> Key:
        return (self.migration.app_label, self.migration.name)


@dataclass(frozen=True)
class Rewrite:
    """A migration the remake does not replace, edited to name new migrations."""

    migration: Key
    path: Path
    #: (old name, new name) for each reference that changes
    renames: tuple[tuple[Key, Key], ...]
    old_text: str
    new_text: str


@dataclass
class Plan:
    """Everything the remake will write and delete, decided before any write."""

    new: list[NewMigration]
    delete: list[Path]
    keep_old: bool
    old_count: int
    old_operation_count: int
    suffix: str
    #: how many old migration files each app had
    old_per_app: dict[str, int] = field(default_factory=dict)
    #: what happens to each old operation the models cannot re-create
    fates: list[Fate] = field(default_factory=list)
    #: the new migration each carried operation went into
    placements: dict[OperationKey, Key] = field(default_factory=dict)
    #: migrations of apps not remade whose dependencies now name new migrations
    rewrites: list[Rewrite] = field(default_factory=list)

    @property
    def new_operation_count(self) -> int:
        return sum(len(item.migration.operations) for item in self.new)


def first_party_free_state(snapshot: Snapshot) -> ProjectState:
    """The old history's final state with every first-party model taken out."""
    old_state = snapshot.old_state
    state = ProjectState(real_apps=set(snapshot.loader.unmigrated_apps))
    for (app_label, _model), model_state in old_state.models.items():
        if app_label not in snapshot.labels:
            state.add_model(model_state.clone())
    return state


def third_party_graph(snapshot: Snapshot) -> MigrationGraph:
    """The loaded graph without first-party nodes: what the new history builds on."""
    graph = MigrationGraph()
    labels = snapshot.labels
    for key in snapshot.graph.node_map:
        if key[0] not in labels:
            graph.add_node(key, snapshot.graph.nodes[key])
    for key, node in snapshot.graph.node_map.items():
        if key[0] in labels:
            continue
        for parent in node.parents:
            if parent.key[0] not in labels:
                graph.add_dependency(None, key, parent.key, skip_validation=True)
    return graph


def pending_changes(snapshot: Snapshot) -> dict[str, list[Migration]]:
    """What ``makemigrations`` would write now; a remake needs this to be empty.

    The autodetector runs only when the history's model states and the
    models' differ (:func:`~django_remake.samestate.same_models`, over every
    migrated app, as the autodetector looks at them all).
    """
    models = ProjectState.from_apps(apps)
    if same_models(snapshot.old_state, models):
        return {}
    autodetector = MigrationAutodetector(
        snapshot.old_state,
        models,
        MigrationQuestioner(specified_apps=snapshot.labels, dry_run=True),
    )
    changes: dict[str, list[Migration]] = autodetector.changes(graph=snapshot.graph)
    return changes


def check_no_pending_changes(snapshot: Snapshot) -> None:
    changes = pending_changes(snapshot)
    if not changes:
        return
    lines = []
    for app_label, migrations in sorted(changes.items()):
        for migration in migrations:
            lines.append(f"  {app_label}: {migration.name}")
            for operation in migration.operations:
                lines.append(f"    - {operation.describe()}")
    raise NotReady(
        "The models have changes that no migration holds yet; a remake would "
        "bake them into migrations that databases treat as already applied.\n"
        + "\n".join(lines)
        + "\nRun `python manage.py makemigrations`, then `python manage.py migrate` "
        "on every database, then run the remake again."
    )


def _suffix(
    snapshot: Snapshot, names: Mapping[str, list[str]], today: datetime.date
) -> str:
    """``remaked_YYYYMMDD``, or ``remaked_YYYYMMDD_N`` when a name was used before."""
    base = f"remaked_{today:%Y%m%d}"
    used = {label: snapshot.known_names(label) for label in names}
    attempt = 1
    while True:
        suffix = base if attempt == 1 else f"{base}_{attempt}"
        clash = any(
            f"{number}_{suffix}" in used[label]
            for label, numbers in names.items()
            for number in numbers
        )
        if not clash:
            return suffix
        attempt += 1


def _add_extensions(
    changes: dict[str, list[Migration]], config: RemakeSettings
) -> None:
    for app_label, paths in config.extensions.items():
        if app_label not in changes:
            raise PlanError(
                f"REMAKE_MIGRATIONS_EXTENSIONS names app '{app_label}', which gets "
                "no remade migration. Use the label of a first-party app with models."
            )
        operations: list[Operation] = []
        for dotted in paths:
            try:
                operation_class = import_string(dotted)
            except ImportError as exc:
                raise PlanError(
                    f"REMAKE_MIGRATIONS_EXTENSIONS['{app_label}'] names '{dotted}', "
                    f"which cannot be imported: {exc}"
                ) from exc
            operations.append(operation_class())
        first = changes[app_label][0]
        set_attributes(first, operations=operations + list(first.operations))


def build_plan(
    snapshot: Snapshot,
    config: RemakeSettings,
    *,
    keep_old: bool = False,
    today: datetime.date,
    fates: Sequence[Fate] = (),
    run_before: Sequence[RunBefore] = (),
) -> Plan:
    """Decide the new history; touches no file and no database.

    ``fates`` say which old operations are carried (:mod:`django_remake.carry`);
    ``run_before`` are hand-written ``run_before`` of old migrations to keep.
    """
    labels = snapshot.labels
    placeholder = "remake"
    autodetector = MigrationAutodetector(
        first_party_free_state(snapshot),
        ProjectState.from_apps(apps),
        MigrationQuestioner(specified_apps=labels, dry_run=True),
    )
    base_graph = third_party_graph(snapshot)
    changes: dict[str, list[Migration]] = autodetector.changes(
        graph=base_graph, trim_to_apps=labels, migration_name=placeholder
    )
    changes = {label: migs for label, migs in changes.items() if label in labels}
    compact(changes)
    old_nodes = snapshot.old_nodes()
    where = place(changes, fates, table_apps(labels), placeholder)
    if not changes and old_nodes:
        raise PlanError(
            "The first-party apps have no models left, so there is nothing to "
            "re-create; the old migrations would lose their replacement."
        )

    numbers = {
        label: [m.name.split("_", 1)[0] for m in migs]
        for label, migs in changes.items()
    }
    suffix = _suffix(snapshot, numbers, today)
    renames = {
        (label, m.name): (label, m.name.replace(placeholder, suffix, 1))
        for label, migs in changes.items()
        for m in migs
    }
    for migs in changes.values():
        for migration in migs:
            migration.name = renames[(migration.app_label, migration.name)][1]
            dependencies = [
                renames.get((d[0], d[1]), d) for d in migration.dependencies
            ]
            set_attributes(migration, dependencies=dependencies, initial=True)

    _add_extensions(changes, config)
    for app_label, targets in config.run_before.items():
        if app_label in changes:
            set_attributes(changes[app_label][0], run_before=list(targets))
    placements = {op: renames.get(key, key) for op, key in where.items()}

    directories = {app.label: app.directory for app in snapshot.apps}
    app_order = _app_order(config, labels)
    by_key = {(m.app_label, m.name): m for migs in changes.values() for m in migs}
    check_references(snapshot)
    _keep_run_before(changes, run_before, base_graph)
    retargets = {} if keep_old else retarget(snapshot, base_graph, changes, config)
    edges: list[tuple[Key, Key]] = []  # (child, parent) the rewritten files declare
    for (source, attribute, _old), target in retargets.items():
        if attribute == "dependencies":
            edges.append((source, target))
        else:  # "source runs before target": the new migration depends on it
            migration = by_key[target]
            set_attributes(migration, dependencies=[*migration.dependencies, source])
    try:
        order = combined_order(changes, base_graph, snapshot, app_order, retargets)
    except CycleError as exc:
        for label in sorted({key[0] for key in exc.stuck} - labels):
            explained = left_out_app_message(snapshot, config, label)
            if explained:
                raise PlanError(explained) from exc
        raise
    new_nodes = [key for key in order if key in by_key]
    groups = assign_replacements(snapshot, order, new_nodes)
    check_new_history(snapshot, base_graph, changes, edges)
    check_replacement_graph(snapshot, base_graph, changes, groups)

    new: list[NewMigration] = []
    for key in new_nodes:
        migration = by_key[key]
        replaced = groups[key]
        names: list[Key] = []
        for old in replaced:
            if keep_old:
                names.append(old)
            for recorded in snapshot.recorded_names(old):
                if recorded not in names:
                    names.append(recorded)
        set_attributes(migration, replaces=names)
        path = directories[key[0]] / f"{key[1]}.py"
        new.append(NewMigration(migration, path, replaced))

    old_operation_count = sum(
        len(snapshot.migration(key).operations) for key in old_nodes
    )
    edits = rewrites(snapshot, retargets)
    return Plan(
        new=new,
        delete=[] if keep_old else snapshot.old_files(),
        keep_old=keep_old,
        old_count=len(snapshot.old_files()),
        old_operation_count=old_operation_count,
        suffix=suffix,
        fates=list(fates),
        placements=placements,
        old_per_app={
            app.label: len(snapshot.files[app.label]) for app in snapshot.apps
        },
        rewrites=edits,
    )


def left_out_app_message(
    snapshot: Snapshot, config: RemakeSettings, label: str
) -> str | None:
    """Explain a cycle between the remade apps and ``label``, an app not remade.

    ``None`` unless both directions exist: remade models point at its models,
    and its migrations name migrations the remake replaces.
    """
    pointing = []
    for remade in sorted(snapshot.labels):
        for model in apps.get_app_config(remade).get_models():
            for model_field in model._meta.get_fields(include_hidden=False):
                related = getattr(model_field, "related_model", None)
                if (model_field.concrete or model_field.many_to_many) and getattr(
                    related, "_meta", None
                ) is not None:
                    assert related is not None
                    if (
                        related._meta.app_label == label
                        and not model_field.auto_created
                    ):
                        pointing.append(
                            f"{remade}.{model.__name__}.{model_field.name} -> "
                            f"{label}.{related.__name__}"
                        )
    depending = [
        f"{ref.migration[0]}.{ref.migration[1]} -> {ref.target[0]}.{ref.target[1]}"
        for ref in snapshot.references
        if ref.migration[0] == label and ref.attribute == "dependencies"
    ]
    if not pointing or not depending:
        return None
    reason, fix = why_not_remade(label, config)
    return (
        f"App '{label}' is not remade ({reason}), but it and the remade apps depend "
        f"on each other: remade models point at its models ({_some(pointing)}), and "
        f"its migrations depend on migrations that the remake replaces "
        f"({_some(depending)}). No new history can order the two. To remake "
        f"'{label}' too, {fix}."
    )


def _some(items: list[str], limit: int = 3) -> str:
    more = len(items) - limit
    return ", ".join(items[:limit]) + (f" and {more} more" if more > 0 else "")


Retargets = dict[tuple[Key, str, Key], Key]
"""(migration, "dependencies" or "run_before", old name) -> the new migration."""


def check_references(snapshot: Snapshot) -> None:
    """Refuse when an installed package names a migration the remake replaces."""
    foreign = [ref for ref in snapshot.references if ref.path not in snapshot.editable]
    if not foreign:
        return
    lines = []
    for ref in foreign:
        verb = "depends on" if ref.attribute == "dependencies" else "runs before"
        where = f" ({ref.path})" if ref.path else ""
        lines.append(
            f"  {ref.migration[0]}.{ref.migration[1]} {verb} "
            f"{ref.target[0]}.{ref.target[1]}{where}"
        )
    apps_named = sorted({ref.target[0] for ref in foreign})
    raise NotReady(
        "Migrations of installed packages name migrations that the remake would "
        "replace; once the old files are gone those names point nowhere, and "
        "django-remake does not edit installed packages:\n"
        + "\n".join(lines)
        + "\nLeave "
        + ", ".join(f"'{label}'" for label in apps_named)
        + " out of the remake (REMAKE_MIGRATIONS_EXCLUDE_APPS), or have the "
        "package depend on ('app', '__first__') instead."
    )


def retarget(
    snapshot: Snapshot,
    base: MigrationGraph,
    changes: Mapping[str, list[Migration]],
    config: RemakeSettings,
) -> Retargets:
    """Choose, for each reference to an old migration from a migration the remake
    does not replace, the new migration it names instead.

    A dependency moves to the latest new migration of that app that does not
    itself need the referring migration (it has everything the app's models
    have, and no cycle); a ``run_before`` to the earliest that can follow it.
    """
    chosen: Retargets = {}
    graph = graph_with_new_migrations(base, changes, base)
    new_by_app = new_nodes_by_app(changes)
    for ref in snapshot.references:
        candidates = new_by_app.get(ref.target[0], [])
        source = ref.migration
        if ref.attribute == "dependencies":
            ordered = list(reversed(candidates))
            fits = [n for n in ordered if source not in graph.forwards_plan(n)]
        else:
            fits = [n for n in candidates if n not in graph.forwards_plan(source)]
        if not fits:
            explained = left_out_app_message(snapshot, config, source[0])
            if explained:
                raise PlanError(explained)
            raise PlanError(
                f"Migration {source[0]}.{source[1]} names "
                f"{ref.target[0]}.{ref.target[1]} in its {ref.attribute}, and every "
                f"new migration of '{ref.target[0]}' would form a dependency cycle "
                "with it. Remake its app too, or remove that reference."
            )
        target = fits[0]
        chosen[(source, ref.attribute, ref.target)] = target
        child, parent = (
            (source, target) if ref.attribute == "dependencies" else (target, source)
        )
        graph.add_dependency(None, child, parent, skip_validation=True)
    return chosen


def rewrites(snapshot: Snapshot, retargets: Retargets) -> list[Rewrite]:
    by_migration: dict[Key, dict[Key, Key]] = {}
    for (source, _attribute, old), new in retargets.items():
        by_migration.setdefault(source, {})[old] = new
    result = []
    for ref_key, renames in sorted(by_migration.items()):
        path = next(ref.path for ref in snapshot.references if ref.migration == ref_key)
        assert path is not None
        old_text = snapshot.editable[path]
        new_text = rewrite_names(
            old_text, str(path), {old: new[1] for old, new in renames.items()}
        )
        result.append(
            Rewrite(ref_key, path, tuple(sorted(renames.items())), old_text, new_text)
        )
    return result


def table_apps(labels: set[str]) -> dict[str, str]:
    """The database table of every model of ``labels`` (many-to-many tables
    too), and the app it belongs to."""
    found = {}
    for label in labels:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            found[model._meta.db_table] = label
    return found


def _keep_run_before(
    changes: Mapping[str, list[Migration]],
    run_before: Sequence[RunBefore],
    base: MigrationGraph,
) -> None:
    """Give each hand-written ``run_before`` of an old migration to the latest
    new migration of its app that does not already need the target."""
    graph = graph_with_new_migrations(base, changes, base)
    for item in run_before:
        candidates = [
            (item.migration[0], m.name) for m in changes.get(item.migration[0], [])
        ]
        fits = [
            n for n in reversed(candidates) if item.target not in graph.forwards_plan(n)
        ]
        if not fits:
            raise PlanError(
                f"Old migration {item.migration[0]}.{item.migration[1]} runs before "
                f"{item.target[0]}.{item.target[1]}, and every new migration of "
                f"'{item.migration[0]}' needs that migration already. Remove the "
                "run_before, or list it in REMAKE_MIGRATIONS_RUN_BEFORE for the app."
            )
        migration = graph.nodes[fits[0]]
        assert migration is not None
        if item.target not in migration.run_before:
            set_attributes(migration, run_before=[*migration.run_before, item.target])
        graph.add_dependency(None, item.target, fits[0], skip_validation=True)


def _app_order(config: RemakeSettings, labels: set[str]) -> list[str]:
    """INSTALLED_APPS order, with FIRST_APPS moved to the front and LAST_APPS to the end."""
    installed = [app.label for app in apps.get_app_configs()]
    middle = [
        label
        for label in installed
        if label not in config.first_apps and label not in config.last_apps
    ]
    order = list(config.first_apps) + middle + list(config.last_apps)
    unknown = sorted((set(config.first_apps) | set(config.last_apps)) - set(installed))
    if unknown:
        raise PlanError(
            "REMAKE_MIGRATIONS_FIRST_APPS / LAST_APPS name apps that are not "
            "installed: " + ", ".join(f"'{label}'" for label in unknown)
        )
    return order
