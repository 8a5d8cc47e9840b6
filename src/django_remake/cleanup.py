"""Finish a remake: turn the remade migrations into ordinary ones.

A remade migration keeps ``replaces`` so that databases still on the old history
accept it: Django's loader treats it as a squash, and ``migrate`` records it as
applied when every migration it replaces is. Once every database has recorded
the remade migrations, ``replaces`` has done its job. Removing it, and deleting
the old files it names, is the last step of Django's own squash workflow.

The edit is textual: only the lines of the ``replaces`` statement go, so
hand-written code, comments and formatting in the remade files survive. A
remade migration that loses ``replaces`` while a database has not recorded it
would be applied again from scratch there, which is what :func:`database_gaps`
looks for.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router

from . import apply, conf, linear, mentions, prune
from .conf import RemakeSettings
from .errors import ApplyError, Interrupted, NotReady, RemakeError
from .interrupts import reason
from .partway import recorded
from .project import (
    ProjectApp,
    first_party_roots,
    migration_files,
    project_root,
    select_apps,
)
from .references import NotRewritable, named_migrations, rewrite_names
from .remake import Progress, ProgressCallback

COMMAND = "delete_remaked_migrations"

MARKER = "_remaked_"

Key = tuple[str, str]  # (app_label, migration name), as in ``replaces``


class UnknownApp(RemakeError):
    """An app label that does not name a first-party app with migrations."""


class UnreadableMigration(RemakeError):
    """A remade migration whose ``replaces`` cannot be found or removed safely."""


class LeftoverFiles(NotReady):
    """Replaced migrations still on disk would become ordinary migrations."""


class DatabasesBehind(NotReady):
    """A database has not recorded the remade migrations, or cannot be reached."""


@dataclass(frozen=True)
class Options:
    """What the user asked for; the defaults are a plain ``delete_remaked_migrations``."""

    #: only this first-party app (None: all of them)
    app_label: str | None = None
    #: also delete the old files that ``replaces`` named
    remove_replaced: bool = False
    dry_run: bool = False
    #: clean up even if a database has not recorded the remade migrations
    force: bool = False
    #: then run Django's ``migrate APP --prune`` on every database alias
    prune: bool = False


@dataclass(frozen=True)
class Edit:
    """One remade migration, its text before and after losing ``replaces``."""

    app_label: str
    name: str
    path: Path
    replaces: tuple[Key, ...]
    old_text: bytes
    new_text: bytes


@dataclass(frozen=True)
class Replaced:
    """One entry of a removed ``replaces``, and the file it still has, if any."""

    app_label: str
    name: str
    path: Path | None
    first_party: bool


@dataclass(frozen=True)
class Retarget:
    """A migration whose ``dependencies`` or ``run_before`` name old migrations:
    each ``(old, remade)`` pair is renamed; the rest of the file is kept."""

    migration: Key
    path: Path
    renames: tuple[tuple[Key, Key], ...]
    old_text: bytes
    new_text: bytes


@dataclass(frozen=True)
class Plan:
    """What a cleanup changes; nothing is written until :func:`apply_plan`."""

    edits: tuple[Edit, ...]
    unchanged: tuple[Key, ...]  # remade migrations that have no ``replaces``
    replaced: tuple[Replaced, ...]
    #: first-party migrations that name old migrations, pointed at the remade ones
    retargets: tuple[Retarget, ...] = ()
    #: django-linear-migrations' files that must name another migration
    max_migrations: tuple[linear.MaxMigration, ...] = ()

    @property
    def on_disk(self) -> tuple[Replaced, ...]:
        return tuple(item for item in self.replaced if item.path is not None)

    @property
    def apps(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(edit.app_label for edit in self.edits))


@dataclass(frozen=True)
class Result:
    """What a clean-up changed (or, on a dry run, would change)."""

    options: Options
    plan: Plan
    #: the replaced files deleted (or to delete)
    deleted: tuple[Path, ...] = ()
    #: databases that lack the remade migrations, cleaned up anyway (--force)
    forced: tuple[DatabaseGap, ...] = ()
    #: --prune: the rows Django's ``migrate APP --prune`` removes (or would)
    prune_targets: tuple[prune.Target, ...] = ()
    #: --prune: what it did; empty on a dry run or when the user said no
    pruned: tuple[prune.Pruned, ...] = ()
    #: lines of code outside the migration folders that name a replaced migration
    mentions: tuple[mentions.Mention, ...] = ()


@dataclass(frozen=True)
class DatabaseGap:
    """A database that has not recorded some remade migrations, or was unreachable."""

    alias: str
    missing: tuple[Key, ...] = ()
    error: str | None = None


def display(path: Path) -> str:
    root = project_root()
    return str(path.relative_to(root)) if root in path.parents else str(path)


def choose_apps(config: RemakeSettings, label: str | None) -> list[ProjectApp]:
    """The first-party apps to clean up: all of them, or the one named."""
    found = select_apps(config)
    if label is None or label in {app.label for app in found}:
        return [app for app in found if label is None or app.label == label]
    valid = ", ".join(f"'{app.label}'" for app in found) or "none"
    installed = {config.label for config in apps.get_app_configs()}
    problem = "a first-party app with migrations" if label in installed else "installed"
    raise UnknownApp(f"App '{label}' is not {problem}. First-party apps: {valid}.")


def _replaces_statements(tree: ast.Module) -> list[ast.Assign | ast.AnnAssign]:
    return [
        stmt
        for node in tree.body
        if isinstance(node, ast.ClassDef) and node.name == "Migration"
        for stmt in node.body
        if isinstance(stmt, ast.Assign | ast.AnnAssign) and _assigns_replaces(stmt)
    ]


def _assigns_replaces(stmt: ast.Assign | ast.AnnAssign) -> bool:
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    return any(isinstance(t, ast.Name) and t.id == "replaces" for t in targets)


def _entries(stmt: ast.Assign | ast.AnnAssign, where: str) -> tuple[Key, ...]:
    if stmt.value is None:
        return ()
    try:
        value = ast.literal_eval(stmt.value)
        return tuple((str(app), str(name)) for app, name in value)
    except (ValueError, TypeError, SyntaxError):
        raise UnreadableMigration(
            f"{where}: 'replaces' is not a literal list of (app_label, name) pairs. "
            "Remove it by hand."
        ) from None


def cut_replaces(text: bytes, filename: str) -> tuple[bytes, tuple[Key, ...]] | None:
    """``text`` without the ``replaces`` lines of its Migration class, and the
    entries they held; ``None`` when there is no ``replaces``."""
    try:
        tree = ast.parse(text, filename=filename)
    except SyntaxError as exc:
        raise UnreadableMigration(
            f"Cannot parse {filename}, line {exc.lineno}: {exc.msg}. "
            "Fix the file, then run the command again; nothing was changed."
        ) from exc
    statements = _replaces_statements(tree)
    if not statements:
        return None
    lines = text.splitlines(keepends=True)
    entries: list[Key] = []
    for stmt in reversed(statements):
        where = f"{filename}, line {stmt.lineno}"
        assert stmt.end_lineno is not None and stmt.end_col_offset is not None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) > 1:
            raise UnreadableMigration(
                f"{where}: 'replaces' is assigned with other names. Remove it by hand."
            )
        first, last = lines[stmt.lineno - 1], lines[stmt.end_lineno - 1]
        after = last[stmt.end_col_offset :].strip()
        if first[: stmt.col_offset].strip() or (after and not after.startswith(b"#")):
            raise UnreadableMigration(
                f"{where}: 'replaces' shares a line with other code. Remove it by hand."
            )
        entries[:0] = _entries(stmt, where)
        start = stmt.lineno - 1
        del lines[start : stmt.end_lineno]
        _drop_double_blank(lines, start)
    new_text = b"".join(lines)
    try:
        ast.parse(new_text)
    except SyntaxError:
        raise UnreadableMigration(
            f"{filename}: the Migration class would be empty without 'replaces'. "
            "Edit it by hand."
        ) from None
    return new_text, tuple(entries)


def _drop_double_blank(lines: list[bytes], start: int) -> None:
    """Where the removed statement stood between blank lines, keep just one.

    Django writes a blank line around ``replaces``; without this the
    Migration class would keep two blank lines in a row where it stood.
    """
    before = start > 0 and not lines[start - 1].strip()
    if not before:
        return
    if start < len(lines) and not lines[start].strip():
        del lines[start]
    elif start == len(lines):
        del lines[start - 1]  # nothing follows: no blank line at the end


def plan_cleanup(
    selected: Iterable[ProjectApp], first_party: Iterable[ProjectApp]
) -> Plan:
    """Read every remade migration of ``selected``; raise before anything is written."""
    edits: list[Edit] = []
    unchanged: list[Key] = []
    for app in selected:
        for path in migration_files(app.directory):
            if MARKER not in path.name:
                continue
            old_text = path.read_bytes()
            cut = cut_replaces(old_text, display(path))
            if cut is None:
                unchanged.append((app.label, path.stem))
            else:
                edits.append(Edit(app.label, path.stem, path, cut[1], old_text, cut[0]))
    first_party = list(first_party)
    directories = {app.label: app.directory for app in first_party}
    keys = dict.fromkeys(key for edit in edits for key in edit.replaces)
    replaced = tuple(_find_replaced(key, directories) for key in keys)
    retargets = find_retargets(edits, replaced, first_party)
    return Plan(tuple(edits), tuple(unchanged), replaced, retargets=retargets)


def find_retargets(
    edits: Iterable[Edit],
    replaced: Iterable[Replaced],
    first_party: Iterable[ProjectApp],
) -> tuple[Retarget, ...]:
    """First-party migrations that still name a migration a removed ``replaces``
    held (typically added on a branch after the remake), each edited to name
    the remade migration that replaced it, as Django's loader resolves it
    while ``replaces`` is there (the remake's own rewrite,
    :func:`django_remake.references.rewrite_names`)."""
    renames = {
        old: (edit.app_label, edit.name) for edit in edits for old in edit.replaces
    }
    skip = {edit.path for edit in edits} | {item.path for item in replaced if item.path}
    found = []
    for app in first_party:
        for path in migration_files(app.directory):
            if path in skip:
                continue
            text = path.read_bytes()
            if not any(old[1].encode() in text for old in renames):
                continue  # cheap: most files name none of them
            shown = display(path)
            try:
                source = text.decode("utf-8")
                named = named_migrations(source, shown) & set(renames)
                if not named:
                    continue
                new_text = rewrite_names(
                    source, shown, {old: renames[old][1] for old in named}
                )
            except (SyntaxError, UnicodeDecodeError, NotRewritable) as exc:
                raise UnreadableMigration(
                    f"{shown} names migrations whose 'replaces' would be removed, "
                    f"and cannot be edited ({exc}). Point it at the remade "
                    "migrations by hand; nothing was changed."
                ) from exc
            renamed = tuple(sorted((old, renames[old]) for old in named))
            found.append(
                Retarget((app.label, path.stem), path, renamed, text, new_text.encode())
            )
    return tuple(found)


def _find_replaced(key: Key, directories: dict[str, Path]) -> Replaced:
    directory = directories.get(key[0])
    if directory is None:
        return Replaced(*key, path=None, first_party=False)
    path = directory / f"{key[1]}.py"
    return Replaced(*key, path=path if path.is_file() else None, first_party=True)


def check_leftovers(plan: Plan, remove_replaced: bool) -> None:
    """Refuse to leave replaced files that Django would then load as new migrations."""
    if not remove_replaced and plan.on_disk:
        names = ", ".join(display(item.path) for item in plan.on_disk if item.path)
        raise LeftoverFiles(
            f"Replaced migrations are still on disk: {names}. Without 'replaces', "
            "Django would load them as ordinary migrations next to the remade ones. "
            "Run 'python manage.py delete_remaked_migrations --remove-replaced' "
            "to delete them too."
        )


def database_gaps(remade: Iterable[Key]) -> list[DatabaseGap]:
    """Databases that have a migration history but lack some remade migrations.

    A database without a ``django_migrations`` table is skipped: ``migrate``
    applies the remade migrations there like any others.
    """
    keys = list(remade)
    gaps = []
    for alias in connections:
        wanted = [key for key in keys if router.allow_migrate(alias, key[0])]
        if not wanted:
            continue
        history = recorded(alias)
        if history.error is not None:
            gaps.append(DatabaseGap(alias, error=history.error))
            continue
        applied = history.applied
        if applied is None:
            continue
        missing = tuple(key for key in wanted if key not in applied)
        if missing:
            gaps.append(DatabaseGap(alias, missing=missing))
    return gaps


def describe_gaps(gaps: Iterable[DatabaseGap]) -> str:
    parts = []
    for gap in gaps:
        if gap.error is not None:
            parts.append(
                f"Cannot reach database '{gap.alias}' ({gap.error}), so cannot tell "
                "whether it has applied the remade migrations."
            )
        else:
            names = ", ".join(f"'{app}.{name}'" for app, name in gap.missing)
            parts.append(
                f"Database '{gap.alias}' has not recorded {names} as applied. "
                f"Run 'python manage.py migrate --database {gap.alias}' first."
            )
    return "\n".join(parts)


def apply_plan(
    plan: Plan, remove_replaced: bool, root: Path | None = None
) -> list[Path]:
    """Write the edited files and delete the replaced ones, all or nothing.

    One transaction (see :mod:`django_remake.apply`): no database may see
    some remade migrations without ``replaces`` and others still with it,
    even if the run is killed half-way; the next run of either command then
    puts every file back. Return the deleted paths.
    """
    deleted = (
        [item.path for item in plan.on_disk if item.path] if remove_replaced else []
    )
    files = [apply.NewFile(edit.path, edit.new_text) for edit in plan.edits]
    files += [apply.NewFile(item.path, item.new_text) for item in plan.retargets]
    files += [apply.NewFile(item.path, item.data) for item in plan.max_migrations]
    rewritten = [new.path for new in files if new.path.exists()]
    try:
        transaction = apply.write_files(
            root or project_root(),
            files,
            rewritten + deleted,
            command=COMMAND,
        )
    except RemakeError:
        raise
    except (Exception, KeyboardInterrupt, Interrupted) as exc:
        raise ApplyError(
            f"Removing 'replaces' stopped ({reason(exc)}); every file was restored "
            "and the project is as it was."
        ) from exc
    transaction.commit()
    return deleted


def _ignore(event: Progress) -> None:
    pass


def _yes(found: list[prune.Target]) -> bool:
    return True


def clean(
    options: Options,
    progress: ProgressCallback = _ignore,
    confirm_prune: Callable[[list[prune.Target]], bool] = _yes,
) -> Result:
    """Remove ``replaces`` from the remade migrations: the one entry point
    behind ``delete_remaked_migrations``.

    Hold the project's lock, roll back a run that was killed (raising
    :class:`~django_remake.errors.Recovered`), plan, check every database,
    then write everything at once unless ``options.dry_run``. Every refusal
    is a :class:`RemakeError` raised before anything is written; the
    ``--force`` warning is reported through ``progress``. With
    ``options.prune``, Django's ``migrate APP --prune`` then runs for every
    app whose rows name missing files, on every database alias, if
    ``confirm_prune`` says yes to the list (never on a dry run).
    """
    root = project_root()
    with apply.exclusive(
        root,
        COMMAND,
        done="'replaces' was removed; the clean-up is complete",
        read_only=options.dry_run,
    ):
        apply.recover_interrupted(root)
        try:
            config = conf.load()
        except ImproperlyConfigured as exc:
            raise NotReady(str(exc)) from exc
        selected = choose_apps(config, options.app_label)
        first_party = select_apps(config)
        plan = plan_cleanup(selected, first_party)
        check_leftovers(plan, options.remove_replaced)
        result = _clean_files(options, plan, selected, root, progress)
        gone = set(result.deleted)
        result = dataclasses.replace(
            result,
            mentions=tuple(
                mentions.find(
                    old=[(item.app_label, item.name) for item in plan.replaced],
                    remaining={
                        app.label: [
                            path.stem
                            for path in migration_files(app.directory)
                            if path not in gone
                        ]
                        for app in first_party
                    },
                    roots=first_party_roots(),
                    skip=[app.directory for app in first_party],
                )
            ),
        )
        if not options.prune:
            return result
        labels = {app.label for app in selected} | {
            item.app_label for item in plan.replaced if item.first_party
        }
        found = prune.targets(
            {app.label: app.directory for app in first_party if app.label in labels},
            leaving=result.deleted if options.dry_run else (),
        )
        result = dataclasses.replace(result, prune_targets=tuple(found))
        if options.dry_run or not found or not confirm_prune(found):
            return result
        progress(Progress("prune", "start", "Pruning django_migrations"))
        return dataclasses.replace(result, pruned=tuple(prune.run(found)))


def _clean_files(
    options: Options,
    plan: Plan,
    selected: list[ProjectApp],
    root: Path,
    progress: ProgressCallback,
) -> Result:
    to_delete = tuple(
        item.path for item in plan.on_disk if item.path and options.remove_replaced
    )
    if not plan.edits:
        return Result(options, plan)
    plan = dataclasses.replace(
        plan,
        max_migrations=tuple(
            linear.after_cleanup({app.label: app.directory for app in selected})
        ),
    )
    gaps = database_gaps((edit.app_label, edit.name) for edit in plan.edits)
    if gaps and not options.force:
        raise DatabasesBehind(
            f"{describe_gaps(gaps)}\nWithout 'replaces', such a database would "
            "apply the remade migrations again from scratch. Use --force to clean "
            "up anyway."
        )
    if gaps:
        progress(
            Progress(
                "databases",
                "warning",
                f"--force skips the database check.\n{describe_gaps(gaps)}",
            )
        )
    if not options.dry_run:
        progress(Progress("write", "start", "Removing 'replaces'"))
        apply_plan(plan, options.remove_replaced, root)
    return Result(options, plan, to_delete, tuple(gaps))
