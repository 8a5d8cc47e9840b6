"""Prove that the old and the new history build the same schema, for real.

``remakemigrations --verify-schema`` builds one throwaway database from the
migration files on disk before they are replaced, and one after, on the
project's own backend, then compares what they hold with
:mod:`django_remake.schema`. The process that writes the files has the old
migration modules imported, so every step runs in a child
(``python -m django_remake.schemacheck``) that imports them from disk as a
deploy would, and answers with one line of JSON on stdout.

A throwaway database is made by Django's test-database machinery
(``creation.create_test_db``), so it honours the alias's ``TEST`` settings
(``TEMPLATE``, ``CHARSET``, ``COLLATION``) exactly as ``manage.py test`` does,
except that migrations always run: proving them is the point. On SQLite it is
a file in the temporary directory, so that a later process can open it.

Typical use, one alias::

    with throwaway(alias, "old") as old:
        ...  # replace the migration files
        with throwaway(alias, "new") as new:
            problems = compare(alias, old, new, tables_with_rows=True)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import VerifyError
from .project import environ_for_subprocess

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.backends.utils import CursorWrapper

__all__ = [
    "ROWS_IGNORED",
    "SchemaCheckError",
    "Throwaway",
    "aliases_to_check",
    "build",
    "compare",
    "drop",
    "throwaway",
]

SUPPORTED_VENDORS = ("sqlite", "postgresql", "mysql")  # what read_schema can read

# Rows that post_migrate handlers (re)create, or that record the history itself.
ROWS_IGNORED = frozenset(
    {"django_migrations", "django_content_type", "auth_permission"}
)

CHILD_TIMEOUT = 3600  # seconds; migrating a large history can take a while

_CREATE_FAILED = "Got an error creating the test database: "  # create_test_db's log

_TAG = re.compile(r"[a-z][a-z0-9]{0,15}")
# Only names that build() makes may be dropped: a guard against dropping a
# database that holds data because a caller passed the wrong name.
_OURS = re.compile(r"remake_[a-z][a-z0-9]{0,15}_[0-9a-f]{12}(\.sqlite3)?")


class SchemaCheckError(VerifyError):
    """A throwaway database could not be built, compared or dropped."""

    def __init__(
        self, message: str, *, detail: str = "", migration: str | None = None
    ) -> None:
        super().__init__(message)
        self.detail = detail  # the child's last error line
        self.migration = migration  # "app_label.name" being applied when it failed


@dataclass(frozen=True)
class Throwaway:
    """A database built from one migration history, for one alias.

    ``name`` is where the schema lives: a database name on the alias's server,
    or a file path on SQLite. Settings of the alias with ``NAME`` replaced by
    it open the database.
    """

    alias: str
    tag: str
    vendor: str
    name: str


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


def build(alias: str, tag: str = "old") -> Throwaway:
    """Create a throwaway database for ``alias`` and migrate it with the files on disk.

    Raise :class:`SchemaCheckError` if the history does not build; nothing is
    left behind then.
    """
    from django.db import connections

    if not _TAG.fullmatch(tag):
        raise ValueError(f"tag must be 1-16 lowercase letters and digits, not {tag!r}")
    vendor = connections[alias].vendor
    if vendor not in SUPPORTED_VENDORS:
        raise SchemaCheckError(
            f"Cannot verify the schema of database '{alias}': django-remake reads"
            f" SQLite, PostgreSQL and MySQL/MariaDB schemas, not {vendor}."
        )
    name = f"remake_{tag}_{uuid.uuid4().hex[:12]}"
    if vendor == "sqlite":
        name = os.path.join(tempfile.gettempdir(), f"{name}.sqlite3")
    wanted = Throwaway(alias, tag, vendor, name)
    try:
        answer = _run_child("build", alias, name)
    except _ChildError as exc:
        migration = exc.answer.get("migration")
        if exc.answer.get("stage") == "create":
            message = (
                f"Could not create a throwaway database for '{alias}' ({vendor}):"
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
            message, detail=exc.detail, migration=migration
        ) from None
    return Throwaway(alias, tag, vendor, str(answer["name"]))


def compare(
    alias: str, old: Throwaway, new: Throwaway, *, tables_with_rows: bool = False
) -> list[str]:
    """Differences between the two databases' schemas; ``[]`` when equal.

    With ``tables_with_rows``, also tables whose row counts differ, such as
    rows a data migration seeded in the old history, which a remade history
    does not seed again (``ROWS_IGNORED`` are left out).
    """
    for throwaway in (old, new):
        if throwaway.alias != alias:
            raise ValueError(f"{throwaway} was not built for database '{alias}'")
    args = ["compare", alias, old.name, new.name]
    try:
        answer = _run_child(*args, *(["--rows"] if tables_with_rows else []))
    except _ChildError as exc:
        raise SchemaCheckError(
            f"Could not compare the throwaway databases of '{alias}': {exc.detail}.",
            detail=exc.detail,
        ) from None
    return [str(line) for line in answer["differences"]]


def drop(alias: str, throwaway: Throwaway) -> None:
    """Remove a throwaway database; dropping one that is gone does nothing."""
    if not _OURS.fullmatch(os.path.basename(throwaway.name)):
        raise ValueError(
            f"refusing to drop {throwaway.name!r}: build() did not name it"
        )
    if throwaway.vendor == "sqlite":
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(throwaway.name + suffix).unlink(missing_ok=True)
        return
    try:
        _run_child("drop", alias, throwaway.name)
    except _ChildError as exc:
        raise SchemaCheckError(
            f"The throwaway database '{throwaway.name}' of '{alias}' could not be"
            f" dropped: {exc.detail}. Drop it by hand.",
            detail=exc.detail,
        ) from None


@contextlib.contextmanager
def throwaway(alias: str, tag: str = "old") -> Iterator[Throwaway]:
    """:func:`build` a throwaway database, and drop it however the block ends.

    If the block raises, a failure to drop is not raised over its exception.
    """
    built = build(alias, tag)
    try:
        yield built
    except BaseException:
        with contextlib.suppress(SchemaCheckError):
            drop(alias, built)
        raise
    drop(alias, built)


class _ChildError(Exception):
    """A child failed: the line that says why, and the rest of its answer."""

    def __init__(self, detail: str, answer: dict[str, Any]) -> None:
        super().__init__(detail)
        self.detail = detail
        self.answer = answer


def _run_child(*args: str) -> dict[str, Any]:
    """Run this module in a child process and return its JSON answer."""
    try:
        result = subprocess.run(
            [sys.executable, "-m", "django_remake.schemacheck", *args],
            env=environ_for_subprocess(),
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise _ChildError(f"no answer within {CHILD_TIMEOUT} seconds", {}) from None
    answer: dict[str, Any] = {}
    lines = result.stdout.strip().splitlines()
    with contextlib.suppress(ValueError):
        parsed = json.loads(lines[-1]) if lines else None
        answer = parsed if isinstance(parsed, dict) else {}
    if result.returncode == 0 and answer and "error" not in answer:
        return answer
    # No JSON answer: the child died before it could give one (say, the
    # settings do not import); the last line it wrote to stderr says why.
    errors = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    fallback = errors[-1] if errors else f"exit code {result.returncode}"
    raise _ChildError(str(answer.get("error") or fallback), answer)


# -- child process ----------------------------------------------------------------


class _Failed(Exception):
    """A build failed; ``stage`` is "create" or "migrate"."""

    def __init__(self, error: str, stage: str, migration: str | None = None) -> None:
        super().__init__(error)
        self.stage = stage
        self.migration = migration


def _summary(exc: BaseException) -> str:
    """``Type: first line of the message``: database errors add SQL excerpts below."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _child_build(alias: str, name: str) -> dict[str, Any]:
    import inspect

    from django.db import connections

    connection = connections[alias]
    connection.settings_dict["TEST"] = {
        **connection.settings_dict.get("TEST", {}),
        "NAME": name,
        "MIGRATE": True,
    }
    create = connection.creation.create_test_db
    # Django 6.1 deprecates ``serialize`` (default None: no serialization); before,
    # it defaulted to True and a serialized copy of the database would be wasted work.
    serialize = inspect.signature(create).parameters["serialize"].default
    extra = {} if serialize is None else {"serialize": False}
    log = io.StringIO()
    try:
        with contextlib.redirect_stderr(log):
            real_name = create(verbosity=0, autoclobber=True, keepdb=False, **extra)
    except SystemExit as exc:
        # When the server refuses to create the database, create_test_db logs
        # why to stderr and exits, as it would end a test run.
        reasons = [line for line in log.getvalue().splitlines() if line.strip()]
        reason = reasons[0] if reasons else f"exit code {exc.code}"
        raise _Failed(reason.removeprefix(_CREATE_FAILED), "create") from None
    except Exception as exc:
        migration = _pending_migration(connection, name)
        created = connection.settings_dict["NAME"] == name
        stage = "migrate" if created else "create"
        raise _Failed(_summary(exc), stage, migration) from exc
    finally:
        connection.close()
    return {"alias": alias, "vendor": connection.vendor, "name": real_name}


def _pending_migration(connection: BaseDatabaseWrapper, name: str) -> str | None:
    """The first migration not recorded as applied: the one that failed.

    A failing migration is never recorded, atomic or not, so this holds on
    MariaDB too. ``None`` if the database itself was not made, or every
    migration is recorded (a ``post_migrate`` handler failed).
    """
    from django.db.migrations.executor import MigrationExecutor

    if connection.settings_dict["NAME"] != name:
        return None  # create_test_db failed before it switched to the new database
    try:
        connection.close()
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:
        return None
    migration = plan[0][0] if plan else None
    return f"{migration.app_label}.{migration.name}" if migration else None


def _child_compare(
    alias: str, old_name: str, new_name: str, rows: bool
) -> dict[str, Any]:
    from django.db import connections

    from .schema import diff_schemas, read_schema

    base = connections[alias].settings_dict
    opened = []
    try:
        for tag, name in (("old", old_name), ("new", new_name)):
            if connections[alias].vendor == "sqlite" and not os.path.isfile(name):
                raise FileNotFoundError(
                    f"the {tag} database file {name} does not exist"
                )
            key = f"django_remake_{tag}"
            connections.settings[key] = {
                **base,
                "NAME": name,
                "OPTIONS": dict(base.get("OPTIONS", {})),
            }
            opened.append(connections[key])
        old, new = read_schema(opened[0]), read_schema(opened[1])
        differences = diff_schemas(old, new)
        if rows:
            common = {t.name for t in old.tables} & {t.name for t in new.tables}
            tables = sorted(common - ROWS_IGNORED)
            old_counts, new_counts = (_row_counts(c, tables) for c in opened)
            differences += [
                f"table '{t}': {old_counts[t]} {'row' if old_counts[t] == 1 else 'rows'}"
                f" in old, {new_counts[t]} in new"
                for t in tables
                if old_counts[t] != new_counts[t]
            ]
    finally:
        for connection in opened:
            connection.close()
    return {"differences": differences}


def _row_counts(connection: BaseDatabaseWrapper, tables: list[str]) -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = int(cursor.fetchone()[0])
    return counts


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


def _child_drop(alias: str, name: str) -> dict[str, Any]:
    from django.db import connections

    connection = connections[alias]
    with _server_cursor(connection) as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)}")
    return {"dropped": name}


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m django_remake.schemacheck")
    commands = parser.add_subparsers(dest="command", required=True)
    for command, names in (
        ("build", ["name"]),
        ("compare", ["old", "new"]),
        ("drop", ["name"]),
    ):
        sub = commands.add_parser(command)
        for name in ["alias", *names]:
            sub.add_argument(name)
        if command == "compare":
            sub.add_argument("--rows", action="store_true")
    args = parser.parse_args(argv)
    answer = sys.stdout
    payload: dict[str, Any]
    try:
        # Migrations may print; only the JSON answer goes to stdout.
        with contextlib.redirect_stdout(sys.stderr):
            import django

            django.setup()
            if args.command == "build":
                payload = _child_build(args.alias, args.name)
            elif args.command == "compare":
                payload = _child_compare(args.alias, args.old, args.new, args.rows)
            else:
                payload = _child_drop(args.alias, args.name)
    except _Failed as exc:
        payload = {"error": str(exc), "stage": exc.stage, "migration": exc.migration}
    except Exception as exc:
        payload = {"error": _summary(exc)}
    print(json.dumps(payload), file=answer)
    return 1 if "error" in payload else 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
