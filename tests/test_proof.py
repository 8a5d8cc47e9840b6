"""``remakemigrations --verify-schema``: old and new history on throwaway databases."""

from __future__ import annotations

from collections.abc import Callable

from .harness import Project

EXTRA_TABLE = """\
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("shop", "0005_stock_and_index")]
    operations = [
        migrations.RunSQL(
            "CREATE TABLE shop_audit (id integer PRIMARY KEY)",
            "DROP TABLE shop_audit",
        )
    ]
"""


def test_same_schema_passes(make_project: Callable[[str], Project]) -> None:
    project = make_project("crossapp")
    project.manage("migrate")

    out = project.manage("remakemigrations", "--no-input", "--verify-schema").stdout

    assert "Building the old history on a new database for 'default'..." in out
    assert out.endswith(
        "Verified: makemigrations finds no changes; migrate has nothing to apply on "
        "'default'; old and new history build the same schema on 'default'.\n"
    )


def test_rows_seeded_by_a_data_migration_are_named(
    make_project: Callable[[str], Project],
) -> None:
    project = make_project("shop")
    project.manage("migrate")

    out = project.manage("remakemigrations", "--no-input", "--verify-schema").stdout

    assert (
        "Database 'default': table 'shop_item': 1 row in old, 0 in new (rows the old "
        "history's data migrations inserted; see the operations listed above)"
    ) in out


def test_a_different_schema_fails_and_restores_everything(
    make_project: Callable[[str], Project],
) -> None:
    project = make_project("shop")
    project.write("shop/migrations/0006_audit_table.py", EXTRA_TABLE)
    project.manage("migrate")
    before = project.tree_hashes()

    result = project.manage("remakemigrations", "--no-input", "--verify-schema", ok=False)

    assert "RunSQL" in result.stdout  # named in the plan as not re-created
    assert (
        "CommandError: The new history does not build the same schema as the old "
        "one on database 'default':\n  table 'shop_audit' only in old"
    ) in result.stderr
    assert result.stderr.rstrip().endswith("Every file was restored.")
    assert project.tree_hashes() == before


def test_output_from_the_settings_does_not_break_verification(
    make_project: Callable[[str], Project],
) -> None:
    """Projects print from their settings ("using local settings"); the child
    processes that verify the result answer through their own channel."""
    project = make_project("crossapp")
    settings = project.root / "project_settings.py"
    settings.write_text(
        'print("using local settings")\n' + settings.read_text()
        + 'print("{not json")\n'
    )
    project.manage("migrate")

    out = project.manage("remakemigrations", "--no-input", "--verify-schema").stdout

    assert out.endswith(
        "Verified: makemigrations finds no changes; migrate has nothing to apply on "
        "'default'; old and new history build the same schema on 'default'.\n"
    )
