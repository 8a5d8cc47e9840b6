"""Cheap snapshots of a database's catalog, to tell what one operation changed.

:mod:`django_remake.schema` reads a schema to compare two databases, and
normalizes away how it was built. This module answers a narrower question
about *one* database: did the catalog change between two moments? So a
snapshot is raw (object identifiers, stored definitions, owners' names) and
read in one or a few queries: ``sqlite_master`` and ``pragma_table_xinfo`` on
SQLite, ``pg_catalog`` on PostgreSQL (every schema but the system ones;
objects that belong to an extension are left to the extension's entry), and
``information_schema`` for ``DATABASE()`` on MariaDB/MySQL.

Besides the schema, a snapshot holds *values* that a schema change may set
without changing any definition: a sequence's position on PostgreSQL
(``setval``), a table's next AUTO_INCREMENT on MariaDB. They are read afresh
every time, because any INSERT moves them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = ["Catalog", "Change", "Names", "diff", "read", "read_names", "read_values"]

#: (kind, owning table or "", name) -> definition
Items = Mapping[tuple[str, str, str], str]

TABLE_KINDS = frozenset({"table", "view", "materialized view", "foreign table"})
# Objects that exist apart from any table: an operation that only makes these
# can run before the first table is created.
GLOBAL_KINDS = frozenset(
    {"schema", "extension", "collation", "function", "procedure", "aggregate"}
    | {"window function", "type", "enum type", "domain", "range type"}
    | {"composite type", "event trigger", "database", "package", "package body"}
)
_FIELD = "\x1f"  # separates a column's type, nullability, default and the rest


@dataclass(frozen=True)
class Catalog:
    """A snapshot: schema objects and the values schema statements may set."""

    items: Items
    values: Items

    def with_values(self, values: Items) -> Catalog:
        return Catalog(self.items, values)

    def names(self) -> set[str]:
        """Names of the tables and views."""
        return {name for kind, _, name in self.items if kind in TABLE_KINDS}


@dataclass(frozen=True)
class Change:
    """One difference between two snapshots, with its sentence."""

    kind: str
    owner: str
    name: str
    text: str  # "created trigger 'trg' on 'shop_item'"

    @property
    def is_global(self) -> bool:
        return self.kind in GLOBAL_KINDS or (
            self.kind in {"sequence", "sequence value"} and not self.owner
        )


class Names:
    """Tables and views, and the database's own functions, by name only."""

    def __init__(self, tables: frozenset[str], functions: frozenset[str]) -> None:
        self.tables = tables
        self.functions = functions

    @functools.cached_property
    def _call(self) -> re.Pattern[str]:
        alternatives = "|".join(re.escape(name) for name in sorted(self.functions))
        return re.compile(rf"(?<![\w$.])\"?(?:{alternatives})\"?\s*\(", re.I)

    def calls(self, sql: str) -> bool:
        """Whether ``sql`` calls one of the functions."""
        return bool(self.functions) and bool(self._call.search(sql))


def read(connection: BaseDatabaseWrapper) -> Catalog:
    """The schema objects of the database behind ``connection``."""
    reader = {"sqlite": _sqlite, "postgresql": _postgresql, "mysql": _mysql}
    with connection.cursor() as cursor:
        return Catalog(reader[connection.vendor](cursor), {})


def read_values(connection: BaseDatabaseWrapper) -> Items:
    """Sequence positions (PostgreSQL) and next AUTO_INCREMENT values (MariaDB)."""
    sql = {"postgresql": _PG_VALUES, "mysql": _MYSQL_VALUES}.get(connection.vendor)
    if sql is None:  # SQLite keeps them in sqlite_sequence, an ordinary table
        return {}
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return _keyed(cursor.fetchall())


def read_names(connection: BaseDatabaseWrapper) -> Names:
    """Table, view and function names: one query."""
    with connection.cursor() as cursor:
        cursor.execute(_NAMES[connection.vendor])
        rows = cursor.fetchall()
    return Names(
        frozenset(name for kind, name in rows if kind == "t"),
        frozenset(name for kind, name in rows if kind == "f"),
    )


def _keyed(rows: Any) -> dict[tuple[str, str, str], str]:
    return {(k, o or "", str(n)): "" if d is None else str(d) for k, o, n, d in rows}


# -- what changed ---------------------------------------------------------------

_ORDER = {"schema": 0, "extension": 1, "collation": 2, "table": 3, "column": 4}


def diff(before: Catalog, after: Catalog) -> list[Change]:
    """What changed from ``before`` to ``after``, one :class:`Change` each.

    Parts of a table that was created or dropped (its columns, indexes,
    triggers) are not listed again, and neither is a changed table whose
    changed columns say what happened.
    """
    old = {
        **before.items,
        **{("~" + k, o, n): d for (k, o, n), d in before.values.items()},
    }
    new = {
        **after.items,
        **{("~" + k, o, n): d for (k, o, n), d in after.values.items()},
    }
    whole = {name for kind, _, name in old.keys() ^ new.keys() if kind in TABLE_KINDS}
    changes = []
    for key in sorted(old.keys() | new.keys(), key=lambda k: (_ORDER.get(k[0], 9), k)):
        kind, owner, name = key
        if owner in whole or old.get(key) == new.get(key):
            continue
        text = _sentence(kind.lstrip("~"), owner, name, old.get(key), new.get(key))
        changes.append(Change(kind.lstrip("~"), owner, name, text))
    columns_changed = {c.owner for c in changes if c.kind == "column"}
    return [
        c
        for c in changes
        if not (c.kind == "table" and c.name in columns_changed and "altered" in c.text)
    ]


def _sentence(
    kind: str, owner: str, name: str, was: str | None, now: str | None
) -> str:
    on = f" on '{owner}'" if owner and kind not in {"column", "sequence value"} else ""
    if kind == "column":
        column = f"column '{owner}.{name}'"
        if was is None:
            return f"added {column}"
        if now is None:
            return f"dropped {column}"
        parts = zip(was.split(_FIELD), now.split(_FIELD), strict=False)
        labels = ("type", "nullability", "default", "definition")
        differ = [label for label, (a, b) in zip(labels, parts, strict=False) if a != b]
        return f"changed {' and '.join(differ) or 'definition'} of {column}"
    if kind == "sequence value":
        return f"moved sequence '{name}'" + (f" of '{owner}'" if owner else "")
    if kind == "auto increment":
        return f"changed the next AUTO_INCREMENT value of table '{name}'"
    verb = "created" if was is None else "dropped" if now is None else "altered"
    return f"{verb} {kind} '{name}'{on}"


# -- SQLite -------------------------------------------------------------------------

_SQLITE = """
SELECT type, CASE WHEN type IN ('table', 'view') THEN '' ELSE tbl_name END, name, sql
FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
UNION ALL
SELECT 'column', m.name, p.name, p.type || char(31) || p."notnull" || char(31)
  || coalesce(p.dflt_value, 'none') || char(31) || p.pk || ' ' || p.hidden
FROM sqlite_master m, pragma_table_xinfo(m.name) p
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"""


def _sqlite(cursor: Any) -> Items:
    cursor.execute(_SQLITE)
    return _keyed(cursor.fetchall())


# -- PostgreSQL ---------------------------------------------------------------------

# ``ns``: the schemas looked at, with the prefix that names an object outside
# the search path; ``ext(classid, objid)`` is an extension's own object.
_PG_WITH = """
WITH ns AS (
  SELECT oid, nspname, CASE WHEN nspname = ANY(current_schemas(false)) THEN ''
    ELSE nspname || '.' END AS q
  FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog', 'information_schema')
    AND nspname !~ '^pg_(toast|temp_)'
), ext AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e'),
owner AS (
  SELECT d.objid, ns.q || t.relname AS name FROM pg_depend d
  JOIN pg_class t ON t.oid = d.refobjid JOIN ns ON ns.oid = t.relnamespace
  WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
    AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
)"""
_PG = (
    _PG_WITH
    + """
SELECT 'schema', '', n.nspname, coalesce(n.nspacl::text, '')
FROM pg_namespace n JOIN ns USING (oid)
UNION ALL
SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
  WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' ELSE 'table' END,
  coalesce((SELECT name FROM owner WHERE objid = c.oid LIMIT 1), ''),
  ns.q || c.relname,
  concat_ws(' ', c.relpersistence, c.reloptions::text, c.relacl::text,
    c.relrowsecurity, c.relforcerowsecurity, obj_description(c.oid, 'pg_class'),
    CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END,
    (SELECT concat_ws(' ', format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
       s.seqmin, s.seqmax, s.seqcache, s.seqcycle)
     FROM pg_sequence s WHERE s.seqrelid = c.oid))
FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_class'::regclass AND objid = c.oid)
UNION ALL
SELECT 'column', ns.q || c.relname, a.attname,
  concat_ws(chr(31), format_type(a.atttypid, a.atttypmod), a.attnotnull,
    coalesce(pg_get_expr(d.adbin, d.adrelid), 'none'),
    concat_ws(' ', a.attidentity, a.attgenerated, a.attcollation,
      col_description(c.oid, a.attnum)))
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
JOIN ns ON ns.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped
  AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_class'::regclass AND objid = c.oid)
UNION ALL
SELECT 'index', ns.q || t.relname, ns.q || ic.relname, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid JOIN ns ON ns.oid = ic.relnamespace
WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
    AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
  AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_class'::regclass AND objid = ic.oid)
UNION ALL
SELECT 'constraint', ns.q || t.relname, k.conname,
  concat_ws(' ', pg_get_constraintdef(k.oid), k.convalidated)
FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid
JOIN ns ON ns.oid = t.relnamespace
UNION ALL
SELECT 'trigger', ns.q || c.relname, t.tgname,
  concat_ws(' ', pg_get_triggerdef(t.oid), t.tgenabled)
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
JOIN ns ON ns.oid = c.relnamespace WHERE NOT t.tgisinternal
UNION ALL
SELECT 'policy', ns.q || c.relname, p.polname,
  concat_ws(' ', p.polcmd, p.polpermissive, p.polroles::text,
    pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
JOIN ns ON ns.oid = c.relnamespace
UNION ALL
SELECT 'rule', ns.q || c.relname, r.rulename, pg_get_ruledef(r.oid)
FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
JOIN ns ON ns.oid = c.relnamespace WHERE r.rulename <> '_RETURN'
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate'
  WHEN 'w' THEN 'window function' ELSE 'function' END, '',
  ns.q || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
  md5(concat_ws(chr(31), p.prosrc, p.probin, p.prolang, p.provolatile, p.prosecdef,
    p.proconfig::text, p.proacl::text, pg_get_function_result(p.oid)))
FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
WHERE NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_proc'::regclass AND objid = p.oid)
UNION ALL
SELECT CASE t.typtype WHEN 'e' THEN 'enum type' WHEN 'd' THEN 'domain'
  WHEN 'r' THEN 'range type' WHEN 'c' THEN 'composite type' ELSE 'type' END, '',
  ns.q || t.typname,
  concat_ws(' ', format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault,
    (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
     FROM pg_enum e WHERE e.enumtypid = t.oid),
    (SELECT string_agg(pg_get_constraintdef(k.oid), ',' ORDER BY k.conname)
     FROM pg_constraint k WHERE k.contypid = t.oid),
    (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ','
       ORDER BY a.attnum)
     FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0))
FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
WHERE t.typtype IN ('b', 'c', 'd', 'e', 'r')
  AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
  AND NOT EXISTS (SELECT 1 FROM pg_type a WHERE a.typarray = t.oid)
  AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_type'::regclass AND objid = t.oid)
UNION ALL
SELECT 'collation', '', ns.q || co.collname, (to_jsonb(co) - 'oid')::text
FROM pg_collation co JOIN ns ON ns.oid = co.collnamespace
WHERE NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_collation'::regclass AND objid = co.oid)
UNION ALL
SELECT 'extension', '', extname, extversion FROM pg_extension
UNION ALL
SELECT 'event trigger', '', evtname, concat_ws(' ', evtevent, evtfoid, evtenabled,
  evttags::text) FROM pg_event_trigger"""
)
_PG_VALUES = (
    _PG_WITH
    + """
SELECT 'sequence value', (SELECT name FROM owner WHERE objid = c.oid LIMIT 1),
  ns.q || c.relname, pg_sequence_last_value(c.oid)
FROM pg_class c JOIN ns ON ns.oid = c.relnamespace WHERE c.relkind = 'S'"""
)


def _postgresql(cursor: Any) -> Items:
    cursor.execute(_PG)
    return _keyed(cursor.fetchall())


# -- MariaDB / MySQL ----------------------------------------------------------------

# One query per view of information_schema: a UNION of them mixes collations.
_MYSQL = {
    "tables": """
SELECT CASE t.TABLE_TYPE WHEN 'VIEW' THEN 'view' WHEN 'SEQUENCE' THEN 'sequence'
  ELSE 'table' END, '', t.TABLE_NAME,
  CONCAT_WS(' ', t.ENGINE, t.TABLE_COLLATION, t.CREATE_OPTIONS, t.TABLE_COMMENT,
    v.VIEW_DEFINITION, v.CHECK_OPTION, v.SECURITY_TYPE)
FROM information_schema.TABLES t LEFT JOIN information_schema.VIEWS v
  ON v.TABLE_SCHEMA = t.TABLE_SCHEMA AND v.TABLE_NAME = t.TABLE_NAME
WHERE t.TABLE_SCHEMA = DATABASE()""",
    "columns": """
SELECT 'column', TABLE_NAME, COLUMN_NAME, CONCAT_WS(CHAR(31), COLUMN_TYPE,
  IS_NULLABLE, IFNULL(COLUMN_DEFAULT, 'none'), CONCAT_WS(' ', EXTRA,
    COLLATION_NAME, GENERATION_EXPRESSION, COLUMN_COMMENT))
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()""",
    "indexes": """
SELECT 'index', TABLE_NAME, INDEX_NAME, CONCAT_WS(' ', NON_UNIQUE, INDEX_TYPE,
  GROUP_CONCAT(CONCAT(COLUMN_NAME, IFNULL(CONCAT('(', SUB_PART, ')'), ''),
    IFNULL(COLLATION, '')) ORDER BY SEQ_IN_INDEX), INDEX_COMMENT)
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
GROUP BY TABLE_NAME, INDEX_NAME, NON_UNIQUE, INDEX_TYPE, INDEX_COMMENT""",
    "constraints": """
SELECT 'constraint', k.TABLE_NAME, k.CONSTRAINT_NAME, CONCAT_WS(' ',
  k.CONSTRAINT_TYPE, c.CHECK_CLAUSE, r.REFERENCED_TABLE_NAME, r.UPDATE_RULE,
  r.DELETE_RULE)
FROM information_schema.TABLE_CONSTRAINTS k
LEFT JOIN information_schema.CHECK_CONSTRAINTS c
  ON c.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND c.TABLE_NAME = k.TABLE_NAME
  AND c.CONSTRAINT_NAME = k.CONSTRAINT_NAME
LEFT JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME
  AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
WHERE k.CONSTRAINT_SCHEMA = DATABASE() AND k.CONSTRAINT_TYPE IN ('CHECK', 'FOREIGN KEY')""",
    "triggers": """
SELECT 'trigger', EVENT_OBJECT_TABLE, TRIGGER_NAME, CONCAT_WS(' ', ACTION_TIMING,
  EVENT_MANIPULATION, ACTION_ORDER, ACTION_STATEMENT)
FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()""",
    "routines": """
SELECT LOWER(ROUTINE_TYPE), '', ROUTINE_NAME, MD5(CONCAT_WS(CHAR(31),
  ROUTINE_DEFINITION, DTD_IDENTIFIER, IS_DETERMINISTIC, SQL_DATA_ACCESS,
  SECURITY_TYPE, SQL_MODE, ROUTINE_COMMENT))
FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()""",
    "events": """
SELECT 'event', '', EVENT_NAME, MD5(CONCAT_WS(CHAR(31), EVENT_DEFINITION,
  EVENT_TYPE, EXECUTE_AT, INTERVAL_VALUE, INTERVAL_FIELD, STATUS))
FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()""",
    "database": """
SELECT 'database', '', SCHEMA_NAME, CONCAT_WS(' ', DEFAULT_CHARACTER_SET_NAME,
  DEFAULT_COLLATION_NAME)
FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()""",
}
_MYSQL_VALUES = """
SELECT 'auto increment', TABLE_NAME, TABLE_NAME, AUTO_INCREMENT
FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND AUTO_INCREMENT IS NOT NULL"""


def _mysql(cursor: Any) -> Items:
    items: dict[tuple[str, str, str], str] = {}
    for sql in _MYSQL.values():
        cursor.execute(sql)
        items |= _keyed(cursor.fetchall())
    return items


_NAMES = {
    "sqlite": "SELECT 't', name FROM sqlite_master WHERE type IN ('table', 'view')",
    "postgresql": """
SELECT 't', c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname = ANY(current_schemas(false))
UNION ALL
SELECT 'f', p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY(current_schemas(false)) AND NOT EXISTS (SELECT 1 FROM pg_depend e
  WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')""",
    "mysql": """
SELECT 't', TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()
UNION ALL
SELECT 'f', ROUTINE_NAME FROM information_schema.ROUTINES
WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_TYPE = 'FUNCTION'""",
}
