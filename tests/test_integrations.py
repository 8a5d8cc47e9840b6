"""The tools a project already uses keep working after a remake and a clean-up.

Each test uses the real package (django-linear-migrations, black, ruff),
installed with the test dependencies (runtests.py), on SQLite only: what is
tested here is files on disk, not databases.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests import runs
from tests.harness import Project, deploy, new_migration_names

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


def max_migrations(project: Project) -> dict[str, str]:
    return {
        app: (project.root / app / "migrations/max_migration.txt").read_text()
        for app in ("accounts", "catalog", "orders")
    }


def test_max_migration_txt_names_the_new_leaf(tmp_path: Path) -> None:
    """In the crossapp scenario the foreign-key cycle gives 'catalog' two new
    migrations: its file names the second."""
    project = Project.from_scenario("crossapp", tmp_path / "p", "sqlite")
    settings = project.root / "project_settings.py"
    settings.write_text(settings.read_text() + LINEAR)
    project.use_databases(default=project.new_database())
    old = {
        "accounts": "0002_profile\n",
        "catalog": "0003_more_fields\n",
        "orders": "0003_more_fields\n",
    }
    try:
        project.manage("create_max_migration_files")
        assert max_migrations(project) == old
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

        leaves = {
            app: f"{new_migration_names(project, f'{app}/migrations')[-1]}\n"
            for app in old
        }
        assert len(new_migration_names(project, "catalog/migrations")) == 2
        assert max_migrations(project) == leaves
        assert_linear_migrations_content(project)

        # A remake made before this integration left the old name behind.
        catalog = project.root / "catalog/migrations/max_migration.txt"
        catalog.write_text(old["catalog"])
        project.manage("migrate", "--skip-checks")
        before = project.tree_hashes()
        failed = runs.run(
            project, CLEANUP, "--remove-replaced", DJANGO_REMAKE_FAULT="move:3:raise"
        )
        assert failed.returncode == 1, failed
        assert project.tree_hashes() == before

        project.manage(CLEANUP, "--remove-replaced")

        assert max_migrations(project) == leaves
        assert_linear_migrations_content(project)
    finally:
        project.close()


# -- formatters -------------------------------------------------------------------


def tools_on_path(tmp_path: Path, *names: str) -> str:
    """A PATH holding only these executables of the test environment (black and
    ruff are installed beside the interpreter, which is not on PATH)."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    for name in names:
        found = Path(sys.executable).parent / name
        assert found.exists(), f"{name} is not installed (see runtests.py)"
        (folder / name).symlink_to(found)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


def remade_files(project: Project) -> list[str]:
    return [
        f"shop/migrations/{n}.py"
        for n in new_migration_names(project, "shop/migrations")
    ]


def tool(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / args[0]), *args[1:]],
        cwd=project.root,
        capture_output=True,
        text=True,
    )


BLACK_CONFIG = """\
[tool.black]
line-length = 60

[tool.ruff.format]
quote-style = "single"
"""


def test_black_formats_the_new_files_as_makemigrations_does(tmp_path: Path) -> None:
    """black runs with the project's own settings (a line length of 60 here,
    which Django's writer alone never keeps to). ruff is configured too, but
    the [tool.black] table says black formats: ruff's single quotes would
    fail the check."""
    project = shop_project(tmp_path)
    project.write("pyproject.toml", BLACK_CONFIG)
    try:
        project.manage("migrate")
        env = {"PATH": tools_on_path(tmp_path, "black", "ruff")}

        done = runs.run(
            project, "remakemigrations", "--no-input", "--no-verify-schema", **env
        )

        assert done.returncode == 0, done
        files = remade_files(project)
        check = tool(project, "black", "--check", *files)
        assert check.returncode == 0, check.stderr
        # Django's writer alone leaves longer lines (black --check fails then).
        for name in files:
            text = (project.root / name).read_text()
            assert max(len(line) for line in text.splitlines()) <= 60, text
    finally:
        project.close()


RUFF_CONFIG = """\
[tool.ruff]
line-length = 60

[tool.ruff.format]
quote-style = "single"
"""


def test_ruff_formats_the_new_files_when_the_project_configures_it(
    tmp_path: Path,
) -> None:
    """Single quotes: neither Django's writer nor black writes them."""
    project = shop_project(tmp_path)
    project.write("pyproject.toml", RUFF_CONFIG)
    try:
        project.manage("migrate")
        env = {"PATH": tools_on_path(tmp_path, "ruff")}

        done = runs.run(
            project, "remakemigrations", "--no-input", "--no-verify-schema", **env
        )

        assert done.returncode == 0, done
        files = remade_files(project)
        check = tool(project, "ruff", "format", "--check", *files)
        assert check.returncode == 0, check.stdout + check.stderr
        assert "'shop'" in (project.root / files[0]).read_text()
        # Without django-linear-migrations, no max_migration.txt appears.
        assert not (project.root / "shop/migrations/max_migration.txt").exists()
    finally:
        project.close()


# -- clean-up: dependencies on old names, and --prune -----------------------------

BRANCH_MIGRATION = """\
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0005_stock_and_index"),  # written on a branch before the remake
    ]

    operations = []
"""

OLD_SHOP = {
    ("shop", name)
    for name in (
        "0001_initial",
        "0002_item_price",
        "0003_seed_items",
        "0004_tags_and_checks",
        "0005_stock_and_index",
    )
}


SHOP_TESTS = """\
from django.core.management import call_command


def test_migrating_back():
    call_command("migrate", "shop", "0003")
    migrate_to = [("shop", "0004_tags_and_checks")]
    auth_start = ("auth", "0001_initial")  # another app's migration: not listed
    still_valid = ("shop", "0001")  # the first remade migration starts with 0001
"""

FIXTURE = """\
[
  {"app": "shop",
   "name": "0005_stock_and_index"}
]
"""

MENTIONS = (
    "  fixtures/state.json:3: shop.0005_stock_and_index\n"
    "  shop/tests.py:5: shop.0003_seed_items\n"
    "  shop/tests.py:6: shop.0004_tags_and_checks\n"
)


def test_clean_up_retargets_old_names_and_prunes_every_database(
    tmp_path: Path,
) -> None:
    """Also: code outside the migration folders that names old migrations is
    listed after the remake and after the clean-up."""
    project = Project.from_scenario("shop", tmp_path / "p", "sqlite")
    project.use_databases(default=project.new_database(), other=project.new_database())
    project.write("shop/tests.py", SHOP_TESTS)
    project.write("fixtures/state.json", FIXTURE)
    # Not searched: a virtualenv, a hidden folder, a migrations folder elsewhere.
    project.write("env/pyvenv.cfg", "")
    for folder in ("env/lib", ".cache", "docs/migrations"):
        project.write(f"{folder}/old.py", 'NAME = "0005_stock_and_index"\n')
    try:
        project.manage("migrate")
        project.manage("migrate", "--database", "other")
        out = project.manage(
            "remakemigrations", "--no-input", "--no-verify-schema"
        ).stdout
        assert out.endswith(
            "Code outside the migration folders names old migrations; update it "
            f"(the old names stop existing at the clean-up):\n{MENTIONS}"
        ), out
        (leaf,) = new_migration_names(project, "shop/migrations")
        # A migration merged after the remake still names an old migration;
        # while the remade one has `replaces`, Django resolves it.
        branch = project.write("shop/migrations/0002_branch_note.py", BRANCH_MIGRATION)
        for alias in ("default", "other"):
            project.manage("migrate", "--database", alias)
        before = project.tree_hashes()

        dry = project.manage(CLEANUP, "--remove-replaced", "--prune", "--dry-run")

        assert project.tree_hashes() == before
        assert project.applied("default") >= OLD_SHOP
        assert (
            "shop/migrations/0002_branch_note.py: name the remade migrations"
            in dry.stdout
        )
        for alias in ("default", "other"):
            assert (
                f"  python manage.py migrate shop --prune --database {alias}  (5 rows)"
                in dry.stdout
            ), dry.stdout

        # In a terminal, the clean-up asks before pruning: "n" prunes nothing.
        said_no = runs.in_terminal(
            project,
            CLEANUP,
            "--remove-replaced",
            "--prune",
            "--no-color",
            answer="n\n",
            prompt="[y/N] ",
        )
        said_no.stdout = runs.screen(said_no.stdout)

        assert said_no.returncode == 0, said_no
        assert (
            "Run 'migrate APP --prune' for shop on 'default', 'other', removing "
            "10 rows from django_migrations? [y/N] "
        ) in said_no.stdout, said_no.stdout
        assert "Nothing was pruned. To prune later, run:\n" in said_no.stdout
        assert said_no.stdout.endswith(
            "Code outside the migration folders names replaced migrations, which "
            f"no longer exist; update it:\n{MENTIONS}"
        ), said_no.stdout
        assert project.applied("other") >= OLD_SHOP
        assert branch.read_text() == BRANCH_MIGRATION.replace(
            "0005_stock_and_index", leaf
        )
        report = deploy(project)
        assert report["makemigrations"]["code"] == 0, report
        assert "No migrations to apply." in report["migrate"]["out"]

        # Pruning later: nothing is left to clean up, the rows are pruned.
        out = project.manage(CLEANUP, "--prune", "--no-input").stdout

        for alias in ("default", "other"):
            applied = project.applied(alias)
            assert not OLD_SHOP & applied
            assert {("shop", leaf), ("shop", "0002_branch_note")} <= applied
            assert f"Pruned 5 rows of 'shop' on '{alias}'." in out
    finally:
        project.close()
