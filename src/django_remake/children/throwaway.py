"""Child side of :mod:`django_remake.throwaway`: build and compare databases.

``python -m django_remake.children.throwaway build ALIAS NAME [--observe FILE]``
creates a database the way ``manage.py test`` does and migrates it with the
files on disk, recording what the operations listed in FILE (a JSON list of
``[app_label, migration, index]``) changed (:mod:`django_remake.observe`);
``compare ALIAS OLD NEW [--rows | --row-counts] [--since T]`` reads both
schemas and diffs them, and with ``--rows`` their rows too
(:mod:`django_remake.rows`). Dropping one needs no fresh process: the parent
does it (:func:`django_remake.throwaway.drop`).

A build says how many migrations it has applied as it goes
(:func:`django_remake.children.tell_progress`), so that the parent can show it.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import Failed, serve, summary, tell_progress

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

_CREATE_FAILED = "Got an error creating the test database: "  # create_test_db's log
# ``--row-counts`` (the former comparison: counts only) leaves out the rows that
# post_migrate handlers make; kept until the remake moves to ``--rows``.
_COUNTS_IGNORED = frozenset({"django_content_type", "auth_permission"})


def build(alias: str, name: str, observe: str | None = None) -> dict[str, Any]:
    from django.db import connections

    from ..observe import observing

    keys = []
    if observe:
        keys = [
            (str(a), str(m), int(i))
            for a, m, i in json.loads(Path(observe).read_text())
        ]
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
        with (
            contextlib.redirect_stderr(log),
            _counting(connection),
            observing(connection, keys) as recorder,
        ):
            real_name = create(verbosity=0, autoclobber=True, keepdb=False, **extra)
    except SystemExit as exc:
        # When the server refuses to create the database, create_test_db logs
        # why to stderr and exits, as it would end a test run.
        reasons = [line for line in log.getvalue().splitlines() if line.strip()]
        reason = reasons[0] if reasons else f"exit code {exc.code}"
        raise Failed(reason.removeprefix(_CREATE_FAILED), stage="create") from None
    except Exception as exc:
        migration = _pending_migration(connection, name)
        created = connection.settings_dict["NAME"] == name
        stage = "migrate" if created else "create"
        raise Failed(summary(exc), stage=stage, migration=migration) from exc
    finally:
        connection.close()
    effects = [[*key, effect.to_json()] for key, effect in recorder.effects.items()]
    return {
        "alias": alias,
        "vendor": connection.vendor,
        "name": real_name,
        "effects": effects,
    }


@contextlib.contextmanager
def _counting(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Tell the parent how many migrations the build has recorded so far.

    ``pre_migrate`` hands over the plan, which gives the total: one row in
    ``django_migrations`` per migration, or per migration a squashed one
    replaces. Each ``INSERT`` into that table, seen through
    ``connection.execute_wrapper``, is one more done. A count only for show:
    it is capped at the total and set to it at the end.
    """
    from django.db.models.signals import pre_migrate

    count = {"done": 0, "total": 0, "told": 0.0}

    def on_pre_migrate(
        *, using: str, plan: Sequence[Any] | None = None, **_: Any
    ) -> None:
        if using == connection.alias and plan is not None and not count["total"]:
            count["total"] = sum(
                len(migration.replaces or ()) or 1
                for migration, backwards in plan
                if not backwards
            )
            tell_progress(0, int(count["total"]))

    def watch(
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: Mapping[str, Any],
    ) -> Any:
        result = execute(sql, params, many, context)
        if (
            count["total"]
            and "django_migrations" in sql
            and sql.lstrip()[:6].upper() == "INSERT"
        ):
            count["done"] = min(count["done"] + 1, count["total"])
            now = time.monotonic()
            if now - count["told"] > 0.1:
                count["told"] = now
                tell_progress(int(count["done"]), int(count["total"]))
        return result

    uid = "django_remake.children.throwaway.counting"
    pre_migrate.connect(on_pre_migrate, weak=False, dispatch_uid=uid)
    try:
        with connection.execute_wrapper(watch):
            yield
    finally:
        pre_migrate.disconnect(dispatch_uid=uid)
    if count["total"]:
        tell_progress(int(count["total"]), int(count["total"]))


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


def compare(
    alias: str,
    old_name: str,
    new_name: str,
    rows: str | None,
    since: float | None,
) -> dict[str, Any]:
    from django.db import connections

    from ..rows import count_rows, diff_rows
    from ..schema import diff_schemas, read_schema

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
        row_differences = []
        if rows == "content":
            row_differences = diff_rows(opened[0], opened[1], old, new, since=since)
        elif rows == "counts":
            common = {t.name for t in old.tables} & {t.name for t in new.tables}
            tables = sorted(common - _COUNTS_IGNORED)
            a, b = count_rows(opened[0], tables), count_rows(opened[1], tables)
            row_differences = [
                f"table '{t}': {a[t]} {'row' if a[t] == 1 else 'rows'}"
                f" in old, {b[t]} in new"
                for t in tables
                if a[t] != b[t]
            ]
    finally:
        for connection in opened:
            connection.close()
    return {"differences": differences, "rows": row_differences}


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m django_remake.children.throwaway")
    commands = parser.add_subparsers(dest="command", required=True)
    for command, names in (
        ("build", ["name"]),
        ("compare", ["old", "new"]),
    ):
        sub = commands.add_parser(command)
        for name in ["alias", *names]:
            sub.add_argument(name)
        if command == "build":
            sub.add_argument("--observe")
        if command == "compare":
            rows = sub.add_mutually_exclusive_group()
            rows.add_argument("--rows", action="store_const", const="content")
            rows.add_argument(
                "--row-counts", dest="rows", action="store_const", const="counts"
            )
            sub.add_argument("--since", type=float)
    args = parser.parse_args(argv)
    if args.command == "build":
        return build(args.alias, args.name, args.observe)
    return compare(args.alias, args.old, args.new, args.rows, args.since)


if __name__ == "__main__":
    sys.exit(serve(main))
