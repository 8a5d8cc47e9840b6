"""Throwaway databases built from a migration history, to prove what it builds.

A remake builds the old history on a new, empty database before it replaces
the files, and the new history after, on each database backend the project
uses, and compares what they hold (:mod:`django_remake.schema`). The process
that writes the files has the old migration modules imported, so every build
runs in a child (:mod:`django_remake.children.throwaway`) that imports them
from disk as a deploy would.

A throwaway database is made by Django's test-database machinery
(``creation.create_test_db``), so it honours the alias's ``TEST`` settings
(``TEMPLATE``, ``CHARSET``, ``COLLATION``) exactly as ``manage.py test`` does,
except that migrations always run: proving them is the point. On SQLite it is
a file in the temporary directory, so that a later process can open it.

The build of the old history also observes the operations the new history
may have to carry (``observe``): what each one changed on that new database
is in :attr:`Throwaway.effects` (:mod:`django_remake.observe`), at no more
cost than the build itself.

Typical use, one alias::

    with throwaway(alias, "old", observe=candidates) as old:
        carried = {key for key, effect in old.effects.items() if effect.changed}
        ...  # replace the migration files
        with throwaway(alias, "new") as new:
            found = compare(alias, old, new, rows=True)
            if found: ...  # found.schema, found.rows: one line per difference
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import children
from .errors import VerifyError
from .observe import Effect, OperationKey

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.backends.utils import CursorWrapper

__all__ = [
    "Comparison",
    "Effect",
    "OperationKey",
    "SchemaCheckError",
    "Throwaway",
    "aliases_to_check",
    "build",
    "compare",
    "drop",
    "throwaway",
]

SUPPORTED_VENDORS = ("sqlite", "postgresql", "mysql")  # what read_schema can read

_TAG = re.compile(r"[a-z][a-z0-9]{0,15}")
# Only names that build() makes may be dropped: a guard against dropping a
# database that holds data because a caller passed the wrong name.
_OURS = re.compile(r"remake_[a-z][a-z0-9]{0,15}_[0-9a-f]{12}(\.sqlite3)?")


class SchemaCheckError(VerifyError):
    """A throwaway database could not be built, compared or dropped."""

    def __init__(
        self,
        message: str,
        *,
        detail: str = "",
        migration: str | None = None,
        stage: str = "",
    ) -> None:
        super().__init__(message)
        self.detail = detail  # the child's last error line
        self.migration = migration  # "app_label.name" being applied when it failed
        self.stage = stage  # "create" when the database itself could not be made


@dataclass(frozen=True)
class Throwaway:
    """A database built from one migration history, for one alias.

    ``name`` is where the schema lives: a database name on the alias's server,
    or a file path on SQLite. Settings of the alias with ``NAME`` replaced by
    it open the database. ``effects`` holds what each observed operation that
    ran changed; ``started`` is when the build began (seconds since the epoch).
    """

    alias: str
    tag: str
    vendor: str
    name: str
    effects: Mapping[OperationKey, Effect] = field(default_factory=dict, compare=False)
    started: float = field(default=0.0, compare=False)


@dataclass(frozen=True)
class Comparison:
    """Differences between two throwaway databases, one line each.

    ``schema`` lines come from :func:`django_remake.schema.diff_schemas`;
    ``rows`` lines name a table whose rows differ. Iterating gives every line,
    schema first; an empty comparison is false.
    """

    schema: tuple[str, ...] = ()
    rows: tuple[str, ...] = ()

    @property
    def lines(self) -> list[str]:
        return [*self.schema, *self.rows]

    def __iter__(self) -> Iterator[str]:
        return iter(self.lines)

    def __bool__(self) -> bool:
        return bool(self.schema or self.rows)


def aliases_to_check(aliases: Iterable[str]) -> list[str]:
    """One alias per distinct database, in the given order.

    A test mirror (``TEST["MIRROR"]``) has no database of its own, and two
    aliases on the same ENGINE, NAME, HOST and PORT share one; building either
    again would prove nothing new.
    """
    from django.db import connections

    seen: set[tuple[str, ...]] = set()
    result = []
    for alias in aliases:
        conf = connections[alias].settings_dict
        if conf.get("TEST", {}).get("MIRROR"):
            continue
        key = tuple(str(conf.get(k) or "") for k in ("ENGINE", "NAME", "HOST", "PORT"))
        if key not in seen:
            seen.add(key)
            result.append(alias)
    return result


def build(
    alias: str,
    tag: str = "old",
    *,
    observe: Collection[OperationKey] = (),
    progress: children.ChildProgress | None = None,
) -> Throwaway:
    """Create a throwaway database for ``alias`` and migrate it with the files on disk.

    Each operation in ``observe`` that the build runs gets an :class:`Effect`
    in :attr:`Throwaway.effects`; one the build does not run (in a migration
    that a squash replaces, say) gets none. Raise :class:`SchemaCheckError` if
    the history does not build; nothing is left behind then. ``progress`` is
    told how many migrations the build has applied, as it goes.
    """
    from django.db import connections

    if not _TAG.fullmatch(tag):
        raise ValueError(f"tag must be 1-16 lowercase letters and digits, not {tag!r}")
    vendor = connections[alias].vendor
    if vendor not in SUPPORTED_VENDORS:
        raise SchemaCheckError(
            f"Cannot verify the schema of database '{alias}': django-remake reads"
            f" SQLite, PostgreSQL and MySQL/MariaDB schemas, not {vendor}.",
            stage="create",
        )
    name = f"remake_{tag}_{uuid.uuid4().hex[:12]}"
    if vendor == "sqlite":
        name = os.path.join(tempfile.gettempdir(), f"{name}.sqlite3")
    wanted = Throwaway(alias, tag, vendor, name)
    started = time.time()
    try:
        with tempfile.TemporaryDirectory(prefix="django-remake-") as folder:
            args = []
            if observe:
                keys = Path(folder) / "observe.json"
                keys.write_text(json.dumps(sorted(set(observe))), encoding="utf-8")
                args = ["--observe", str(keys)]
            answer = children.run(
                "throwaway", "build", alias, name, *args, progress=progress
            )
    except children.ChildError as exc:
        migration = exc.answer.get("migration")
        stage = str(exc.answer.get("stage") or "")
        if stage == "create":
            message = (
                f"Could not create a new database for '{alias}' ({vendor}):"
                f" {exc.detail}. It is made as `python manage.py test` makes its"
                f" test database, from the TEST settings of '{alias}': check that"
                " this works."
            )
        else:
            where = f" while applying '{migration}'" if migration else ""
            message = (
                f"The {tag} migration history does not build on database '{alias}'"
                f" ({vendor}){where}: {exc.detail}. Run `python manage.py migrate"
                f" --database {alias}` against an empty database to see the whole"
                " error."
            )
        try:
            drop(alias, wanted)
        except SchemaCheckError as leftover:
            message += f" {leftover}"
        raise SchemaCheckError(
            message, detail=exc.detail, migration=migration, stage=stage
        ) from None
    effects = {
        (str(app), str(migration), int(index)): Effect.from_json(data)
        for app, migration, index, data in answer.get("effects", [])
    }
    return Throwaway(alias, tag, vendor, str(answer["name"]), effects, started)


def compare(
    alias: str,
    old: Throwaway,
    new: Throwaway,
    *,
    rows: bool = False,
    tables_with_rows: bool = False,
    progress: children.ChildProgress | None = None,
) -> Comparison:
    """Differences between the two databases' schemas, and with ``rows`` their rows.

    Rows are compared per table (:mod:`django_remake.rows`): the same rows
    with other surrogate ids, or with dates and times of the builds' own
    clock, are equal. ``tables_with_rows``, the former comparison, compares
    row counts only, leaving out content types and permissions; it stays
    until the remake uses ``rows``.
    """
    for built in (old, new):
        if built.alias != alias:
            raise ValueError(f"{built} was not built for database '{alias}'")
    args = ["compare", alias, old.name, new.name]
    if rows:
        since = min(b.started for b in (old, new)) or time.time() - 3600
        args += ["--rows", "--since", repr(since)]
    elif tables_with_rows:
        args += ["--row-counts"]
    try:
        answer = children.run("throwaway", *args, progress=progress)
    except children.ChildError as exc:
        raise SchemaCheckError(
            f"Could not compare the throwaway databases of '{alias}': {exc.detail}.",
            detail=exc.detail,
        ) from None
    return Comparison(
        tuple(str(line) for line in answer["differences"]),
        tuple(str(line) for line in answer.get("rows", ())),
    )


def drop(alias: str, built: Throwaway) -> None:
    """Remove a throwaway database; dropping one that is gone does nothing."""
    if not _OURS.fullmatch(os.path.basename(built.name)):
        raise ValueError(f"refusing to drop {built.name!r}: build() did not name it")
    if built.vendor == "sqlite":
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(built.name + suffix).unlink(missing_ok=True)
        return
    # In this process: dropping imports no migration, so it needs no fresh
    # child (a Python start-up and a Django set-up, twice per proof).
    from django.db import DatabaseError, connections

    connection = connections[alias]
    try:
        with _server_cursor(connection) as cursor:
            cursor.execute(
                f"DROP DATABASE IF EXISTS {connection.ops.quote_name(built.name)}"
            )
    except DatabaseError as exc:
        detail = children.summary(exc)
        raise SchemaCheckError(
            f"The throwaway database '{built.name}' of '{alias}' could not be"
            f" dropped: {detail}. Drop it by hand.",
            detail=detail,
        ) from None


@contextlib.contextmanager
def _server_cursor(connection: BaseDatabaseWrapper) -> Iterator[CursorWrapper]:
    """A cursor on the alias's server outside any database, to drop one.

    Private Django API: ``_nodb_cursor`` is how ``create_test_db`` reached the
    server to create the database (on PostgreSQL the ``postgres`` database,
    with Django's fallback), so dropping goes the same way. Present and
    unchanged in every Django version we support; the tests drop on each.
    """
    with connection._nodb_cursor() as cursor:
        yield cursor


@contextlib.contextmanager
def throwaway(
    alias: str,
    tag: str = "old",
    *,
    observe: Collection[OperationKey] = (),
    progress: children.ChildProgress | None = None,
) -> Iterator[Throwaway]:
    """:func:`build` a throwaway database, and drop it however the block ends.

    If the block raises, a failure to drop is not raised over its exception.
    """
    built = build(alias, tag, observe=observe, progress=progress)
    try:
        yield built
    except BaseException:
        with contextlib.suppress(SchemaCheckError):
            drop(alias, built)
        raise
    drop(alias, built)
