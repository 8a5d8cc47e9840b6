"""Nothing lost: what the models cannot describe is carried into the new history.

The ``seeds`` scenario has two apps whose history seeds rows (with module-level
helpers and constants), back-fills an empty table, runs an elidable fix-up,
reads rows another app seeded, reuses a function name across migrations, runs a
custom operation defined in its migration file, and forgets a column from the
state only (``SeparateDatabaseAndState``). ``pgobjects`` has PostgreSQL's
extensions, a collation, a view, a trigger and its function, a column default
set by SQL, a cache table made from ``RunPython``, and seeded rows.

After each remake, a new database built from the new history must hold what
one built from the old history holds, and the old migration files must be
gone without the new ones needing them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from .harness import Project, new_migration_names

MakeProject = Callable[[str], Project]

ROWS = """
import json
from django.db import connection
tables = {tables!r}
found = {{}}
with connection.cursor() as cursor:
    for table, columns in tables.items():
        cursor.execute(f"SELECT {{', '.join(columns)}} FROM {{table}} ORDER BY {{columns[0]}}")
        found[table] = [list(row) for row in cursor.fetchall()]
print(json.dumps(found))
"""


def rows(project: Project, **tables: list[str]) -> dict[str, list[list[object]]]:
    out = project.python(ROWS.format(tables=tables))
    return dict(json.loads(out))


def fresh_database(project: Project) -> None:
    """Point the project at a new empty database and migrate it."""
    project.use_databases(default=project.new_database())
    project.manage("migrate")


def remade_text(project: Project, *folders: str) -> str:
    return "".join(
        (project.root / folder / f"{name}.py").read_text()
        for folder in folders
        for name in new_migration_names(project, folder)
    )


SEEDED = {
    "geo_country": [["DE", "Germany"], ["FR", "France"], ["NL", "Netherlands"]],
    "shop_carrier": [["Colissimo"], ["DHL"], ["PostNL"]],
}


def test_seeded_rows_survive_and_are_proven(make_project: MakeProject) -> None:
    project = make_project("seeds")
    project.manage("migrate")

    out = project.manage("remakemigrations", "--no-input").stdout

    geo = new_migration_names(project, "geo/migrations")[-1]
    shop = new_migration_names(project, "shop/migrations")[-1]
    assert (
        "Old operations the models cannot re-create (7 operations): 4 carried, "
        "2 dropped, 1 re-created from the models.\n"
        f"  geo.0002_seed_countries #1 RunPython (seed_countries): carried into "
        f"geo.{geo}: changed 3 rows of 'geo_country'\n"
        "  geo.0004_backfill_city_slugs #1 RunPython (backfill): dropped: no effect "
        "on a new database\n"
        "  geo.0005_fix_typo #1 RunPython (fix): dropped: elidable\n"
        "  geo.0006_forget_legacy_code #1 SeparateDatabaseAndState: re-created from "
        "the models: it changes the models' state, which the new history re-creates "
        "from the models; its database part is not carried\n"
        f"  shop.0002_seed_carriers #1 RunPython (forwards): carried into "
        f"shop.{shop}: changed 1 row of 'shop_carrier'\n"
        f"  shop.0003_more_carriers #1 RunPython (forwards): carried into "
        f"shop.{shop}: changed 1 row of 'shop_carrier'\n"
        f"  shop.0004_default_carrier #1 InsertCarrier: carried into shop.{shop}: "
        "changed 1 row of 'shop_carrier'\n"
    ) in out
    # The elidable fix-up is the one difference, as asked; the column the old
    # history only forgot is the old history's own leftover.
    assert re.search(
        r"New databases differ where operations were dropped as asked:\n"
        r"  database 'default': table 'geo_country': .*\(geo\.0005_fix_typo #1 "
        r"RunPython, dropped: elidable\)\n",
        out,
    ), out
    assert re.search(
        r"Left in existing databases by the old history, and rightly not in new "
        r"ones \(the models do not describe them\):\n"
        r"  database 'default': table 'geo_country': column 'legacy_code' only in "
        r"old \(.*\) \(left by geo\.0006_forget_legacy_code\)\n",
        out,
    ), out
    assert out.endswith(
        "Verified: makemigrations finds no changes; migrate has nothing to apply on "
        "'default'; the old and the new history build the same database on "
        "'default'.\n"
    ), out

    text = remade_text(project, "geo/migrations", "shop/migrations")
    imports = re.findall(r"^(?:import|from) (\S+)", text, re.M)
    assert not [n for n in imports if n.startswith(("geo.", "shop."))], imports
    assert "COUNTRIES = [" in text and "def _title(name):" in text
    assert "class InsertCarrier(Operation):" in text
    assert not (project.root / "geo/migrations/0002_seed_countries.py").exists()

    fresh_database(project)
    assert rows(project, geo_country=["code", "title"], shop_carrier=["name"]) == SEEDED


def test_the_dry_run_lists_each_fate_and_writes_nothing(
    make_project: MakeProject,
) -> None:
    project = make_project("seeds")
    project.manage("migrate")
    before = project.tree_hashes()

    out = project.manage("remakemigrations", "--dry-run").stdout

    assert project.tree_hashes() == before
    assert (
        "geo.0004_backfill_city_slugs #1 RunPython (backfill): dropped: no effect on a new database\n"
        in out
    )
    assert "geo.0005_fix_typo #1 RunPython (fix): dropped: elidable\n" in out


RENAMED_LATER = """\
from django.db import migrations, models


def set_iso(apps, schema_editor):
    apps.get_model("geo", "Country").objects.update(iso="x")


class Migration(migrations.Migration):
    dependencies = [("geo", "0006_forget_legacy_code")]
    operations = [
        migrations.AddField("country", "iso", models.CharField(max_length=3, default="")),
        migrations.RunPython(set_iso, migrations.RunPython.noop),
        migrations.RemoveField("country", "iso"),
    ]
"""


def test_carried_code_that_fails_on_the_current_models_stops_the_run(
    make_project: MakeProject,
) -> None:
    project = make_project("seeds")
    project.write("geo/migrations/0007_iso_for_a_while.py", RENAMED_LATER)
    project.manage("migrate")
    before = project.tree_hashes()

    result = project.manage("remakemigrations", "--no-input", ok=False)

    assert project.tree_hashes() == before
    assert "Traceback" not in result.stderr
    message = result.stderr
    assert "It holds operations carried from the old history: " in message
    assert "geo.0007_iso_for_a_while #2 RunPython (set_iso)" in message
    assert "FieldError" in message or "iso" in message
    assert message.rstrip().endswith("Every file was restored.")


def test_settings_keep_and_drop_named_operations(make_project: MakeProject) -> None:
    project = make_project("seeds")
    settings = project.root / "project_settings.py"
    settings.write_text(
        settings.read_text()
        + 'REMAKE_MIGRATIONS_KEEP_OPERATIONS = ["backfill"]\n'
        + 'REMAKE_MIGRATIONS_DROP_OPERATIONS = ["shop.0004_default_carrier #1"]\n'
    )
    project.manage("migrate")

    out = project.manage("remakemigrations", "--no-input").stdout

    assert (
        "geo.0004_backfill_city_slugs #1 RunPython (backfill): carried into geo."
    ) in out
    assert ": listed in REMAKE_MIGRATIONS_KEEP_OPERATIONS\n" in out
    assert (
        "  shop.0004_default_carrier #1 InsertCarrier: dropped: listed in "
        "REMAKE_MIGRATIONS_DROP_OPERATIONS\n"
    ) in out
    fresh_database(project)
    assert rows(project, shop_carrier=["name"]) == {
        "shop_carrier": [["Colissimo"], ["DHL"]]
    }


def test_a_pattern_that_names_nothing_is_an_error(make_project: MakeProject) -> None:
    project = make_project("seeds")
    project.manage("migrate")
    before = project.tree_hashes()

    result = project.manage(
        "remakemigrations", "--no-input", "--drop-operation", "seed_contries", ok=False
    )

    assert project.tree_hashes() == before
    assert result.stderr == (
        "CommandError: REMAKE_MIGRATIONS_DROP_OPERATIONS names 'seed_contries', which "
        "matches no RunPython, RunSQL or other operation of the old history that the "
        "models cannot re-create. Use 'app.migration', 'app.migration #N' (as the "
        "plan lists them) or a function name.\n"
    )


def test_drop_data_migrations(make_project: MakeProject) -> None:
    project = make_project("seeds")
    project.manage("migrate")

    out = project.manage(
        "remakemigrations", "--no-input", "--drop-data-migrations"
    ).stdout

    assert (
        "  geo.0002_seed_countries #1 RunPython (seed_countries): dropped: "
        "--drop-data-migrations (it creates no schema object)\n"
    ) in out
    assert "New databases differ where operations were dropped as asked:" in out
    fresh_database(project)
    # The custom operation is not a RunPython or RunSQL, so it is carried, but
    # the country it looks up was not seeded.
    assert rows(project, geo_country=["code"], shop_carrier=["name"]) == {
        "geo_country": [],
        "shop_carrier": [],
    }


def test_without_verification_every_operation_is_carried(
    make_project: MakeProject,
) -> None:
    project = make_project("seeds")
    project.manage("migrate")

    result = project.manage("remakemigrations", "--no-input", "--no-verify-schema")

    assert (
        "Nothing was observed or will be proven (--no-verify-schema): every "
        "operation the models cannot re-create is carried, unless elidable.\n"
    ) in result.stderr
    assert (
        "geo.0004_backfill_city_slugs #1 RunPython (backfill): carried into geo."
    ) in result.stdout
    fresh_database(project)
    assert rows(project, geo_country=["code", "title"], shop_carrier=["name"]) == SEEDED


def test_postgresql_objects_survive(make_project: MakeProject, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("extensions, collations, triggers: PostgreSQL")
    project = make_project("pgobjects")
    project.manage("migrate")

    out = project.manage("remakemigrations", "--no-input").stdout

    assert out.endswith(
        "the old and the new history build the same database on 'default'.\n"
    ), out
    fresh_database(project)
    found = json.loads(
        project.python(
            """
            import json
            from django.db import connection
            with connection.cursor() as cursor:
                cursor.execute("SELECT extname FROM pg_extension ORDER BY 1")
                extensions = [r[0] for r in cursor.fetchall()]
                cursor.execute("SELECT collname FROM pg_collation WHERE collname = 'case_insensitive'")
                collations = [r[0] for r in cursor.fetchall()]
                cursor.execute("SELECT viewname FROM pg_views WHERE schemaname = 'public'")
                views = [r[0] for r in cursor.fetchall()]
                cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
                triggers = [r[0] for r in cursor.fetchall()]
                cursor.execute("INSERT INTO search_doc (title) VALUES ('  padded ') RETURNING title, body")
                inserted = list(cursor.fetchone())
                cursor.execute("SELECT title FROM search_doc WHERE title = 'HELP'")
                collated = [r[0] for r in cursor.fetchall()]
                cursor.execute("SELECT count(*) FROM search_cache")
                cache = cursor.fetchone()[0]
            print(json.dumps([extensions, collations, views, triggers, inserted, collated, cache]))
            """
        )
    )
    assert found == [
        ["pg_trgm", "plpgsql"],
        ["case_insensitive"],
        ["search_doc_titles"],
        ["search_doc_tidy"],
        ["padded", ""],
        ["Help"],
        0,
    ]


def test_without_the_right_to_create_databases_everything_is_carried(
    make_project: MakeProject, backend: str
) -> None:
    """A database user without CREATEDB cannot build the old history: nothing is
    observed or proven, every operation but the elidable one is carried, and
    the run says so."""
    if backend != "postgresql":
        pytest.skip("database roles: PostgreSQL")
    from .backends import _admin_execute

    project = make_project("seeds")
    role = f"{project.databases[0].name}_user"
    _admin_execute(backend, f'CREATE ROLE "{role}" LOGIN NOCREATEDB')
    try:
        _admin_execute(
            backend, f'ALTER DATABASE "{project.databases[0].name}" OWNER TO "{role}"'
        )
        config = json.loads((project.root / "databases.json").read_text())
        config["default"]["USER"] = role
        (project.root / "databases.json").write_text(json.dumps(config))
        project.manage("migrate")

        result = project.manage("remakemigrations", "--no-input")

        assert re.search(
            r"Nothing was observed or will be proven \(no new database could be "
            r"made: .*permission denied to create database.*\): every operation "
            r"the models cannot re-create is carried, unless elidable\.\n",
            result.stderr,
        ), result.stderr
        assert "dropped: elidable" in result.stdout
        assert result.stdout.endswith(
            "Verified: makemigrations finds no changes; migrate has nothing to "
            "apply on 'default'.\n"
        )
    finally:
        project.close()
        _admin_execute(backend, f'DROP ROLE IF EXISTS "{role}"')
