"""The proof: the old and the new history built on new databases, compared.

It runs by default (``--no-verify-schema`` turns it off); ``--verify-schema``
is still accepted.
"""

from __future__ import annotations

from collections.abc import Callable

from .harness import Project

MakeProject = Callable[[str], Project]

PROVEN = (
    "Verified: makemigrations finds no changes; migrate has nothing to apply on "
    "'default'; the old and the new history build the same database on "
    "'default'.\n"
)

# A table made by SQL inside SeparateDatabaseAndState, whose state part is about
# another model: the models cannot re-create it, and it is not carried.
HIDDEN_TABLE = """\
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("shop", "0005_stock_and_index")]
    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "CREATE TABLE shop_audit (id integer PRIMARY KEY)",
                    "DROP TABLE shop_audit",
                )
            ],
            state_operations=[migrations.AlterModelOptions("item", {})],
        )
    ]
"""


def test_the_proof_runs_by_default(make_project: MakeProject) -> None:
    project = make_project("crossapp")
    project.manage("migrate")

    out = project.manage("remakemigrations", "--no-input").stdout

    assert out.startswith(
        "Building the old history on a new database for 'default'...\n"
    ), out
    assert "Building the new history on a new database for 'default'...\n" in out
    assert out.endswith(PROVEN), out


def test_verify_schema_is_still_accepted(make_project: MakeProject) -> None:
    project = make_project("shop")
    project.manage("migrate")

    out = project.manage("remakemigrations", "--no-input", "--verify-schema").stdout

    assert out.endswith(PROVEN), out


def test_a_difference_fails_names_the_table_and_restores_everything(
    make_project: MakeProject,
) -> None:
    project = make_project("shop")
    project.write("shop/migrations/0006_audit_table.py", HIDDEN_TABLE)
    project.manage("migrate")
    before = project.tree_hashes()

    result = project.manage("remakemigrations", "--no-input", ok=False)

    assert (
        "  shop.0006_audit_table #1 SeparateDatabaseAndState: re-created from the "
        "models: "
    ) in result.stdout
    assert result.stderr == (
        "CommandError: The new history does not build the same database as the old "
        "one on 'default':\n"
        "  table 'shop_audit' only in old\n"
        "If new databases need it, list the operation that made it in "
        "REMAKE_MIGRATIONS_KEEP_OPERATIONS (for an operation that changes the "
        "models' state, only its database part is carried); if they do not, list "
        "it in REMAKE_MIGRATIONS_DROP_OPERATIONS.\n"
        "Every file was restored.\n"
    )
    assert project.tree_hashes() == before

    # The way out the message names.
    settings = project.root / "project_settings.py"
    settings.write_text(
        settings.read_text()
        + 'REMAKE_MIGRATIONS_KEEP_OPERATIONS = ["shop.0006_audit_table"]\n'
    )
    out = project.manage("remakemigrations", "--no-input").stdout
    assert (
        "  shop.0006_audit_table #1 SeparateDatabaseAndState: carried into shop."
    ) in out
    # The setting names an old migration, which stops existing at the
    # clean-up (a pattern that names nothing is then an error): it is listed.
    assert out.endswith(
        PROVEN + "Code outside the migration folders names old migrations; update "
        "it (the old names stop existing at the clean-up):\n"
        "  project_settings.py:3: shop.0006_audit_table\n"
    ), out


def test_output_from_the_settings_does_not_break_verification(
    make_project: MakeProject,
) -> None:
    """Projects print from their settings ("using local settings"); the child
    processes that verify the result answer through their own channel."""
    project = make_project("crossapp")
    settings = project.root / "project_settings.py"
    settings.write_text(
        'print("using local settings")\n'
        + settings.read_text()
        + 'print("{not json")\n'
    )
    project.manage("migrate")

    out = project.manage("remakemigrations", "--no-input").stdout

    assert out.endswith(PROVEN), out
