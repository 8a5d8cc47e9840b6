"""Tests for django_remake.schema against real throwaway databases.

Each test builds databases by applying migration operations (or raw SQL)
through a Django connection added at run time, then reads and compares them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import django
import pytest
from django.apps import apps
from django.conf import settings

if not settings.configured:
    settings.configure(
        DATABASES={
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
        },
        INSTALLED_APPS=["django.contrib.contenttypes"],
        USE_TZ=True,
    )
if not apps.ready:
    django.setup()

from django.db import DEFAULT_DB_ALIAS, connections, migrations, models  # noqa: E402
from django.db.backends.base.base import BaseDatabaseWrapper  # noqa: E402
from django.db.migrations.operations.base import Operation  # noqa: E402
from django.db.migrations.recorder import MigrationRecorder  # noqa: E402
from django.db.migrations.state import ProjectState  # noqa: E402

from django_remake.schema import Schema, diff_schemas, read_schema  # noqa: E402

from .backends import enabled_backends, throwaway_database  # noqa: E402

Step = Operation | str  # a migration operation, or raw SQL run on the database
Build = Callable[[Sequence[Step]], BaseDatabaseWrapper]

VARCHAR = {"sqlite": "varchar", "postgresql": "character varying", "mariadb": "varchar"}


# -- fixtures -------------------------------------------------------------------


@contextmanager
def _alias(alias: str, db_settings: dict[str, Any]) -> Iterator[BaseDatabaseWrapper]:
    """Expose a throwaway database as a Django connection alias for a while."""
    full = connections.configure_settings(
        {DEFAULT_DB_ALIAS: {}, alias: dict(db_settings)}
    )
    connections.settings[alias] = full[alias]
    try:
        yield connections[alias]
    finally:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]


@pytest.fixture
def _db_access(request: pytest.FixtureRequest) -> Iterator[None]:
    """Lift pytest-django's database blocker, if it is active: these tests
    bring their own databases instead of its test database."""
    try:
        blocker = request.getfixturevalue("django_db_blocker")
    except pytest.FixtureLookupError:
        blocker = None
    if blocker is None:
        yield
    else:
        with blocker.unblock():
            yield


@pytest.fixture(params=enabled_backends())
def db_backend(request: pytest.FixtureRequest) -> str:
    """The backend under test (not named ``backend``: conftest parametrizes that)."""
    return str(request.param)


@pytest.fixture
def build(db_backend: str, tmp_path: Path, _db_access: None) -> Iterator[Build]:
    """Make fresh databases on ``db_backend``, each with steps applied."""
    with ExitStack() as stack:

        def make(steps: Sequence[Step]) -> BaseDatabaseWrapper:
            db = stack.enter_context(throwaway_database(db_backend, tmp_path))
            connection = stack.enter_context(_alias(f"schema_{db.name}", db.settings))
            apply(connection, steps)
            return connection

        yield make


def apply(connection: BaseDatabaseWrapper, steps: Sequence[Step]) -> None:
    """Apply each step as its own migration of app ``shop`` (deferred SQL,
    such as foreign keys, runs at the end of each step, as with ``migrate``)."""
    state = ProjectState()
    for step in steps:
        with connection.schema_editor() as editor:
            if isinstance(step, str):
                editor.execute(step)
                continue
            new_state = state.clone()
            step.state_forwards("shop", new_state)
            step.database_forwards("shop", editor, state, new_state)
            state = new_state


def schemas(
    build: Build, old: Sequence[Step], new: Sequence[Step]
) -> tuple[Schema, Schema]:
    return read_schema(build(old)), read_schema(build(new))


# -- histories ------------------------------------------------------------------


def pk() -> tuple[str, models.Field[Any, Any]]:
    return ("id", models.BigAutoField(primary_key=True))


VIEW = "CREATE VIEW shop_cheap AS SELECT id, title FROM shop_book WHERE price < 10"

AUTHOR = migrations.CreateModel(
    "Author", [pk(), ("name", models.CharField(max_length=50, unique=True))]
)
BASE: list[Step] = [
    AUTHOR,
    migrations.CreateModel(
        "Book",
        [
            pk(),
            ("title", models.CharField(max_length=100)),
            ("price", models.DecimalField(max_digits=8, decimal_places=2)),
            ("stock", models.IntegerField(default=0)),
            ("author", models.ForeignKey("shop.author", models.CASCADE)),
        ],
    ),
]

ONE_STEP: list[Step] = [
    AUTHOR,
    migrations.CreateModel(
        "Book",
        [
            pk(),
            ("title", models.CharField(max_length=100, db_index=True)),
            ("price", models.DecimalField(max_digits=8, decimal_places=2)),
            ("stock", models.PositiveIntegerField(default=0)),
            ("status", models.CharField(max_length=10, db_default="new")),
            ("note", models.CharField(max_length=200, null=True)),
            ("author", models.ForeignKey("shop.author", models.CASCADE)),
        ],
        options={
            "indexes": [models.Index(fields=["title", "-price"], name="book_tp")],
            "constraints": [
                models.UniqueConstraint(fields=["author", "title"], name="book_u"),
                models.CheckConstraint(
                    condition=models.Q(stock__lte=1000), name="book_stock_max"
                ),
            ],
        },
    ),
    VIEW,
]

# The same end state, reached through renames, AddField, AlterField, AddIndex
# and AddConstraint: different names, column order and (on SQLite) remakes.
STEPWISE: list[Step] = [
    migrations.CreateModel(
        "Writer", [pk(), ("full_name", models.CharField(max_length=50, unique=True))]
    ),
    migrations.RenameModel("Writer", "Author"),
    migrations.RenameField("author", "full_name", "name"),
    migrations.CreateModel(
        "Volume", [pk(), ("heading", models.CharField(max_length=50))]
    ),
    migrations.AddField("volume", "note", models.CharField(max_length=200, null=True)),
    migrations.AlterField(
        "volume", "heading", models.CharField(max_length=100, db_index=True)
    ),
    migrations.RenameField("volume", "heading", "title"),
    migrations.AddField(
        "volume", "author", models.ForeignKey("shop.author", models.CASCADE, null=True)
    ),
    migrations.AlterField(
        "volume", "author", models.ForeignKey("shop.author", models.CASCADE)
    ),
    migrations.AddField(
        "volume",
        "price",
        models.DecimalField(max_digits=8, decimal_places=2, default=0),
        preserve_default=False,
    ),
    migrations.AddField("volume", "stock", models.PositiveIntegerField(default=0)),
    migrations.AddField(
        "volume", "status", models.CharField(max_length=10, db_default="new")
    ),
    migrations.RenameModel("Volume", "Book"),
    migrations.AddIndex("book", models.Index(fields=["title", "-price"], name="x_1")),
    migrations.AddConstraint(
        "book", models.UniqueConstraint(fields=["author", "title"], name="x_2")
    ),
    migrations.AddConstraint(
        "book", models.CheckConstraint(condition=models.Q(stock__lte=1000), name="x_3")
    ),
    VIEW,
]


# -- equal schemas --------------------------------------------------------------


def test_same_schema_from_different_histories_is_equal(build: Build) -> None:
    old, new = schemas(build, ONE_STEP, STEPWISE)
    assert diff_schemas(old, new) == []
    assert old == new
    assert hash(old) == hash(new)
    book = old.table("shop_book")
    assert [c.name for c in book.columns] == sorted(c.name for c in book.columns)
    assert book.primary_key == ("id",)
    assert [fk.ref_table for fk in book.foreign_keys] == ["shop_author"]
    assert "UNIQUE (author_id, title)" in book.constraints
    assert any(index.items == ("title", "price DESC") for index in book.indexes)
    assert [name for name, _ in old.views] == ["shop_cheap"]


def twice() -> models.GeneratedField:
    return models.GeneratedField(
        expression=models.F("qty") * 2,
        output_field=models.IntegerField(),
        db_persist=True,
    )


# Many-to-many, unique_together, a generated column, a comment, and a primary
# key whose type changes back and forth (PostgreSQL's identity sequence too).
ITEMS_AT_ONCE: list[Step] = [
    migrations.CreateModel(
        "Tag",
        [
            ("id", models.AutoField(primary_key=True)),
            ("label", models.CharField(max_length=20)),
        ],
    ),
    migrations.CreateModel(
        "Item",
        [
            pk(),
            ("qty", models.PositiveIntegerField(db_comment="how many")),
            ("code", models.CharField(max_length=30, db_index=True)),
            ("twice", twice()),
            ("tags", models.ManyToManyField("shop.tag")),
        ],
        options={"unique_together": {("code", "qty")}},
    ),
]
ITEMS_BIT_BY_BIT: list[Step] = [
    migrations.CreateModel("Tag", [pk(), ("label", models.CharField(max_length=20))]),
    migrations.AlterField("tag", "id", models.AutoField(primary_key=True)),
    migrations.CreateModel(
        "Item", [pk(), ("amount", models.PositiveIntegerField(db_comment="how many"))]
    ),
    migrations.RenameField("item", "amount", "qty"),
    migrations.AddField("item", "code", models.CharField(max_length=10, default="")),
    migrations.AlterField(
        "item", "code", models.CharField(max_length=30, db_index=True)
    ),
    migrations.AddField("item", "tags", models.ManyToManyField("shop.tag")),
    migrations.AlterUniqueTogether("item", {("code", "qty")}),
    migrations.AddField("item", "twice", twice()),
]


def test_more_fields_from_different_histories_are_equal(build: Build) -> None:
    old, new = schemas(build, ITEMS_AT_ONCE, ITEMS_BIT_BY_BIT)
    assert diff_schemas(old, new) == []
    tables = ["shop_item", "shop_item_tags", "shop_tag"]
    assert [table.name for table in old.tables] == tables


def test_reading_twice_gives_the_same_schema(build: Build) -> None:
    connection = build(ONE_STEP)
    assert read_schema(connection) == read_schema(connection)


def test_django_migrations_table_is_ignored(build: Build) -> None:
    connection = build(BASE)
    before = read_schema(connection)
    MigrationRecorder(connection).ensure_schema()
    assert diff_schemas(before, read_schema(connection)) == []
    with_it = read_schema(connection, exclude_tables=())
    assert diff_schemas(before, with_it) == ["table 'django_migrations' only in new"]


# -- differences ------------------------------------------------------------------


def note(**kwargs: Any) -> models.CharField[Any, Any]:
    return models.CharField(max_length=kwargs.pop("max_length", 200), **kwargs)


DIFFERENCES: dict[str, tuple[list[Step], list[Step], list[str]]] = {
    "missing column": (
        [migrations.AddField("book", "note", note(null=True))],
        [],
        ["table 'shop_book': column 'note' only in old ({varchar}(200) NULL)"],
    ),
    "type": (
        [migrations.AddField("book", "note", note(null=True))],
        [migrations.AddField("book", "note", note(null=True, max_length=300))],
        [
            "table 'shop_book': column 'note' differs: {varchar}(200) NULL in old,"
            " {varchar}(300) NULL in new"
        ],
    ),
    "nullability": (
        [migrations.AddField("book", "note", note(null=True))],
        [migrations.AddField("book", "note", note(default=""), preserve_default=False)],
        [
            "table 'shop_book': column 'note' differs: {varchar}(200) NULL in old,"
            " {varchar}(200) NOT NULL in new"
        ],
    ),
    "db_default": (
        [migrations.AddField("book", "note", note(db_default="a"))],
        [migrations.AddField("book", "note", note(db_default="b"))],
        [
            "table 'shop_book': column 'note' differs: {varchar}(200) NOT NULL"
            " DEFAULT 'a' in old, {varchar}(200) NOT NULL DEFAULT 'b' in new"
        ],
    ),
    "missing index": (
        [
            migrations.AddIndex(
                "book", models.Index(fields=["title", "price"], name="i")
            )
        ],
        [],
        ["table 'shop_book': index btree (title, price) only in old"],
    ),
    "index order": (
        [
            migrations.AddIndex(
                "book", models.Index(fields=["title", "price"], name="i")
            )
        ],
        [
            migrations.AddIndex(
                "book", models.Index(fields=["price", "title"], name="i")
            )
        ],
        [
            "table 'shop_book': index btree (price, title) only in new",
            "table 'shop_book': index btree (title, price) only in old",
        ],
    ),
    "missing unique": (
        [
            migrations.AddConstraint(
                "book", models.UniqueConstraint(fields=["title", "price"], name="u")
            )
        ],
        [],
        ["table 'shop_book': constraint UNIQUE (title, price) only in old"],
    ),
    "missing check": (
        [],
        [
            migrations.AddConstraint(
                "book",
                models.CheckConstraint(condition=models.Q(stock__gte=0), name="c"),
            )
        ],
        ["table 'shop_book': constraint CHECK (stock >= 0) only in new"],
    ),
    "extra table": (
        [],
        [migrations.CreateModel("Extra", [pk()])],
        ["table 'shop_extra' only in new"],
    ),
}


@pytest.mark.parametrize("case", sorted(DIFFERENCES))
def test_difference_is_reported_exactly(
    build: Build, db_backend: str, case: str
) -> None:
    old_steps, new_steps, expected = DIFFERENCES[case]
    old, new = schemas(build, [*BASE, *old_steps], [*BASE, *new_steps])
    varchar = VARCHAR[db_backend]
    assert diff_schemas(old, new) == [line.format(varchar=varchar) for line in expected]
    assert old != new


COLLATION = {"sqlite": "NOCASE", "postgresql": "C", "mariadb": "utf8mb4_bin"}


def test_collation_difference_is_reported(build: Build, db_backend: str) -> None:
    collated = note(null=True, db_collation=COLLATION[db_backend])
    old, new = schemas(
        build,
        [*BASE, migrations.AddField("book", "note", note(null=True))],
        [*BASE, migrations.AddField("book", "note", collated)],
    )
    [line] = diff_schemas(old, new)
    assert line.startswith("table 'shop_book': column 'note' differs: ")
    assert line.endswith(f"NULL collate {COLLATION[db_backend]} in new")


def test_missing_foreign_key_is_reported(build: Build) -> None:
    unconstrained: models.ForeignKey[Any, Any] = models.ForeignKey(
        "shop.author", models.CASCADE, db_constraint=False
    )
    old, new = schemas(
        build, BASE, [*BASE, migrations.AlterField("book", "author", unconstrained)]
    )
    lines = diff_schemas(old, new)
    assert len(lines) == 1
    assert lines[0].startswith(
        "table 'shop_book': foreign key (author_id) -> shop_author(id)"
    )
    assert lines[0].endswith(" only in old")


def test_missing_view_is_reported(build: Build) -> None:
    old, new = schemas(build, [*BASE, VIEW], BASE)
    lines = diff_schemas(old, new)
    assert len(lines) == 1
    assert lines[0].startswith("view 'shop_cheap' only in old (")


def test_different_view_is_reported(build: Build) -> None:
    other = VIEW.replace("< 10", "< 20")
    old, new = schemas(build, [*BASE, VIEW], [*BASE, other])
    [line] = diff_schemas(old, new)
    assert line.startswith("view 'shop_cheap' differs: ")
    assert "10" in line and "20" in line


TRIGGER = {
    "sqlite": [
        "CREATE TRIGGER {name} AFTER INSERT ON shop_book"
        " BEGIN UPDATE shop_book SET stock = 0 WHERE id = NEW.id; END"
    ],
    "postgresql": [
        "CREATE FUNCTION touch() RETURNS trigger"
        " AS $$ BEGIN NEW.stock := 0; RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER {name} BEFORE INSERT ON shop_book"
        " FOR EACH ROW EXECUTE FUNCTION touch()",
    ],
    "mariadb": [
        "CREATE TRIGGER {name} BEFORE INSERT ON shop_book"
        " FOR EACH ROW SET NEW.stock = 0"
    ],
}


def test_triggers_are_compared_without_their_names(
    build: Build, db_backend: str
) -> None:
    def trigger(name: str) -> list[Step]:
        return [sql.format(name=name) for sql in TRIGGER[db_backend]]

    one = read_schema(build([*BASE, *trigger("book_touch")]))
    other = read_schema(build([*BASE, *trigger("other_name")]))
    assert diff_schemas(one, other) == []
    [line] = diff_schemas(one, read_schema(build([*BASE, *trigger("x")[:-1]])))
    assert line.startswith("trigger shop_book: ")
    assert line.endswith(" only in old")
    assert "book_touch" not in line


# -- backend specifics ----------------------------------------------------------


def only(backend: str) -> list[str]:
    """Parametrize ``db_backend`` with just ``backend``, if it is enabled."""
    return [name for name in enabled_backends() if name == backend]


@pytest.mark.parametrize("db_backend", only("postgresql"))
def test_postgresql_normalizes_casts_and_sequence_names(build: Build) -> None:
    old = [
        "CREATE TABLE draft (id serial PRIMARY KEY, code text DEFAULT 'x')",
        "ALTER TABLE draft RENAME TO item",
        "ALTER TABLE item ALTER COLUMN code TYPE varchar(10)",
    ]
    new = ["CREATE TABLE item (id serial PRIMARY KEY, code varchar(10) DEFAULT 'x')"]
    old_schema, new_schema = schemas(build, old, new)
    assert diff_schemas(old_schema, new_schema) == []
    assert old_schema.sequences == ()
    [code, id_] = old_schema.table("item").columns
    assert (code.type, code.default) == ("character varying(10)", "'x'")
    assert (id_.default, id_.extra) == ("nextval(owned sequence)", "sequence integer")


PG_FUNCTION = (
    "CREATE FUNCTION add_one(i integer) RETURNS integer"
    " AS $$ SELECT i + 1 $$ LANGUAGE sql"
)
PG_CASES: dict[str, tuple[list[str], list[str], str]] = {
    "function": ([PG_FUNCTION], [], "function 'add_one(i integer)' only in old ("),
    "trigger": (
        [sql.format(name="book_touch") for sql in TRIGGER["postgresql"]],
        TRIGGER["postgresql"][:1],
        "trigger shop_book: CREATE TRIGGER BEFORE INSERT ON shop_book FOR EACH ROW"
        " EXECUTE FUNCTION touch() only in old",
    ),
    "hstore extension": (
        ["CREATE EXTENSION IF NOT EXISTS hstore"],
        [],
        "extension 'hstore' only in old",
    ),
    "citext extension": (
        ["CREATE EXTENSION IF NOT EXISTS citext"],
        [],
        "extension 'citext' only in old",
    ),
}


@pytest.mark.parametrize("db_backend", only("postgresql"))
@pytest.mark.parametrize("case", sorted(PG_CASES))
def test_postgresql_objects_are_compared(build: Build, case: str) -> None:
    old_sql, new_sql, expected = PG_CASES[case]
    if case.endswith("extension"):
        probe = build([])
        with probe.cursor() as cursor:
            name = case.split()[0]
            cursor.execute(
                "SELECT 1 FROM pg_available_extensions WHERE name = %s", [name]
            )
            if cursor.fetchone() is None:
                pytest.skip(f"extension {name} is not available on this server")
    old, new = schemas(build, [*BASE, *old_sql], [*BASE, *new_sql])
    [line] = diff_schemas(old, new)  # the extension's own functions are not listed
    assert line.startswith(expected)


@pytest.mark.parametrize("db_backend", only("mariadb"))
def test_mariadb_ignores_redundant_foreign_key_index(build: Build) -> None:
    tables = [
        "CREATE TABLE a (id int PRIMARY KEY)",
        "CREATE TABLE b (id int PRIMARY KEY, a_id int, x int)",
    ]
    fk = "ALTER TABLE b ADD CONSTRAINT fk FOREIGN KEY (a_id) REFERENCES a (id)"
    covering = "CREATE INDEX covering ON b (a_id, x)"
    # An index made before the FK outlives a covering index; InnoDB's own does not.
    old = [*tables, "CREATE INDEX explicit ON b (a_id)", fk, covering]
    old_schema, new_schema = schemas(build, old, [*tables, fk, covering])
    assert diff_schemas(old_schema, new_schema) == []
    assert [str(i) for i in new_schema.table("b").indexes] == ["btree (a_id, x)"]
