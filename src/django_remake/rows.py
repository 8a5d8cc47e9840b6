"""The rows in two databases, compared table by table.

A remake proves that the new history builds what the old one built, rows
included: the rows that migrations insert (seed data, content types and
permissions from ``post_migrate``, a cache table's nothing). Two histories
insert the same rows in another order, so with other surrogate ids; a
carried data migration may run before or after the tables it does not touch.
So each table is compared twice, cheaply first:

1. its row count and a digest over every column (:func:`digests`), computed
   in the database on PostgreSQL and MariaDB and streamed on SQLite. Equal
   digests mean equal rows.
2. only for a table whose digests differ, its *natural* rows
   (:func:`natural_rows`): auto-increment primary keys left out, each foreign
   key replaced by the referenced row's own natural content (two levels deep),
   and any date or time inside the builds' time window replaced by a
   placeholder (``created = now()`` in a seed). A many-to-many table then
   compares by the rows it links. If these differ too, the table is reported
   with one row found on one side only, when the tables are small enough to
   find one. Tables whose row counts differ are reported by their counts.

Row hashes are summed, so order does not matter and memory stays flat; only
the example search keeps rows, and only for tables of up to
:data:`EXAMPLE_LIMIT` rows.
"""

from __future__ import annotations

import datetime
import hashlib
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .schema import Schema, Table

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = ["TableRows", "count_rows", "diff_rows", "digests", "natural_rows"]

EXAMPLE_LIMIT = 10_000  # rows per side kept to find an example
_DEPTH = 2  # levels of foreign keys followed
_MASK = (1 << 64) - 1
_FETCH = 2000
_SHOWN = 6  # columns of an example row


@dataclass(frozen=True)
class TableRows:
    """A table's row count and an order-independent digest of all its columns."""

    count: int
    digest: str


def _columns(old: Table, new: Table) -> list[str]:
    """The columns both tables have, by name: their order is not compared."""
    return sorted({c.name for c in old.columns} & {c.name for c in new.columns})


def digests(
    connection: BaseDatabaseWrapper, tables: Mapping[str, Sequence[str]]
) -> dict[str, TableRows]:
    """Count and digest each table over the given columns."""
    quote = connection.ops.quote_name
    found = {}
    with connection.cursor() as cursor:
        for table, columns in tables.items():
            names = [quote(c) for c in columns]
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT count(*), coalesce(sum(('x' || left(md5(ROW("
                    + ", ".join(names)
                    + f")::text), 16))::bit(64)::bigint), 0)::text FROM {quote(table)}"
                )
            elif connection.vendor == "mysql":
                quoted = ", ".join(f"QUOTE({n})" for n in names)
                cursor.execute(
                    "SELECT COUNT(*), CAST(COALESCE(SUM(CAST(CONV(LEFT(MD5("
                    f"CONCAT_WS(',', {quoted})), 16), 16, 10) AS UNSIGNED)), 0)"
                    f" AS CHAR) FROM {quote(table)}"
                )
            else:
                cursor.execute(f"SELECT {', '.join(names)} FROM {quote(table)}")
                count, total = _sum(_fetched(cursor), _hash)
                found[table] = TableRows(count, str(total))
                continue
            count, digest = cursor.fetchone()
            found[table] = TableRows(int(count), str(digest))
    return found


def count_rows(
    connection: BaseDatabaseWrapper, tables: Sequence[str]
) -> dict[str, int]:
    """Each table's row count."""
    counts = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = int(cursor.fetchone()[0])
    return counts


def _fetched(cursor: Any) -> Iterator[tuple[Any, ...]]:
    while rows := cursor.fetchmany(_FETCH):
        yield from (tuple(row) for row in rows)


def _hash(row: tuple[Any, ...]) -> int:
    digest = hashlib.blake2b(repr(row).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _sum(rows: Iterator[tuple[Any, ...]], hash_: Any) -> tuple[int, int]:
    count = total = 0
    for row in rows:
        count += 1
        total = (total + hash_(row)) & _MASK
    return count, total


# -- natural rows -------------------------------------------------------------------


def _surrogate(table: Table, vendor: str) -> str | None:
    """The auto-increment primary key column, if the table has one."""
    if len(table.primary_key) != 1:
        return None
    name = table.primary_key[0]
    column = next(c for c in table.columns if c.name == name)
    auto = {
        "sqlite": column.type == "integer",  # an alias of the rowid
        "postgresql": "identity" in column.extra or "nextval" in (column.default or ""),
        "mysql": "auto_increment" in column.extra,
    }
    return name if auto.get(vendor) else None


@dataclass
class _Query:
    """A SELECT being assembled: labels of its columns, and its joins."""

    quote: Any
    labels: list[str]
    select: list[str]
    joins: list[str]

    def add(
        self,
        schema: Schema,
        vendor: str,
        table: Table,
        alias: str,
        columns: Sequence[str],
        prefix: str,
        depth: int,
    ) -> None:
        q = self.quote
        skip = _surrogate(table, vendor)
        keys = {
            fk.columns: fk
            for fk in table.foreign_keys
            if set(fk.columns) <= set(columns)
        }
        in_keys = {c for fk_columns in keys for c in fk_columns}
        for column in columns:
            if column != skip and (column not in in_keys or depth == 0):
                self.labels.append(prefix + column)
                self.select.append(f"{alias}.{q(column)}")
        if depth == 0:
            return
        for fk_columns, fk in sorted(keys.items()):
            try:
                target = schema.table(fk.ref_table)
            except KeyError:  # a table outside the schema compared
                for column in fk_columns:
                    self.labels.append(prefix + column)
                    self.select.append(f"{alias}.{q(column)}")
                continue
            joined = f"j{len(self.joins)}"
            on = " AND ".join(
                f"{joined}.{q(r)} = {alias}.{q(c)}"
                for c, r in zip(fk.columns, fk.ref_columns, strict=True)
            )
            self.joins.append(f"LEFT JOIN {q(target.name)} {joined} ON {on}")
            label = "_".join(fk_columns).removesuffix("_id") + "."
            target_columns = sorted(c.name for c in target.columns)
            self.add(
                schema,
                vendor,
                target,
                joined,
                target_columns,
                prefix + label,
                depth - 1,
            )


def natural_rows(
    connection: BaseDatabaseWrapper,
    schema: Schema,
    table: str,
    columns: Sequence[str],
    window: tuple[float, float] | None = None,
) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    """Labels and rows of ``table`` without surrogate ids; foreign keys followed.

    Dates and times inside ``window`` (epoch seconds) become ``"<build time>"``.
    """
    query = _Query(connection.ops.quote_name, [], [], [])
    query.add(schema, connection.vendor, schema.table(table), "t", columns, "", _DEPTH)
    select = ", ".join(query.select) or "1"
    sql = f"SELECT {select} FROM {query.quote(table)} t {' '.join(query.joins)}"

    def rows() -> Iterator[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            for row in _fetched(cursor):
                yield tuple(_plain(value, window) for value in row)

    return query.labels, rows()


def _plain(value: Any, window: tuple[float, float] | None) -> Any:
    if isinstance(value, memoryview):
        return bytes(value)
    if window is None or not isinstance(value, datetime.date):
        return value
    start, end = window
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            moments = [value.timestamp()]
        else:  # naive: UTC or local time, whichever the project stores
            moments = [
                value.replace(tzinfo=datetime.timezone.utc).timestamp(),
                value.timestamp(),
            ]
        return "<build time>" if any(start <= m <= end for m in moments) else value
    days = {
        datetime.datetime.fromtimestamp(moment, tz).date()
        for moment in (start, end)
        for tz in (datetime.timezone.utc, None)
    }
    return "<build time>" if min(days) <= value <= max(days) else value


# -- comparison ---------------------------------------------------------------------


def diff_rows(
    old: BaseDatabaseWrapper,
    new: BaseDatabaseWrapper,
    old_schema: Schema,
    new_schema: Schema,
    *,
    since: float | None = None,
) -> list[str]:
    """One line per table whose rows differ; ``[]`` when every table matches.

    Tables only one side has are the schema comparison's business. ``since``
    is when the first of the two builds started: dates and times after it
    are the builds' own clock and do not count.
    """
    window = None if since is None else (since - 60, time.time() + 60)
    new_tables = {t.name: t for t in new_schema.tables}
    columns = {
        t.name: _columns(t, new_tables[t.name])
        for t in old_schema.tables
        if t.name in new_tables
    }
    old_rows, new_rows = digests(old, columns), digests(new, columns)
    lines = []
    for table, cols in sorted(columns.items()):
        a, b = old_rows[table], new_rows[table]
        if a == b:
            continue
        if a.count != b.count:
            lines.append(
                f"table '{table}': {a.count} {_rows(a.count)} in old, {b.count} in new"
            )
            continue
        sides = (old, old_schema), (new, new_schema)
        found = [natural_rows(c, s, table, cols, window) for c, s in sides]
        labels = found[0][0]
        if a.count <= EXAMPLE_LIMIT:
            example = _example(labels, found[0][1], found[1][1])
            if example:
                lines.append(_different(table, a.count) + example)
        elif _sum(found[0][1], _hash) != _sum(found[1][1], _hash):
            lines.append(_different(table, a.count))
    return lines


def _rows(count: int) -> str:
    return "row" if count == 1 else "rows"


def _different(table: str, count: int) -> str:
    return f"table '{table}': {count} {_rows(count)} in each, different content"


def _example(
    labels: list[str], old: Iterator[tuple[Any, ...]], new: Iterator[tuple[Any, ...]]
) -> str:
    """`` (e.g. a row only in old: (...))``, or ``""`` if the rows are the same."""
    old_rows, new_rows = Counter(old), Counter(new)
    for side, extra in (("old", old_rows - new_rows), ("new", new_rows - old_rows)):
        if extra:
            row = min(extra, key=repr)
            pairs = [f"{k}={_short(v)}" for k, v in zip(labels, row, strict=True)]
            shown = ", ".join(pairs[:_SHOWN] + ["..."] * (len(pairs) > _SHOWN))
            return f" (e.g. a row only in {side}: ({shown}))"
    return ""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
