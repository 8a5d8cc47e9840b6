"""Operations of the old history that the autodetector cannot re-create.

The new history is made from the models, so only schema that the models
describe comes back. Data migrations (RunPython), raw SQL (RunSQL), database
extensions and collations, SeparateDatabaseAndState and custom operations are
not in the new files; the remake lists each one so the user can decide.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.migrations import operations as core_operations
from django.db.migrations.operations.base import Operation

from .snapshot import Key, Snapshot

#: Operations the autodetector writes itself, so the new history has their effect.
_RECREATED = frozenset(
    getattr(core_operations, name)
    for name in core_operations.__all__
    if name not in {"RunPython", "RunSQL", "SeparateDatabaseAndState"}
)


@dataclass(frozen=True)
class NotRecreated:
    """One old operation whose effect a new database will not get."""

    migration: Key
    description: str
    kind: str
    elidable: bool


def not_recreated(snapshot: Snapshot) -> list[NotRecreated]:
    found = []
    for key in snapshot.old_nodes():
        for operation in snapshot.migration(key).operations:
            if type(operation) in _RECREATED:
                continue
            found.append(
                NotRecreated(
                    migration=key,
                    description=_describe(operation),
                    kind=type(operation).__name__,
                    elidable=bool(getattr(operation, "elidable", False)),
                )
            )
    return found


def _describe(operation: Operation) -> str:
    try:
        return str(operation.describe())
    except Exception:  # a custom operation's describe() is not ours to trust
        return type(operation).__name__
