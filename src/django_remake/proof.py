"""Observe the old history on new databases, then prove the new one equal.

One build of the old history per database backend serves two purposes: while
it runs, every operation the models cannot re-create is observed (what rows
and schema it changed, :mod:`django_remake.carry` decides from that), and the
database it leaves is the reference the new history must match. After the
new files are written, the new history is built beside it and the two are
compared, schema and rows (:func:`prove`).

Differences the old history itself explains are *leftovers*, not losses: an
operation that changed the models' state by hand (``SeparateDatabaseAndState``,
``RunSQL`` with ``state_operations``) can leave a column, an index or a
constraint that the models no longer describe, or never create one they do. A
difference in a table such an operation touched is listed, with the migration,
as information; every other difference fails the run.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from . import throwaway
from .carry import CARRY, DROP, RECREATE, Fate
from .errors import NotReady, VerifyError
from .inventory import OldOperation, OperationKey, tables_of
from .observe import Effect
from .progress import ProgressCallback, step
from .snapshot import Snapshot

#: the step name of building and comparing throwaway databases
STEP = "build"


@dataclass
class Observation:
    """The old history built on a new database per backend, and what each
    observed operation did there. :meth:`close` drops the databases."""

    builds: dict[str, throwaway.Throwaway] = field(default_factory=dict)
    #: None when nothing could be observed; ``why_not`` then says why
    effects: dict[OperationKey, Effect] | None = None
    why_not: str = ""

    def close(self) -> None:
        builds, self.builds = self.builds, {}
        for alias, built in builds.items():
            throwaway.drop(alias, built)


def not_observed(why: str) -> Observation:
    return Observation(why_not=why)


def observe(
    inventory: Sequence[OldOperation],
    aliases: Sequence[str],
    progress: ProgressCallback,
) -> Observation:
    """Build the old history on a new database for each distinct database of
    ``aliases``, observing the operations of ``inventory`` that may be carried."""
    keys = [old.key for old in inventory if old.kind == "data"]
    observation = Observation()
    found: list[Mapping[OperationKey, Effect]] = []
    try:
        for alias in throwaway.aliases_to_check(aliases):
            message = f"Building the old history on a new database for '{alias}'"
            try:
                with step(progress, STEP, message, "migrations") as count:
                    built = throwaway.build(alias, "old", observe=keys, progress=count)
            except throwaway.SchemaCheckError as exc:
                if exc.stage != "create":
                    raise NotReady(
                        f"{exc} A remake proves the new history against a new "
                        "database built from the old one, so the old history must "
                        "build: fix that migration first, or run with "
                        "--no-verify-schema (nothing is then observed or proven)."
                    ) from exc
                observation.close()
                return not_observed(f"no new database could be made: {exc.detail}")
            observation.builds[alias] = built
            found.append(built.effects)
    except BaseException:
        observation.close()
        raise
    observation.effects = merge_effects(found)
    return observation


def merge_effects(
    per_database: Sequence[Mapping[OperationKey, Effect]],
) -> dict[OperationKey, Effect]:
    """One effect per operation: what it did on any of the databases."""
    merged: dict[OperationKey, Effect] = {}
    for effects in per_database:
        for key, effect in effects.items():
            seen = merged.get(key)
            if seen is None:
                merged[key] = effect
                continue
            rows = dict(seen.rows)
            for table, count in effect.rows.items():
                rows[table] = (
                    -1
                    if -1 in (count, rows.get(table, 0))
                    else rows.get(table, 0) + count
                )
            merged[key] = Effect(
                rows=rows,
                schema=tuple(dict.fromkeys([*seen.schema, *effect.schema])),
                tables=tuple(dict.fromkeys([*seen.tables, *effect.tables])),
                global_only=seen.global_only and effect.global_only,
                unsure=tuple(dict.fromkeys([*seen.unsure, *effect.unsure])),
                error=seen.error or effect.error,
            )
    return merged


#: a schema difference about one table
_TABLE = re.compile(r"^table '([^']+)'")


@dataclass(frozen=True)
class Proof:
    """What the comparison found that is not a failure."""

    aliases: list[str]
    #: differences the old history's own leftovers explain
    leftovers: list[str]
    #: differences made by operations the user chose to drop
    requested: list[str]


def prove(
    observation: Observation,
    fates: Sequence[Fate],
    placements: Mapping[OperationKey, tuple[str, str]],
    snapshot: Snapshot,
    progress: ProgressCallback,
) -> Proof:
    """Build the new history beside each old build and compare; raise
    :class:`VerifyError` naming every real difference."""
    leftover_tables = _leftover_tables(fates, snapshot)
    leftovers: list[str] = []
    requested: list[str] = []
    for alias, old in observation.builds.items():
        message = f"Building the new history on a new database for '{alias}'"
        try:
            with contextlib.ExitStack() as stack:
                with step(progress, STEP, message, "migrations") as count:
                    new = stack.enter_context(
                        throwaway.throwaway(alias, "new", progress=count)
                    )
                message = f"Comparing the old and the new database of '{alias}'"
                with step(progress, STEP, message) as count:
                    comparison = throwaway.compare(
                        alias, old, new, rows=True, progress=count
                    )
        except throwaway.SchemaCheckError as exc:
            raise VerifyError(_explain_failed_build(exc, fates, placements)) from exc
        failures = []
        for line in [*comparison.schema, *comparison.rows]:
            match = _TABLE.match(line)
            owners = leftover_tables.get(match[1], []) if match else []
            cause = _made_by(line, fates, observation.effects)
            if owners and line in comparison.schema:
                leftovers.append(
                    f"database '{alias}': {line} (left by "
                    + ", ".join(sorted(set(owners)))
                    + ")"
                )
            elif cause is not None and cause.requested:
                requested.append(
                    f"database '{alias}': {line} ({cause.old.name} "
                    f"{cause.old.class_name}, dropped: {cause.reason})"
                )
            elif cause is not None:
                failures.append(
                    f"{line} (made by {cause.old.name} {cause.old.class_name}, "
                    f"which was dropped: {cause.reason})"
                )
            else:
                failures.append(line)
        if failures:
            raise VerifyError(
                "The new history does not build the same database as the old one "
                f"on '{alias}':\n  " + "\n  ".join(failures) + "\nIf new databases "
                "need it, list the operation that made it in "
                "REMAKE_MIGRATIONS_KEEP_OPERATIONS (for an operation that changes the "
                "models' state, only its database part is carried); if they do not, "
                "list it in REMAKE_MIGRATIONS_DROP_OPERATIONS."
            )
    return Proof(list(observation.builds), leftovers, requested)


def _leftover_tables(fates: Sequence[Fate], snapshot: Snapshot) -> dict[str, list[str]]:
    """Tables that operations changing the state by hand touched, and which
    migrations those were."""
    found: dict[str, list[str]] = {}
    for fate in fates:
        if fate.action != RECREATE:
            continue
        app, name, _index = fate.old.key
        for table in tables_of(fate.old.operation, app, snapshot.old_state):
            found.setdefault(table, []).append(f"{app}.{name}")
    return found


def _made_by(
    line: str,
    fates: Sequence[Fate],
    effects: Mapping[OperationKey, Effect] | None,
) -> Fate | None:
    """The dropped operation whose observed effect names what ``line`` is about."""
    if not effects:
        return None
    names = re.findall(r"'([^']+)'", line)
    for fate in reversed(fates):  # the last one to touch it explains the end state
        effect = effects.get(fate.old.key)
        if effect is None or fate.action != DROP:
            continue
        said = " ".join(effect.schema)
        if any(f"'{name}'" in said or name in effect.rows for name in names):
            return fate
    return None


def _explain_failed_build(
    exc: throwaway.SchemaCheckError,
    fates: Sequence[Fate],
    placements: Mapping[OperationKey, tuple[str, str]],
) -> str:
    """Name the carried operations of the migration that failed, and the ways out."""
    if not exc.migration:
        return str(exc)
    failed = tuple(exc.migration.split(".", 1))
    carried = [
        fate.old
        for fate in fates
        if fate.action == CARRY and placements.get(fate.old.key) == failed
    ]
    if not carried:
        return str(exc)
    names = ", ".join(
        f"{old.name} {old.class_name}"
        + (f" ({old.functions[0].rsplit('.', 1)[-1]})" if old.functions else "")
        for old in carried
    )
    return (
        f"{exc} It holds operations carried from the old history: {names}. Carried "
        "code runs against the current models, not the historical ones it was "
        "written for. Make it work with the current models, mark it elidable=True, "
        "or list it in REMAKE_MIGRATIONS_DROP_OPERATIONS (or pass --drop-operation) "
        "if new databases do not need it."
    )
