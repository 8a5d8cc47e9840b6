"""Which apps and databases a remake touches: editable installs, routers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .harness import Project

WIDGET_MIGRATION = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Widget",
            fields=[("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"))],
        ),
    ]
"""


def test_an_editable_install_of_another_project_is_third_party(tmp_path: Path) -> None:
    """Its code sits inside the project directory, but a distribution owns it."""
    project = Project.from_scenario("shop", tmp_path / "p", "sqlite")
    other = project.root / "vendored" / "otherproj"
    project.write("vendored/otherproj/widgets/__init__.py", "")
    project.write(
        "vendored/otherproj/widgets/models.py",
        "from django.db import models\n\n\nclass Widget(models.Model):\n    pass\n",
    )
    project.write("vendored/otherproj/widgets/migrations/__init__.py", "")
    project.write(
        "vendored/otherproj/widgets/migrations/0001_initial.py", WIDGET_MIGRATION
    )
    # The metadata pip writes for `pip install -e vendored/otherproj`.
    dist = project.root / "_site" / "otherproj-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: otherproj\nVersion: 1.0\n"
    )
    (dist / "direct_url.json").write_text(
        json.dumps({"url": other.as_uri(), "dir_info": {"editable": True}})
    )
    settings = project.root / "project_settings.py"
    settings.write_text(
        "import sys\nfrom pathlib import Path\n"
        "_here = Path(__file__).resolve().parent\n"
        "sys.path[:0] = [str(_here / '_site'), str(_here / 'vendored' / 'otherproj')]\n"
        + settings.read_text().replace('"shop",', '"shop", "widgets",')
    )
    project.use_databases(default=project.new_database())
    try:
        project.manage("migrate")
        before = (other / "widgets/migrations/0001_initial.py").read_bytes()

        project.manage("remakemigrations", "--no-input")

        assert project.migration_files("vendored/otherproj/widgets/migrations") == [
            "0001_initial.py"
        ]
        assert (other / "widgets/migrations/0001_initial.py").read_bytes() == before
        assert all("_remaked_" in n for n in project.migration_files("shop/migrations"))
    finally:
        project.close()


def test_a_database_routers_keep_apps_off_is_not_checked(tmp_path: Path) -> None:
    project = Project.from_scenario("shop", tmp_path / "p", "sqlite")
    project.write(
        "routers.py",
        """\
        class OnlyDefault:
            def allow_migrate(self, db, app_label, **hints):
                return db == "default"
        """,
    )
    settings = project.root / "project_settings.py"
    settings.write_text(
        settings.read_text() + '\nDATABASE_ROUTERS = ["routers.OnlyDefault"]\n'
    )
    main, replica = project.new_database(), project.new_database()
    project.use_databases(default=main, replica=replica)
    try:
        project.manage("migrate")  # default only; replica never gets a history
        out = project.manage("remakemigrations", "--no-input").stdout
        assert out.endswith(
            "migrate has nothing to apply on 'default'; the old and the new history "
            "build the same database on 'default'.\n"
        ), out
    finally:
        project.close()


CYCLE = (
    "but it and the remade apps depend on each other: remade models point at its "
    "models (catalog.Product.promotion -> orders.Promotion), and its migrations "
    "depend on migrations that the remake replaces (orders.0001_initial -> "
    "catalog.0001_initial). No new history can order the two. To remake 'orders' "
    "too, "
)


def test_excluding_an_app_the_remade_apps_need_is_explained(tmp_path: Path) -> None:
    project = Project.from_scenario("crossapp", tmp_path / "p", "sqlite")
    settings = project.root / "project_settings.py"
    settings.write_text(
        settings.read_text() + 'REMAKE_MIGRATIONS_EXCLUDE_APPS = ["orders"]\n'
    )
    project.use_databases(default=project.new_database())
    try:
        project.manage("migrate")
        before = project.tree_hashes()

        result = project.manage("remakemigrations", "--no-input", ok=False)

        assert project.tree_hashes() == before
        assert result.stderr == (
            "CommandError: App 'orders' is not remade (it is listed in "
            f"REMAKE_MIGRATIONS_EXCLUDE_APPS), {CYCLE}remove 'orders' from "
            "REMAKE_MIGRATIONS_EXCLUDE_APPS.\n"
        )
    finally:
        project.close()


def test_running_from_a_subfolder_without_base_dir_is_explained(
    tmp_path: Path,
) -> None:
    """Without BASE_DIR the project directory is the current one: from a
    subfolder, only some apps look first-party."""
    project = Project.from_scenario("crossapp", tmp_path / "p", "sqlite")
    settings = project.root / "settings.py"
    settings.write_text(
        settings.read_text()
        .replace(
            "BASE_DIR = Path(__file__).resolve().parent",
            "_HERE = Path(__file__).resolve().parent",
        )
        .replace('(BASE_DIR / "databases.json")', '(_HERE / "databases.json")')
    )
    project.use_databases(default=project.new_database())
    try:
        project.manage("migrate")
        before = project.tree_hashes()

        result = project.manage(
            "remakemigrations", "--no-input", ok=False, cwd=project.root / "catalog"
        )

        assert project.tree_hashes() == before
        orders = (project.root / "orders").resolve()
        catalog = (project.root / "catalog").resolve()
        assert result.stderr == (
            f"CommandError: App 'orders' is not remade (its code ({orders}) is "
            f"outside {catalog} (the folder the command ran in; settings.BASE_DIR "
            f"is not set)), {CYCLE}run the command from the project's root folder, "
            "set BASE_DIR in the settings, or list the apps to remake in "
            "REMAKE_MIGRATIONS_INCLUDE_APPS.\n"
        )
    finally:
        project.close()


def _beside_the_settings(tmp_path: Path, marker: str | None) -> Project:
    """A repository whose app lives beside the project directory, not under it:

    repo/pyproject.toml (or .git, or nothing)
    repo/web/settings.py      BASE_DIR = repo/web
    repo/shop/                the app, on sys.path
    """
    repo = tmp_path / "repo"
    project = Project.from_scenario("shop", repo / "web", "sqlite")
    shutil.move(project.root / "shop", repo / "shop")
    if marker == ".git":
        (repo / ".git").mkdir()
    elif marker:
        (repo / marker).write_text('[project]\nname = "repo"\n')
    settings = project.root / "project_settings.py"
    settings.write_text(
        "import sys\nfrom pathlib import Path\n"
        "sys.path.insert(0, str(Path(__file__).resolve().parent.parent))\n"
        + settings.read_text()
    )
    # --skip-db-check in the tests: the apps found are what counts, not the database.
    project.use_databases(default=project.new_database())
    return project


@pytest.mark.parametrize("marker", ["pyproject.toml", ".git"])
def test_apps_beside_the_project_directory_are_found_in_the_repository(
    tmp_path: Path, marker: str
) -> None:
    project = _beside_the_settings(tmp_path, marker)
    try:
        out = project.manage("remakemigrations", "--dry-run", "--skip-db-check").stdout
        assert "  shop: 5 migrations -> 1\n" in out, out
    finally:
        project.close()


def test_the_folders_searched_are_named_when_no_app_is_found(tmp_path: Path) -> None:
    project = _beside_the_settings(tmp_path, None)
    try:
        result = project.manage(
            "remakemigrations", "--dry-run", "--skip-db-check", ok=False
        )
        assert result.stderr == (
            "CommandError: No first-party app with migrations was found under "
            f"{project.root.resolve()} (settings.BASE_DIR). Set "
            "REMAKE_MIGRATIONS_INCLUDE_APPS to the app labels to remake.\n"
        )
        (tmp_path / "repo" / "pyproject.toml").write_text("")
        result = project.manage("remakemigrations", "--dry-run", "--skip-db-check")
        assert "  shop: 5 migrations -> 1\n" in result.stdout
        settings = project.root / "project_settings.py"
        settings.write_text(
            settings.read_text() + 'REMAKE_MIGRATIONS_EXCLUDE_APPS = ["shop"]\n'
        )
        result = project.manage(
            "remakemigrations", "--dry-run", "--skip-db-check", ok=False
        )
        assert (
            f"found under {project.root.resolve()} (settings.BASE_DIR) and "
            f"{(tmp_path / 'repo').resolve()} (the repository root). Set"
        ) in result.stderr
    finally:
        project.close()
