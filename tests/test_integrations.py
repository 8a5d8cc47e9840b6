"""The tools a project already uses keep working after a remake and a clean-up.

Each test uses the real package (django-linear-migrations, black, ruff),
installed with the test dependencies (runtests.py), on SQLite only: what is
tested here is files on disk, not databases.
"""

from __future__ import annotations

from pathlib import Path

from tests import runs
from tests.harness import Project, new_migration_names

CLEANUP = "delete_remaked_migrations"


def shop_project(tmp_path: Path, settings: str = "") -> Project:
    project = Project.from_scenario("shop", tmp_path / "p", "sqlite")
    path = project.root / "project_settings.py"
    path.write_text(path.read_text() + settings)
    project.use_databases(default=project.new_database())
    return project


# -- django-linear-migrations ---------------------------------------------

LINEAR = 'INSTALLED_APPS = [*INSTALLED_APPS, "django_linear_migrations"]\n'


def assert_linear_migrations_content(project: Project) -> None:
    """Its system check passes, and so does ``makemigrations --check``."""
    project.manage("check")
    project.manage("makemigrations", "--check", "--dry-run")


def test_max_migration_txt_names_the_new_leaf(tmp_path: Path) -> None:
    project = shop_project(tmp_path, LINEAR)
    max_migration = project.root / "shop/migrations/max_migration.txt"
    try:
        project.manage("create_max_migration_files")
        assert max_migration.read_text() == "0005_stock_and_index\n"
        project.manage("migrate")
        before = project.tree_hashes()
        failed = runs.run(
            project,
            "remakemigrations",
            "--no-input",
            "--no-verify-schema",
            DJANGO_REMAKE_FAULT="verify:raise",
        )
        assert failed.returncode == 1, failed
        assert project.tree_hashes() == before

        project.manage("remakemigrations", "--no-input", "--no-verify-schema")

        (leaf,) = new_migration_names(project, "shop/migrations")
        assert max_migration.read_text() == f"{leaf}\n"
        assert_linear_migrations_content(project)

        # A remake made before this integration left the old name behind.
        max_migration.write_text("0005_stock_and_index\n")
        project.manage("migrate", "--skip-checks")
        before = project.tree_hashes()
        failed = runs.run(
            project, CLEANUP, "--remove-replaced", DJANGO_REMAKE_FAULT="move:3:raise"
        )
        assert failed.returncode == 1, failed
        assert project.tree_hashes() == before

        project.manage(CLEANUP, "--remove-replaced")

        assert max_migration.read_text() == f"{leaf}\n"
        assert_linear_migrations_content(project)
    finally:
        project.close()
