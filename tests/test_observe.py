"""Observing what operations change while the old history builds on a new database.

Each test adds migrations to the shop scenario, builds it with
:func:`django_remake.throwaway.build` and ``observe``, and checks the recorded
:class:`~django_remake.observe.Effect` of every operation, whole. The builds
run in the project (``project.python``), as the remake runs them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from django_remake.observe import Effect, classify

from .harness import Project

MakeProject = Callable[[str], Project]

OBSERVED = """\
from django.core.management import call_command
from django.db import migrations
{imports}

def seed(apps, schema_editor):
    Item = apps.get_model("shop", "Item")
    Item.objects.create(name="second", price=2)
    Item.objects.create(name="third", price=3)


def backfill(apps, schema_editor):
    apps.get_model("shop", "Tag").objects.filter(label="").update(label="none")


def cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias)


def restock(apps, schema_editor):
    apps.get_model("shop", "Item").objects.filter(name="starter").update(stock=1)


class Migration(migrations.Migration):
    dependencies = [("shop", "0005_stock_and_index")]
    operations = [
        migrations.RunPython(seed),
        migrations.RunPython(backfill),
        migrations.RunSQL(
            "CREATE VIEW shop_cheap AS SELECT id, name FROM shop_item WHERE price < 10"
        ),
        migrations.RunSQL("CREATE INDEX shop_item_stock_idx ON shop_item (stock)"),
        migrations.RunSQL({trigger!r}),
        migrations.RunPython(cache_table),
        migrations.RunPython(restock, atomic=False),
        migrations.RunPython(seed),  # not observed
{more}    ]
"""

TRIGGER = {
    "sqlite": [
        "CREATE TRIGGER shop_touch AFTER INSERT ON shop_item BEGIN"
        " UPDATE shop_item SET stock = 0 WHERE id = NEW.id AND stock IS NULL; END"
    ],
    "postgresql": [
        "CREATE FUNCTION shop_touch() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN NEW.stock := coalesce(NEW.stock, 0); RETURN NEW; END $$",
        "CREATE TRIGGER shop_touch BEFORE INSERT ON shop_item"
        " FOR EACH ROW EXECUTE FUNCTION shop_touch()",
    ],
    "mariadb": [
        "CREATE TRIGGER shop_touch BEFORE INSERT ON shop_item"
        " FOR EACH ROW SET NEW.stock = IFNULL(NEW.stock, 0)"
    ],
}
MORE = {
    "sqlite": ("", []),
    "postgresql": (
        "from django.contrib.postgres.operations import CreateExtension",
        [
            'migrations.RunSQL("ALTER TABLE shop_item ALTER COLUMN stock SET DEFAULT 5")',
            'migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS pg_trgm")',
            'CreateExtension("btree_gin")',
            # The reset after a fixture load: nothing to do on empty tables.
            "migrations.RunSQL(\"SELECT setval(pg_get_serial_sequence('shop_tag', 'id'),"
            ' coalesce(max(id), 1), max(id) IS NOT null) FROM shop_tag")',
            "migrations.RunSQL(\"SELECT setval(pg_get_serial_sequence('shop_item', 'id'),"
            ' 1000)")',
            "migrations.RunSQL(\"DO $$ BEGIN INSERT INTO shop_tag (label) VALUES ('done');"
            ' END $$")',
        ],
    ),
    "mariadb": (
        "",
        [
            'migrations.RunSQL("ALTER TABLE shop_item ALTER COLUMN stock SET DEFAULT 5")',
            'migrations.RunSQL("CREATE FUNCTION shop_double(x INT) RETURNS INT'
            ' DETERMINISTIC RETURN x * 2")',
            'migrations.RunSQL("SELECT shop_double(2)")',
        ],
    ),
}

NON_ATOMIC = """\
from django.db import migrations


def seed_tag(apps, schema_editor):
    apps.get_model("shop", "Tag").objects.create(label="new")


def nothing_to_fix(apps, schema_editor):
    apps.get_model("shop", "Tag").objects.filter(label="old").delete()


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("shop", "0006_observed")]
    operations = [
        migrations.RunPython(seed_tag),
        migrations.RunSQL("CREATE INDEX shop_tag_label_idx ON shop_tag (label)"),
        migrations.RunPython(nothing_to_fix),
    ]
"""

CACHES = """
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "remake_cache",
    }
}
"""


def effect(**fields: Any) -> dict[str, Any]:
    return Effect(**fields).to_json()


def expected_effects(backend: str) -> dict[tuple[str, str, int], dict[str, Any]]:
    trigger = {
        "sqlite": ("created trigger 'shop_touch' on 'shop_item'",),
        "postgresql": (
            "created function 'shop_touch()'",
            "created trigger 'shop_touch' on 'shop_item'",
        ),
        "mariadb": ("created trigger 'shop_touch' on 'shop_item'",),
    }[backend]
    found = {
        0: effect(rows={"shop_item": 2}, tables=("shop_item",)),
        1: effect(tables=("shop_tag",)),
        2: effect(
            schema=("created view 'shop_cheap'",), tables=("shop_cheap", "shop_item")
        ),
        3: effect(
            schema=("created index 'shop_item_stock_idx' on 'shop_item'",),
            tables=("shop_item",),
        ),
        4: effect(schema=trigger, tables=("shop_item",)),
        5: effect(schema=("created table 'remake_cache'",), tables=("remake_cache",)),
        6: effect(rows={"shop_item": 1}, tables=("shop_item",)),
    }
    default = effect(
        schema=("changed default of column 'shop_item.stock'",), tables=("shop_item",)
    )
    if backend == "postgresql":
        found[8] = default
        found[9] = effect(schema=("created extension 'pg_trgm'",), global_only=True)
        found[10] = effect(schema=("created extension 'btree_gin'",), global_only=True)
        found[11] = effect(tables=("shop_tag",))
        found[12] = effect(
            schema=("moved sequence 'shop_item_id_seq' of 'shop_item'",),
            tables=("shop_item",),
        )
        found[13] = effect(
            schema=("moved sequence 'shop_tag_id_seq' of 'shop_tag'",),
            tables=("shop_tag",),
            unsure=(
                "DO $$ BEGIN INSERT INTO shop_tag (label) VALUES ('done'); END $$",
            ),
        )
    if backend == "mariadb":
        found[8] = default
        found[9] = effect(schema=("created function 'shop_double'",), global_only=True)
        found[10] = effect(unsure=("SELECT shop_double(2)",))
    effects = {("shop", "0006_observed", i): e for i, e in found.items()}
    effects[("shop", "0007_non_atomic", 0)] = effect(
        rows={"shop_tag": 1}, tables=("shop_tag",)
    )
    effects[("shop", "0007_non_atomic", 1)] = effect(
        schema=("created index 'shop_tag_label_idx' on 'shop_tag'",),
        tables=("shop_tag",),
    )
    effects[("shop", "0007_non_atomic", 2)] = effect(tables=("shop_tag",))
    return effects


@pytest.fixture
def tmpdir_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


def observed_project(make_project: MakeProject, backend: str) -> Project:
    project = make_project("shop")
    imports, more = MORE[backend]
    project.write(
        "shop/migrations/0006_observed.py",
        OBSERVED.format(
            imports=imports,
            trigger=TRIGGER[backend],
            more="".join(f"        {op},\n" for op in more),
        ),
    )
    project.write("shop/migrations/0007_non_atomic.py", NON_ATOMIC)
    settings = project.root / "project_settings.py"
    settings.write_text(settings.read_text() + CACHES)
    return project


BUILD = """\
import json
from django_remake import throwaway

keys = [tuple(key) for key in json.loads({keys!r})]
observed = throwaway.build("default", "old", observe=keys)
plain = throwaway.build("default", "plain")
try:
    found = throwaway.compare("default", observed, plain, rows=True)
finally:
    throwaway.drop("default", observed)
    throwaway.drop("default", plain)
print(json.dumps({{
    "effects": [[*key, e.to_json()] for key, e in observed.effects.items()],
    "schema": found.schema,
    "rows": found.rows,
}}))
"""


def test_each_operation_is_recorded_with_what_it_changed(
    make_project: MakeProject, backend: str, tmpdir_env: Path
) -> None:
    project = observed_project(make_project, backend)
    expected = expected_effects(backend)
    keys = [*expected, ("shop", "0001_initial", 99), ("shop", "0099_missing", 0)]
    out = project.python(BUILD.format(keys=json.dumps(keys)))
    seen = json.loads(out.strip().splitlines()[-1])

    effects = {(a, m, i): data for a, m, i, data in seen["effects"]}
    assert effects == expected
    changed = {key for key, data in effects.items() if Effect.from_json(data).changed}
    unchanged = {("shop", "0006_observed", 1), ("shop", "0007_non_atomic", 2)}
    if backend == "postgresql":
        unchanged.add(("shop", "0006_observed", 11))
    assert changed == set(expected) - unchanged
    # The recording changes nothing in what is built, rows included.
    assert (seen["schema"], seen["rows"]) == ([], [])


# -- sorting statements (no database) ------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "kind", "target"),
    [
        ('INSERT INTO "shop_item" ("name") VALUES (%s)', "data", "shop_item"),
        ("  insert or ignore into shop_item values (1)", "data", "shop_item"),
        ("INSERT IGNORE INTO `shop_item` VALUES (1)", "data", "shop_item"),
        ("REPLACE INTO `shop`.`item` VALUES (1)", "data", "item"),
        ('UPDATE "shop_item" SET "stock" = 0', "data", "shop_item"),
        ('DELETE FROM "shop_tag" WHERE "id" IN (1)', "data", "shop_tag"),
        ("DELETE `t` FROM `shop_tag` `t` WHERE 1", "data", "shop_tag"),
        ("/* seed */ -- note\n(INSERT INTO a VALUES (1))", "data", "a"),
        ("WITH x AS (SELECT 1) UPDATE shop_item SET stock = 1", "data", "shop_item"),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "read", ""),
        ("SELECT setval('s', 1)", "read", ""),
        ("TRUNCATE TABLE shop_item", "bulk", "shop_item"),
        ("REFRESH MATERIALIZED VIEW CONCURRENTLY shop_mv", "bulk", "shop_mv"),
        ("SAVEPOINT s1", "session", ""),
        ("PRAGMA foreign_keys = OFF", "session", ""),
        ("CREATE TABLE t (id int)", "schema", ""),
        ("COMMENT ON TABLE t IS 'x'", "schema", ""),
        ("DO $$ BEGIN END $$", "opaque", ""),
        ("CALL shop_fix()", "opaque", ""),
    ],
)
def test_statements_are_sorted_by_what_they_can_change(
    sql: str, kind: str, target: str
) -> None:
    statement = classify(sql)
    assert (statement.kind, statement.target) == (kind, target)


def test_an_effect_says_what_it_changed() -> None:
    effect = Effect(
        rows={"shop_item": 3, "shop_tag": -1, "shop_note": 0},
        schema=("created view 'v'",),
        unsure=("CALL fix()",),
    )
    assert effect.changed
    assert effect.describe() == [
        "changed 3 rows of 'shop_item'",
        "changed some rows of 'shop_tag'",
        "created view 'v'",
        "ran SQL whose row changes cannot be counted: CALL fix()",
    ]
    assert not Effect(rows={"shop_item": 0}, tables=("shop_item",)).changed
    assert Effect(error="could not be wrapped").describe() == [
        "not observed: could not be wrapped"
    ]
    assert Effect.from_json(effect.to_json()) == effect
