"""Carry: decide what a new database needs of the old operations the models
cannot re-create.

Every existing database has run them already (a remake needs fully migrated
databases), so only their effect on a *new* database matters, and that is
observed: the old history is built on a new database and each operation's
effect recorded (:mod:`django_remake.throwaway`). The rules, in order:

1. ``state`` operations: their state part comes back from the models; the
   database part is not carried (the proof names any difference it leaves).
2. Listed in ``REMAKE_MIGRATIONS_DROP_OPERATIONS`` (or ``--drop-operation``):
   dropped. Listed in ``REMAKE_MIGRATIONS_KEEP_OPERATIONS``: carried.
3. ``elidable=True``: dropped, as Django's squashing drops it.
4. Extensions and collations: carried, before any schema.
5. Observed: carried when it changed rows or the schema of the new database,
   dropped when it changed nothing (a back-fill over empty tables). With
   ``--drop-data-migrations``, a RunPython or RunSQL that created no schema
   object is dropped too.
6. Not observed (no new database could be made): carried, and the report says
   why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db.migrations import operations as core_operations
from django.db.migrations.operations.base import Operation

from .errors import PlanError
from .inventory import OldOperation, OperationKey
from .observe import Effect

CARRY = "carry"
DROP = "drop"
RECREATE = "recreate"


@dataclass(frozen=True)
class Fate:
    """What happens to one old operation, and why, in words for the report."""

    old: OldOperation
    action: str  # CARRY, DROP or RECREATE
    reason: str
    #: carried before the schema of the new history (extensions, collations)
    first: bool = False
    #: tables it touched (read or written), when observed; None when unknown
    tables: frozenset[str] | None = None
    #: it changed the schema (DDL), when observed; True when unknown
    ddl: bool = True
    #: dropped because the user said so (elidable, a setting, an option): the
    #: difference it makes is expected, not a loss
    requested: bool = False
    #: what is carried: the old operation itself, or only its database part
    part: Operation | None = field(default=None, compare=False, repr=False)

    @property
    def operation(self) -> Operation:
        return self.part if self.part is not None else self.old.operation


@dataclass(frozen=True)
class Rules:
    """The user's overrides."""

    keep: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    drop_data_migrations: bool = False


_DDL = re.compile(r"\b(CREATE|ALTER|DROP|COMMENT|GRANT|REVOKE)\b", re.IGNORECASE)


def matches(pattern: str, old: OldOperation) -> bool:
    """``app.migration`` (every operation in it), ``app.migration #N`` or
    ``app.migration:N`` (the N-th, from 1), or a function's name, bare or
    dotted."""
    app, name, index = old.key
    text = pattern.strip()
    if text in (f"{app}.{name}", old.name, f"{app}.{name}:{index + 1}"):
        return True
    return any(
        text in (function, function.rsplit(".", 1)[-1]) for function in old.functions
    )


def check_rules(rules: Rules, inventory: Iterable[OldOperation]) -> None:
    """Every pattern must name something, and nothing may be both kept and dropped."""
    inventory = list(inventory)
    for setting, patterns in (("KEEP", rules.keep), ("DROP", rules.drop)):
        for pattern in patterns:
            if not any(matches(pattern, old) for old in inventory):
                raise PlanError(
                    f"REMAKE_MIGRATIONS_{setting}_OPERATIONS names '{pattern}', which "
                    "matches no RunPython, RunSQL or other operation of the old "
                    "history that the models cannot re-create. Use 'app.migration', "
                    "'app.migration #N' (as the plan lists them) or a function name."
                )
    both = [
        old.name
        for old in inventory
        if any(matches(p, old) for p in rules.keep)
        and any(matches(p, old) for p in rules.drop)
    ]
    if both:
        raise PlanError(
            "These operations are listed both to keep and to drop: "
            + ", ".join(both)
            + ". Remove them from one of REMAKE_MIGRATIONS_KEEP_OPERATIONS and "
            "REMAKE_MIGRATIONS_DROP_OPERATIONS."
        )


def _is_data_migration(old: OldOperation) -> bool:
    return isinstance(old.operation, core_operations.RunPython | core_operations.RunSQL)


def _sql_text(old: OldOperation) -> str:
    sql = getattr(old.operation, "sql", "")
    if isinstance(sql, list | tuple):
        return " ".join(
            str(item[0] if isinstance(item, tuple) else item) for item in sql
        )
    return str(sql)


def describe_effect(effect: Effect) -> str:
    """``changed 3 rows of 'shop_carrier'; created view 'v'``."""
    return "; ".join(effect.describe()) or "changed the database"


def database_part(old: OldOperation) -> Operation:
    """The database half of an operation that also changes the models' state;
    the state half comes back from the models."""
    operation = old.operation
    if isinstance(operation, core_operations.SeparateDatabaseAndState):
        return core_operations.SeparateDatabaseAndState(
            database_operations=list(operation.database_operations)
        )
    if isinstance(operation, core_operations.RunSQL):
        return core_operations.RunSQL(
            operation.sql,
            operation.reverse_sql,
            hints=operation.hints,
            elidable=operation.elidable,
        )
    raise PlanError(
        f"{old.name} ({old.class_name}) is listed in REMAKE_MIGRATIONS_KEEP_OPERATIONS, "
        "but it changes the models' state and its database part cannot be taken "
        "apart from it. Remove it from the setting; the models re-create it."
    )


def decide(
    inventory: Sequence[OldOperation],
    effects: Mapping[OperationKey, Effect] | None,
    rules: Rules,
    *,
    not_observed: str = "",
) -> list[Fate]:
    """The fate of every operation of ``inventory``, in the same order.

    ``effects`` holds what each observed operation did; ``None`` when nothing
    could be observed, and then ``not_observed`` says why.
    """
    check_rules(rules, inventory)
    fates = []
    for old in inventory:
        fates.append(_fate(old, effects, rules, not_observed))
    return fates


def _fate(
    old: OldOperation,
    effects: Mapping[OperationKey, Effect] | None,
    rules: Rules,
    not_observed: str,
) -> Fate:
    if old.kind == "state" and any(matches(p, old) for p in rules.keep):
        return Fate(
            old,
            CARRY,
            "listed in REMAKE_MIGRATIONS_KEEP_OPERATIONS; its database part only",
            part=database_part(old),
        )
    if old.kind == "state":
        return Fate(
            old,
            RECREATE,
            "it changes the models' state, which the new history re-creates from "
            "the models; its database part is not carried",
        )
    effect = effects.get(old.key) if effects is not None else None
    tables = (
        frozenset(effect.tables) | frozenset(effect.rows)
        if effect is not None
        else None
    )
    ddl = bool(effect.schema) if effect is not None else True
    first = old.kind == "setup" or (
        effect is not None and effect.global_only and not effect.tables
    )

    def carry(reason: str) -> Fate:
        return Fate(old, CARRY, reason, first, tables, ddl)

    if any(matches(p, old) for p in rules.drop):
        return Fate(
            old, DROP, "listed in REMAKE_MIGRATIONS_DROP_OPERATIONS", requested=True
        )
    if any(matches(p, old) for p in rules.keep):
        return carry("listed in REMAKE_MIGRATIONS_KEEP_OPERATIONS")
    if old.elidable:
        return Fate(old, DROP, "elidable", requested=True)
    if old.kind == "setup":
        return carry("it creates what later schema may need; carried first")
    if effect is None:
        creates_schema = not isinstance(
            old.operation, core_operations.RunPython
        ) and bool(_DDL.search(_sql_text(old)))
        if (
            rules.drop_data_migrations
            and _is_data_migration(old)
            and not creates_schema
        ):
            return Fate(
                old,
                DROP,
                "--drop-data-migrations (it creates no schema object)",
                requested=True,
            )
        if effects is None:
            return carry(f"not observed ({not_observed}); carried to be safe")
        return carry("not observed (it did not run on the new database); carried")
    if rules.drop_data_migrations and _is_data_migration(old) and not effect.schema:
        return Fate(
            old,
            DROP,
            "--drop-data-migrations (it creates no schema object)",
            requested=True,
        )
    if effect.changed:
        return carry(describe_effect(effect))
    return Fate(old, DROP, "no effect on a new database")
