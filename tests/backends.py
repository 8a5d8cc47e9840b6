"""Which real database servers the tests use, and how to make throwaway databases.

``REMAKE_TEST_BACKENDS`` is a comma-separated list of ``sqlite``, ``postgresql``
and ``mariadb`` (default: ``sqlite``). A listed server that cannot be reached is
an error, never a skip: CI asks for all three and must fail if one is down.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KNOWN = ("sqlite", "postgresql", "mariadb")


def enabled_backends() -> list[str]:
    raw = os.environ.get("REMAKE_TEST_BACKENDS", "sqlite")
    names = [part.strip() for part in raw.split(",") if part.strip()]
    unknown = sorted(set(names) - set(KNOWN))
    if unknown:
        raise RuntimeError(
            f"REMAKE_TEST_BACKENDS names unknown backends {unknown}; use {KNOWN}"
        )
    return names


def pg_params() -> dict[str, str]:
    return {
        "HOST": os.environ.get("REMAKE_TEST_PG_HOST", "127.0.0.1"),
        "PORT": os.environ.get("REMAKE_TEST_PG_PORT", "5432"),
        "USER": os.environ.get("REMAKE_TEST_PG_USER", "postgres"),
        "PASSWORD": os.environ.get("REMAKE_TEST_PG_PASSWORD", ""),
    }


def mariadb_params() -> dict[str, str]:
    return {
        "HOST": os.environ.get("REMAKE_TEST_MARIADB_HOST", "127.0.0.1"),
        "PORT": os.environ.get("REMAKE_TEST_MARIADB_PORT", "3306"),
        "USER": os.environ.get("REMAKE_TEST_MARIADB_USER", "root"),
        "PASSWORD": os.environ.get("REMAKE_TEST_MARIADB_PASSWORD", ""),
    }


@dataclass(frozen=True)
class Database:
    """One throwaway database: its Django settings dict and how to drop it."""

    backend: str
    name: str
    settings: dict[str, Any]


def _admin_execute(backend: str, sql: str) -> None:
    if backend == "postgresql":
        import psycopg

        p = pg_params()
        with psycopg.connect(
            host=p["HOST"],
            port=int(p["PORT"]),
            user=p["USER"],
            password=p["PASSWORD"] or None,
            dbname="postgres",
            autocommit=True,
        ) as conn:
            conn.execute(sql)
    elif backend == "mariadb":
        import MySQLdb

        p = mariadb_params()
        conn = MySQLdb.connect(
            host=p["HOST"], port=int(p["PORT"]), user=p["USER"], passwd=p["PASSWORD"]
        )
        try:
            conn.cursor().execute(sql)
        finally:
            conn.close()
    else:  # pragma: no cover - sqlite needs no server
        raise ValueError(backend)


def create_database(backend: str, directory: Path) -> Database:
    """Create an empty database on ``backend`` with a unique name."""
    name = f"remake_{uuid.uuid4().hex[:12]}"
    if backend == "sqlite":
        path = directory / f"{name}.sqlite3"
        return Database(
            backend, name, {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}
        )
    if backend == "postgresql":
        _admin_execute(backend, f'CREATE DATABASE "{name}"')
        return Database(
            backend,
            name,
            {"ENGINE": "django.db.backends.postgresql", "NAME": name, **pg_params()},
        )
    if backend == "mariadb":
        _admin_execute(backend, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        return Database(
            backend,
            name,
            {
                "ENGINE": "django.db.backends.mysql",
                "NAME": name,
                "OPTIONS": {"charset": "utf8mb4"},
                **mariadb_params(),
            },
        )
    raise ValueError(f"unknown backend {backend!r}")


def drop_database(db: Database) -> None:
    if db.backend == "postgresql":
        _admin_execute(db.backend, f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')
    elif db.backend == "mariadb":
        _admin_execute(db.backend, f"DROP DATABASE IF EXISTS `{db.name}`")


@contextmanager
def throwaway_database(backend: str, directory: Path) -> Iterator[Database]:
    db = create_database(backend, directory)
    try:
        yield db
    finally:
        drop_database(db)
