"""Read a database's schema as plain data, and compare two of them.

django-remake must prove that a database built by the *old* migration history
equals one built by the *new* history. Two histories that reach the same schema
still leave different traces: constraint and index names carry hashes of the
operation that made them, ``AddField`` appends columns that ``CreateModel``
puts in model order, PostgreSQL keeps a renamed table's sequence name and
stores casts that depend on a column's type at the time, InnoDB keeps or drops
foreign-key helper indexes depending on the order of operations.
:func:`read_schema` normalizes those away, so that :func:`diff_schemas`
reports only differences that queries could notice.

Django's ``introspection.get_constraints`` loses check expressions,
foreign-key actions, partial-index conditions and index expressions, so each
backend reads its own catalog here: the ``pragma_*`` table functions on
SQLite, ``pg_catalog`` on PostgreSQL, and on MariaDB/MySQL
``information_schema`` restricted to ``DATABASE()``.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = ["Column", "ForeignKey", "Index", "Schema", "Table"]
__all__ += ["diff_schemas", "read_schema"]

T = TypeVar("T")


@dataclass(frozen=True, order=True)
class Column:
    """A column; ``extra`` holds identity, generation, collation, comment."""

    name: str
    type: str
    nullable: bool
    default: str | None = None
    extra: str = ""

    def __str__(self) -> str:
        text = f"{self.type} {'NULL' if self.nullable else 'NOT NULL'}"
        if self.default is not None:
            text += f" DEFAULT {self.default}"
        return f"{text} {self.extra}" if self.extra else text


@dataclass(frozen=True, order=True)
class ForeignKey:
    """A foreign key by content: its name is deliberately not kept."""

    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    rules: str = ""  # "ON DELETE CASCADE", "DEFERRABLE INITIALLY DEFERRED"...

    def __str__(self) -> str:
        text = f"({', '.join(self.columns)}) -> "
        text += f"{self.ref_table}({', '.join(self.ref_columns)})"
        return f"{text} {self.rules}" if self.rules else text


@dataclass(frozen=True, order=True)
class Index:
    """An index backing no constraint; items are columns or expressions."""

    items: tuple[str, ...]
    unique: bool = False
    method: str = "btree"
    condition: str = ""
    include: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = f"{self.method} ({', '.join(self.items)})"
        text = f"UNIQUE {text}" if self.unique else text
        if self.include:
            text += f" INCLUDE ({', '.join(self.include)})"
        return f"{text} WHERE {self.condition}" if self.condition else text


@dataclass(frozen=True)
class Table:
    """A table. Columns are sorted by name: column order is not compared."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    constraints: tuple[str, ...] = ()  # "UNIQUE (a, b)", "CHECK (...)", ...
    indexes: tuple[Index, ...] = ()
    comment: str = ""


@dataclass(frozen=True)
class Schema:
    """All that is compared, as sorted tuples: deterministic and hashable."""

    vendor: str
    tables: tuple[Table, ...]
    views: tuple[tuple[str, str], ...] = ()  # (name, definition)
    extensions: tuple[str, ...] = ()
    sequences: tuple[str, ...] = ()  # those no column owns
    functions: tuple[tuple[str, str], ...] = ()  # (signature, definition)
    triggers: tuple[str, ...] = ()

    def table(self, name: str) -> Table:
        """Return the table called ``name`` (``KeyError`` if absent)."""
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)


def _by_table() -> Any:
    return field(default_factory=lambda: defaultdict(list))


@dataclass
class _Parts:
    """What a backend reader collects; most of it keyed by table name."""

    columns: defaultdict[str, list[Column]] = _by_table()
    primary_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    foreign_keys: defaultdict[str, list[ForeignKey]] = _by_table()
    constraints: defaultdict[str, list[str]] = _by_table()
    indexes: defaultdict[str, list[Index]] = _by_table()
    triggers: defaultdict[str, list[str]] = _by_table()
    views: dict[str, str] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)
    extensions: list[str] = field(default_factory=list)
    sequences: list[str] = field(default_factory=list)


def read_schema(
    connection: BaseDatabaseWrapper,
    *,
    exclude_tables: Collection[str] = ("django_migrations",),
) -> Schema:
    """Read the normalized schema of the database behind ``connection``."""
    readers: dict[str, Callable[[Any], _Parts]] = {
        "sqlite": _read_sqlite,
        "postgresql": _read_postgresql,
        "mysql": _read_mysql,
    }
    if connection.vendor not in readers:
        raise NotImplementedError(f"no schema reader for {connection.vendor!r}")
    with connection.cursor() as cursor:
        infos = connection.introspection.get_table_list(cursor)
        parts = readers[connection.vendor](cursor)
    names = {i.name: getattr(i, "comment", None) or "" for i in infos if i.type == "t"}
    kept = sorted(n for n in names if n not in exclude_tables and n[:7] != "sqlite_")
    triggers = (f"{t}: {d}" for t, ds in parts.triggers.items() for d in ds)
    triggers = (text for text in triggers if text.split(":")[0] not in exclude_tables)
    return Schema(
        vendor=connection.vendor,
        tables=tuple(_table(name, names[name], parts) for name in kept),
        views=tuple(
            sorted((n, d) for n, d in parts.views.items() if n not in exclude_tables)
        ),
        extensions=tuple(sorted(parts.extensions)),
        sequences=tuple(sorted(parts.sequences)),
        functions=tuple(sorted(parts.functions.items())),
        triggers=tuple(sorted(triggers)),
    )


def _table(name: str, comment: str, parts: _Parts) -> Table:
    return Table(
        name=name,
        columns=tuple(sorted(parts.columns[name])),
        primary_key=parts.primary_keys.get(name, ()),
        foreign_keys=tuple(sorted(parts.foreign_keys[name])),
        constraints=tuple(sorted(parts.constraints[name])),
        indexes=tuple(sorted(parts.indexes[name])),
        comment=comment,
    )


# -- text normalization ---------------------------------------------------------

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`|\[[^\]]*\]")
_CAST = (
    r"::(?:\"[^\"]+\"|\w+(?: varying| precision| with(?:out)? time zone)?)"
    r"(?:\(\d+(?:,\s*\d+)?\))?(?:\[\])?"
)
# A cast, and the parentheses PostgreSQL puts around a cast atom: (0)::numeric.
_PG_CAST = re.compile(rf"(?<![\w$])\(([\w.]+|'(?:[^']|'')*')\){_CAST}|{_CAST}")
_NEXTVAL = re.compile(r"nextval\('[^']*'::regclass\)")


def _tidy(text: str) -> str:
    """Drop identifier quotes and collapse whitespace: rewrites vary them."""
    text = re.sub(r'"(\w+)"|`(\w+)`', lambda m: m[1] or m[2], text)
    return " ".join(text.split()).replace("( ", "(").replace(" )", ")")


def _pg_expr(text: str) -> str:
    """Drop the casts PostgreSQL stores (``'x'::character varying``): they
    follow the column's type when the expression was saved, not its meaning."""
    return _tidy(_PG_CAST.sub(lambda m: m[1] or "", text))


def _mask(sql: str) -> str:
    """Blank out quoted text, so parentheses and keywords in it are ignored."""
    return _QUOTED.sub(lambda m: m[0][0] + "_" * (len(m[0]) - 2) + m[0][-1], sql)


def _group_end(masked: str, start: int) -> int:
    """Index just past the parenthesized group opening at ``start``."""
    depth = 0
    for i in range(start, len(masked)):
        depth += {"(": 1, ")": -1}.get(masked[i], 0)
        if depth == 0:
            return i + 1
    return len(masked)


def _split_top(sql: str) -> list[str]:
    """Split at commas outside parentheses and quotes."""
    parts, depth, last = [], 0, 0
    for i, char in enumerate(_mask(sql)):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(sql[last:i])
            last = i + 1
    return [*parts, sql[last:]]


def _rules(on_delete: str, on_update: str, defaults: Collection[str]) -> str:
    """Foreign-key actions, leaving out those that mean the default."""
    pairs = (("ON DELETE", on_delete.upper()), ("ON UPDATE", on_update.upper()))
    return " ".join(f"{k} {v}" for k, v in pairs if v not in defaults)


def _plain(items: Iterable[str]) -> bool:
    return all(re.fullmatch(r"\w+", item) for item in items)


# -- SQLite ---------------------------------------------------------------------

_SQLITE_COLUMNS = """
SELECT m.name, p.name, lower(p.type), NOT p."notnull", p.dflt_value, p.pk, p.hidden
FROM sqlite_master m, pragma_table_xinfo(m.name) p
WHERE m.type = 'table' ORDER BY m.name, p.pk"""
_SQLITE_FOREIGN_KEYS = """
SELECT m.name, p.id, p."table", p."from", p."to", p.on_delete, p.on_update
FROM sqlite_master m, pragma_foreign_key_list(m.name) p
WHERE m.type = 'table' ORDER BY m.name, p.id, p.seq"""
_SQLITE_INDEXES = """
SELECT m.name, il.name, il."unique", im.sql
FROM sqlite_master m, pragma_index_list(m.name) il
LEFT JOIN sqlite_master im ON im.type = 'index' AND im.name = il.name
WHERE m.type = 'table' AND il.origin <> 'pk'"""
_SQLITE_TRIGGER_NAME = re.compile(
    r"^CREATE\s+(?:TEMP\w*\s+)?TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:\"[^\"]*\"|\S+)",
    re.I,
)


def _read_sqlite(cursor: Any) -> _Parts:
    """Read SQLite through the pragma table functions and the stored DDL.

    Checks exist only in ``sqlite_master.sql``; they are parsed out of it
    rather than comparing the whole text, which records where ``ALTER TABLE
    ADD COLUMN`` and Django's table remakes put each column.
    """
    parts = _Parts()
    cursor.execute("SELECT type, name, tbl_name, sql FROM sqlite_master")
    ddl, collations = {}, {}
    for kind, name, table, sql in cursor.fetchall():
        if kind == "table":
            ddl[name] = masked = _mask(sql or "")
            collations[name] = _sqlite_collations(sql or "")
            for match in re.finditer(r"\bCHECK\s*\(", masked, re.I):
                body = sql[match.end() - 1 : _group_end(masked, match.end() - 1)]
                parts.constraints[name].append(f"CHECK {_tidy(body)}")
        elif kind == "view":
            parts.views[name] = _tidy(sql)
        elif kind == "trigger":
            body = _SQLITE_TRIGGER_NAME.sub("CREATE TRIGGER", sql)
            parts.triggers[table].append(_tidy(body))
    cursor.execute(_SQLITE_COLUMNS)
    for table, name, type_, null, default, pk, hidden in cursor.fetchall():
        words = [{2: "generated virtual", 3: "generated stored"}.get(hidden, "")]
        if pk and re.search(r"\bAUTOINCREMENT\b", ddl[table], re.I):
            words.append("autoincrement")
        if name in collations[table]:
            words.append(f"collate {collations[table][name]}")
        extra = " ".join(word for word in words if word)
        default = None if default is None else _tidy(default)
        parts.columns[table].append(Column(name, type_, bool(null), default, extra))
        if pk:
            parts.primary_keys[table] = (*parts.primary_keys.get(table, ()), name)
    _sqlite_foreign_keys(cursor, parts)
    _sqlite_indexes(cursor, parts)
    return parts


def _sqlite_collations(sql: str) -> dict[str, str]:
    """Column collations, which only the stored DDL records."""
    masked = _mask(sql)
    start = masked.find("(")
    found = {}
    for item in _split_top(sql[start + 1 : _group_end(masked, start) - 1]):
        name = re.match(r'\s*("[^"]*"|`[^`]*`|\[[^\]]*\]|\w+)', item)
        collate = re.search(r"\bCOLLATE\s+(\S+)", _mask(item), re.I)
        if name and collate:
            found[name[1].strip('"`[]')] = _tidy(
                item[collate.start(1) : collate.end(1)]
            )
    return found


def _sqlite_foreign_keys(cursor: Any, parts: _Parts) -> None:
    cursor.execute(_SQLITE_FOREIGN_KEYS)
    for (table, _), group in itertools.groupby(cursor.fetchall(), lambda r: r[:2]):
        rows = list(group)
        ref_table, on_delete, on_update = rows[0][2], rows[0][5], rows[0][6]
        ref_columns = tuple(row[4] for row in rows)
        if None in ref_columns:  # "REFERENCES t" means t's primary key
            ref_columns = parts.primary_keys.get(ref_table, ref_columns)
        rules = _rules(on_delete, on_update, {"NO ACTION"})
        columns = tuple(row[3] for row in rows)
        fk = ForeignKey(columns, ref_table, ref_columns, rules)
        parts.foreign_keys[table].append(fk)


def _sqlite_indexes(cursor: Any, parts: _Parts) -> None:
    """A unique index over plain columns counts as a UNIQUE constraint,
    whether inline (``sqlite_autoindex_*``) or ``CREATE UNIQUE INDEX``."""
    cursor.execute(_SQLITE_INDEXES)
    for table, name, unique, sql in cursor.fetchall():
        condition = ""
        if sql is None:
            cursor.execute("SELECT name FROM pragma_index_info(%s)", [name])
            items = tuple(row[0] for row in cursor.fetchall())
        else:
            masked = _mask(sql)
            start = masked.index("(")
            end = _group_end(masked, start)
            items = tuple(_tidy(i) for i in _split_top(sql[start + 1 : end - 1]))
            where = re.match(r"\s*WHERE\s+(.*)$", sql[end:], re.I | re.S)
            condition = _tidy(where[1]) if where else ""
        if unique and not condition and _plain(items):
            parts.constraints[table].append(f"UNIQUE ({', '.join(items)})")
        else:
            index = Index(items, bool(unique), "btree", condition)
            parts.indexes[table].append(index)


# -- PostgreSQL -------------------------------------------------------------------

_PG_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
  CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END,
  concat_ws(' ',
    CASE a.attidentity WHEN 'a' THEN 'generated always as identity'
      WHEN 'd' THEN 'generated by default as identity' END,
    CASE WHEN a.attgenerated = 's'
      THEN 'generated always as (' || pg_get_expr(d.adbin, d.adrelid) || ') stored' END,
    (SELECT 'sequence ' || format_type(q.seqtypid, NULL)
       || coalesce(' increment ' || nullif(q.seqincrement, 1), '')
     FROM pg_depend o JOIN pg_sequence q ON q.seqrelid = o.objid
     WHERE o.refclassid = 'pg_class'::regclass AND o.refobjid = c.oid
       AND o.refobjsubid = a.attnum AND o.deptype IN ('a', 'i') LIMIT 1),
    'collate ' || CASE WHEN a.attcollation <> t.typcollation THEN co.collname END,
    'comment ' || quote_literal(col_description(c.oid, a.attnum)))
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
  AND n.nspname = ANY(current_schemas(false))"""
_PG_NAMES = """ARRAY(SELECT a.attname FROM unnest({0}) WITH ORDINALITY k(num, pos)
  JOIN pg_attribute a ON a.attrelid = {1} AND a.attnum = k.num
  ORDER BY k.pos)::text[]"""
_PG_CONSTRAINTS = f"""
SELECT cl.relname, c.contype, pg_get_constraintdef(c.oid, true),
  {_PG_NAMES.format("c.conkey", "c.conrelid")}, rt.relname,
  {_PG_NAMES.format("c.confkey", "c.confrelid")}
FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid
JOIN pg_namespace n ON n.oid = cl.relnamespace
LEFT JOIN pg_class rt ON rt.oid = c.confrelid
WHERE c.contype IN ('p', 'u', 'f', 'c', 'x')
  AND n.nspname = ANY(current_schemas(false))"""
_PG_INDEXES = """
SELECT t.relname, am.amname, i.indisunique,
  ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
    || coalesce((SELECT ' ' || o.opcname FROM pg_opclass o
                 WHERE o.oid = i.indclass[k - 1] AND NOT o.opcdefault), '')
    || (ARRAY['', ' DESC NULLS LAST', ' NULLS FIRST', ' DESC'])
       [(i.indoption[k - 1] & 3) + 1]
    FROM generate_series(1, i.indnkeyatts) k ORDER BY k)::text[],
  ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
    FROM generate_series(i.indnkeyatts + 1, i.indnatts) k ORDER BY k)::text[],
  coalesce(pg_get_expr(i.indpred, i.indrelid, true), '')
FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = ANY(current_schemas(false)) AND NOT EXISTS (
  SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid
  AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x'))"""
_PG_NOT_EXTENSION = (
    "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = {} AND e.deptype = 'e')"
)
_PG_OTHERS = {
    "views": f"""
SELECT c.relname, CASE c.relkind WHEN 'm' THEN 'materialized ' ELSE '' END
  || pg_get_viewdef(c.oid, true)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm') AND n.nspname = ANY(current_schemas(false))
  AND {_PG_NOT_EXTENSION.format("c.oid")}""",
    "functions": f"""
SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
  CASE WHEN p.prokind = 'a' THEN 'aggregate' ELSE pg_get_functiondef(p.oid) END
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY(current_schemas(false))
  AND {_PG_NOT_EXTENSION.format("p.oid")}""",
    "triggers": """
SELECT c.relname, replace(pg_get_triggerdef(t.oid, true),
  ' ' || quote_ident(t.tgname) || ' ', ' ')
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND n.nspname = ANY(current_schemas(false))""",
    "extensions": "SELECT extname, '' FROM pg_extension WHERE extname <> 'plpgsql'",
    "sequences": """
SELECT s.relname || ' ' || format_type(q.seqtypid, NULL), ''
FROM pg_class s JOIN pg_sequence q ON q.seqrelid = s.oid
JOIN pg_namespace n ON n.oid = s.relnamespace
WHERE n.nspname = ANY(current_schemas(false)) AND NOT EXISTS (
  SELECT 1 FROM pg_depend o WHERE o.classid = 'pg_class'::regclass
  AND o.objid = s.oid AND o.deptype IN ('a', 'i', 'e'))""",
}


def _read_postgresql(cursor: Any) -> _Parts:
    """Read PostgreSQL's catalog for the schemas on the search path.

    Sequences owned by a column are described on that column, never by name:
    renaming a table keeps its old sequence name. Objects that belong to an
    extension are left to the extension's own entry.
    """
    parts = _Parts()
    cursor.execute(_PG_COLUMNS)
    for table, name, type_, null, default, extra in cursor.fetchall():
        if default is not None and "sequence" in extra:
            default = _NEXTVAL.sub("nextval(owned sequence)", default)
        default = None if default is None else _pg_expr(default)
        column = Column(name, type_, null, default, _pg_expr(extra))
        parts.columns[table].append(column)
    _pg_constraints(cursor, parts)
    cursor.execute(_PG_INDEXES)
    for table, method, unique, items, include, condition in cursor.fetchall():
        items = tuple(_pg_expr(item) for item in items)
        index = Index(items, unique, method, _pg_expr(condition), tuple(include))
        parts.indexes[table].append(index)
    found = {}
    for kind, sql in _PG_OTHERS.items():
        cursor.execute(sql)
        found[kind] = cursor.fetchall()
    parts.views = {name: _pg_expr(text) for name, text in found["views"]}
    parts.functions = {name: _tidy(text) for name, text in found["functions"]}
    for table, text in found["triggers"]:
        parts.triggers[table].append(_tidy(text))
    parts.extensions = [name for name, _ in found["extensions"]]
    parts.sequences = [name for name, _ in found["sequences"]]
    return parts


def _pg_constraints(cursor: Any, parts: _Parts) -> None:
    cursor.execute(_PG_CONSTRAINTS)
    for table, kind, text, columns, ref_table, ref_columns in cursor.fetchall():
        if kind == "p":
            parts.primary_keys[table] = tuple(columns)
        elif kind == "f":  # keep what follows "REFERENCES t(c)": actions, deferral
            rules = re.sub(r"^FOREIGN KEY \(.*?\) REFERENCES [^(]*\(.*?\)\s*", "", text)
            fk = ForeignKey(tuple(columns), ref_table, tuple(ref_columns), rules)
            parts.foreign_keys[table].append(fk)
        else:
            parts.constraints[table].append(_pg_expr(text))


# -- MariaDB / MySQL --------------------------------------------------------------

_MYSQL_COLUMNS = """
SELECT c.TABLE_NAME, COLUMN_NAME, LOWER(COLUMN_TYPE), IS_NULLABLE = 'YES',
  IF(IFNULL(GENERATION_EXPRESSION, '') = '', NULLIF(COLUMN_DEFAULT, 'NULL'), NULL),
  CONCAT_WS(' ', NULLIF(LOWER(EXTRA), ''),
    CONCAT('as (', NULLIF(GENERATION_EXPRESSION, ''), ')'),
    CONCAT('collate ', NULLIF(COLLATION_NAME, t.TABLE_COLLATION)),
    CONCAT('comment ''', NULLIF(COLUMN_COMMENT, ''), ''''))
FROM information_schema.COLUMNS c JOIN information_schema.TABLES t
  ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
WHERE c.TABLE_SCHEMA = DATABASE()"""
_MYSQL_FOREIGN_KEYS = """
SELECT k.TABLE_NAME, GROUP_CONCAT(k.COLUMN_NAME ORDER BY k.ORDINAL_POSITION),
  k.REFERENCED_TABLE_NAME,
  GROUP_CONCAT(k.REFERENCED_COLUMN_NAME ORDER BY k.ORDINAL_POSITION),
  r.DELETE_RULE, r.UPDATE_RULE
FROM information_schema.KEY_COLUMN_USAGE k
JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME
  AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL
GROUP BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.REFERENCED_TABLE_NAME,
  r.DELETE_RULE, r.UPDATE_RULE"""
_MYSQL_INDEXES = """
SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE = 0, LOWER(INDEX_TYPE),
  GROUP_CONCAT(CONCAT(COLUMN_NAME, IFNULL(CONCAT('(', SUB_PART, ')'), ''),
    IF(COLLATION = 'D', ' DESC', '')) ORDER BY SEQ_IN_INDEX)
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
GROUP BY TABLE_NAME, INDEX_NAME, NON_UNIQUE, INDEX_TYPE"""
_MYSQL_OTHERS = {
    "checks": """SELECT TABLE_NAME, CONCAT('CHECK (', CHECK_CLAUSE, ')')
FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()""",
    "views": """SELECT TABLE_NAME, VIEW_DEFINITION
FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()""",
    "triggers": """SELECT EVENT_OBJECT_TABLE, CONCAT_WS(' ', ACTION_TIMING,
  EVENT_MANIPULATION, 'FOR EACH', ACTION_ORIENTATION, ACTION_STATEMENT)
FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()""",
    "routines": """SELECT CONCAT(LOWER(ROUTINE_TYPE), ' ', ROUTINE_NAME),
  IFNULL(ROUTINE_DEFINITION, '')
FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()""",
}


def _read_mysql(cursor: Any) -> _Parts:
    """Read ``information_schema`` for ``DATABASE()`` only, and strip the
    database's name where MariaDB writes it (view definitions, triggers)."""
    parts = _Parts()
    cursor.execute(_MYSQL_COLUMNS)
    for table, name, type_, null, default, extra in cursor.fetchall():
        default = None if default is None else _tidy(default)
        parts.columns[table].append(Column(name, type_, bool(null), default, extra))
    cursor.execute(_MYSQL_FOREIGN_KEYS)
    for table, cols, ref, ref_cols, delete, update in cursor.fetchall():
        # InnoDB treats RESTRICT as NO ACTION, and reports RESTRICT by default.
        rules = _rules(delete, update, {"NO ACTION", "RESTRICT"})
        fk = ForeignKey(tuple(cols.split(",")), ref, tuple(ref_cols.split(",")), rules)
        parts.foreign_keys[table].append(fk)
    _mysql_indexes(cursor, parts)
    cursor.execute("SELECT DATABASE()")
    qualifier = f"`{cursor.fetchone()[0]}`."
    found = {}
    for kind, sql in _MYSQL_OTHERS.items():
        cursor.execute(sql)
        found[kind] = [
            (k, _tidy(v.replace(qualifier, ""))) for k, v in cursor.fetchall()
        ]
    for table, check in found["checks"]:
        parts.constraints[table].append(check)
    for table, trigger in found["triggers"]:
        parts.triggers[table].append(trigger)
    parts.views, parts.functions = dict(found["views"]), dict(found["routines"])
    return parts


def _mysql_indexes(cursor: Any, parts: _Parts) -> None:
    """Sort STATISTICS into primary key, UNIQUE constraints and indexes.

    InnoDB creates an index for a foreign key that has none and drops it
    silently once another index starts with the same columns, but keeps an
    index made before the key: whether one on exactly the key's columns
    survives depends on the order of operations, so a redundant one is
    left out.
    """
    cursor.execute(_MYSQL_INDEXES)
    by_table: defaultdict[str, dict[str, tuple[str, ...]]] = defaultdict(dict)
    rows = [(*row[:4], tuple(row[4].split(","))) for row in cursor.fetchall()]
    for table, name, _, _, items in rows:
        by_table[table][name] = items
    for table, name, unique, method, items in rows:
        others = [i for n, i in by_table[table].items() if n != name]
        redundant = (
            not unique
            and any(fk.columns == items for fk in parts.foreign_keys[table])
            and any(other[: len(items)] == items for other in others)
        )
        if name == "PRIMARY":
            parts.primary_keys[table] = items
        elif unique and method == "btree" and _plain(items):
            parts.constraints[table].append(f"UNIQUE ({', '.join(items)})")
        elif not redundant:
            parts.indexes[table].append(Index(items, bool(unique), method))


# -- comparison -------------------------------------------------------------------


def diff_schemas(old: Schema, new: Schema) -> list[str]:
    """Human-readable differences between two schemas; ``[]`` when equal."""
    lines = []
    if old.vendor != new.vendor:
        lines.append(f"vendor differs: {old.vendor} in old, {new.vendor} in new")
    old_tables = {t.name: t for t in old.tables}
    new_tables = {t.name: t for t in new.tables}
    lines += _diff_keyed("table", old_tables, new_tables, None, changed=False)
    for name in sorted(old_tables.keys() & new_tables.keys()):
        lines += _diff_table(old_tables[name], new_tables[name])
    lines += _diff_keyed("view", dict(old.views), dict(new.views), str)
    lines += _diff_bag(old.extensions, new.extensions, "extension '{}'".format)
    lines += _diff_bag(old.sequences, new.sequences, "sequence {}".format)
    lines += _diff_keyed("function", dict(old.functions), dict(new.functions), str)
    lines += _diff_bag(old.triggers, new.triggers, "trigger {}".format)
    return lines


def _diff_table(old: Table, new: Table) -> list[str]:
    prefix = f"table '{old.name}':"
    old_columns = {c.name: c for c in old.columns}
    new_columns = {c.name: c for c in new.columns}
    lines = _diff_keyed(f"{prefix} column", old_columns, new_columns, str)
    if old.primary_key != new.primary_key:
        old_pk, new_pk = ", ".join(old.primary_key), ", ".join(new.primary_key)
        lines.append(f"{prefix} primary key ({old_pk}) in old, ({new_pk}) in new")
    for label, attribute in [
        ("foreign key", "foreign_keys"),
        ("constraint", "constraints"),
        ("index", "indexes"),
    ]:
        show = f"{prefix} {label} {{}}".format
        lines += _diff_bag(getattr(old, attribute), getattr(new, attribute), show)
    if old.comment != new.comment:
        lines.append(f"{prefix} comment {old.comment!r} in old, {new.comment!r} in new")
    return lines


def _diff_keyed(
    label: str,
    old: Mapping[str, T],
    new: Mapping[str, T],
    show: Callable[[T], str] | None,
    *,
    changed: bool = True,
) -> list[str]:
    """Compare things known by name: missing on either side, or changed."""
    lines = []
    for key in sorted(old.keys() | new.keys()):
        if key not in new or key not in old:
            side, value = ("old", old[key]) if key in old else ("new", new[key])
            detail = f" ({show(value)})" if show else ""
            lines.append(f"{label} '{key}' only in {side}{detail}")
        elif changed and old[key] != new[key]:
            was, now = (show or repr)(old[key]), (show or repr)(new[key])
            lines.append(f"{label} '{key}' differs: {was} in old, {now} in new")
    return lines


def _diff_bag(
    old: Iterable[T], new: Iterable[T], show: Callable[[T], str]
) -> list[str]:
    """Compare unnamed things by content, counting duplicates."""
    old_count, new_count = Counter(old), Counter(new)
    lines = [f"{show(item)} only in old" for item in (old_count - new_count).elements()]
    lines += [
        f"{show(item)} only in new" for item in (new_count - old_count).elements()
    ]
    return sorted(lines)
