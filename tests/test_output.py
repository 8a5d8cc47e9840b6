"""What ``remakemigrations`` shows: verbosity, colours, progress of long steps.

Output does not depend on the database backend, so these run on SQLite only,
except the count of migrations a build applied (a dry run is enough to see
it), which is read from the statements each backend runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from django.core.management.color import color_style

from . import runs
from .conftest import REMAKED
from .harness import Project

ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: the steps a full run reports while it works, in order
LONG_STEPS = [
    "Building the old history on a new database for 'default'",
    "Verifying in a fresh process",
    "Building the new history on a new database for 'default'",
    "Comparing the old and the new database of 'default'",
]


def remade_files(project: Project) -> list[str]:
    folder = project.root / "shop" / "migrations"
    return sorted(p.name for p in folder.iterdir() if REMAKED.match(p.name))


def test_verbosity_0_prints_nothing(migrated_shop: Project) -> None:
    result = migrated_shop.manage("remakemigrations", "--no-input", "-v", "0")

    assert (result.stdout, result.stderr) == ("", "")
    assert len(remade_files(migrated_shop)) == 1


def test_long_steps_are_plain_lines_when_not_a_terminal(
    migrated_shop: Project,
) -> None:
    out = migrated_shop.manage("remakemigrations", "--no-input").stdout

    assert "\r" not in out and "\x1b" not in out
    progress = [line for line in out.splitlines() if line.endswith("...")]
    assert progress == [f"{step}..." for step in LONG_STEPS], out
    assert out.splitlines()[-1].startswith("Remade 1 app: 5 migrations with "), out


def test_long_steps_update_in_place_on_a_terminal(migrated_shop: Project) -> None:
    result = runs.in_terminal(migrated_shop, "remakemigrations", "--no-input")

    assert result.returncode == 0, result.stdout
    # The line of a step is rewritten while it runs, not repeated.
    assert "\rBuilding the old history" in result.stdout
    shown = runs.screen(result.stdout)
    lines = ANSI.sub("", shown).splitlines()
    for step in LONG_STEPS:
        finished = [line for line in lines if line.startswith(f"{step}...")]
        assert len(finished) == 1, shown
        assert re.fullmatch(
            rf"{re.escape(step)}\.\.\. (\d+/\d+ migrations, )?done \(\d+\.\ds\)",
            finished[0],
        ), finished[0]
    # The builds count the migrations they apply; the count ends at the total.
    old = next(line for line in lines if line.startswith(LONG_STEPS[0]))
    done, total = re.search(r"(\d+)/(\d+) migrations", old).groups()  # type: ignore[union-attr]
    assert done == total and int(total) >= 5
    # Short steps are seen only while they run.
    assert "Reading the migration history" in result.stdout
    assert "Reading the migration history" not in shown
    # A terminal gets colours: the summary is styled as a success.
    summary = shown.splitlines()[-1]
    assert summary.startswith("\x1b[") and "Remade 1 app" in summary, summary


def test_build_counts_migrations_on_a_terminal_without_colour(
    make_project: Callable[[str], Project],
) -> None:
    """The count comes from the statements each backend runs: every backend."""
    project = make_project("shop")
    project.manage("migrate")

    result = runs.in_terminal(project, "remakemigrations", "--dry-run", "--no-color")

    assert result.returncode == 0, result.stdout
    assert "\r" in result.stdout
    assert "\x1b" not in result.stdout
    shown = runs.screen(result.stdout)
    old = re.search(
        rf"^{re.escape(LONG_STEPS[0])}\.\.\. (\d+)/(\d+) migrations, done \(",
        shown,
        re.M,
    )
    assert old, shown
    assert old[1] == old[2] and int(old[2]) >= 5
    assert "\nPlanned migrations:\n" in shown


def test_force_color_styles_the_plan(migrated_shop: Project) -> None:
    style = color_style(force_color=True)

    coloured = migrated_shop.manage("remakemigrations", "--dry-run", "--force-color")
    plain = migrated_shop.manage("remakemigrations", "--dry-run")

    assert f"{style.MIGRATE_HEADING('Planned migrations:')}\n" in coloured.stdout
    assert f"{style.MIGRATE_LABEL('  shop: 5 migrations -> 1')}\n" in coloured.stdout
    assert "\x1b" not in plain.stdout
    # Without the escape codes, the same text.
    assert ANSI.sub("", coloured.stdout) == plain.stdout


def test_verbosity_1_fits_a_screen_with_many_apps(tmp_path: Path) -> None:
    """Past 20 apps, -v 1 counts the rest; -v 2 lists every app and migration."""
    project = Project(tmp_path / "many", "sqlite")
    labels = [f"app{number:02d}" for number in range(23)]
    for label in labels:
        project.write(f"{label}/__init__.py", "")
        project.write(f"{label}/migrations/__init__.py", "")
        project.write(
            f"{label}/models.py",
            """
            from django.db import models


            class Thing(models.Model):
                name = models.CharField(max_length=10)
            """,
        )
        project.write(
            f"{label}/migrations/0001_initial.py",
            """
            from django.db import migrations, models


            class Migration(migrations.Migration):
                initial = True
                operations = [
                    migrations.CreateModel(
                        name="Thing",
                        fields=[
                            ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                            ("name", models.CharField(max_length=10)),
                        ],
                    ),
                ]
            """,
        )
        project.write(
            f"{label}/migrations/0002_second.py",
            f"""
            from django.db import migrations


            class Migration(migrations.Migration):
                dependencies = [("{label}", "0001_initial")]
            """,
        )
    project.write(
        "project_settings.py", f"INSTALLED_APPS = {[*labels, 'django_remake']!r}\n"
    )
    project.use_databases(default=project.new_database())
    project.manage("migrate", "-v", "0")
    try:
        summary = project.manage(
            "remakemigrations", "--dry-run", "--no-verify-schema"
        ).stdout
        detailed = project.manage(
            "remakemigrations", "--dry-run", "--no-verify-schema", "-v", "2"
        ).stdout
    finally:
        project.close()

    app_lines = [line for line in summary.splitlines() if line.startswith("  app")]
    assert app_lines == [f"  {label}: 2 migrations -> 1" for label in labels[:20]]
    assert "  ... and 3 more apps (-v 2 lists them)\n" in summary
    assert len(summary.splitlines()) < 30, summary
    for label in labels:
        assert f"  {label}: 2 migrations -> 1\n    {label}/migrations/" in detailed
