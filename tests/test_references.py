"""Migrations the remake leaves alone that name migrations it replaces.

An app left out of the remake (``REMAKE_MIGRATIONS_EXCLUDE_APPS``) may depend
on an old migration of a remade app. While the remade files keep ``replaces``
Django copes, but after ``delete_remaked_migrations`` the name points nowhere:
the remake rewrites such names, and refuses when the file belongs to an
installed package.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from .harness import Project, new_migration_names

MakeProject = Callable[[str], Project]

REPORTS_MODELS = """\
from django.db import models


class Report(models.Model):
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE)
    title = models.CharField(max_length=50)
"""

REPORTS_0001 = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("catalog", "0002_product_promotion"),  # the product's promotion, for reports
    ]

    operations = [
        migrations.CreateModel(
            name="Report",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("title", models.CharField(max_length=50)),
                ("product", models.ForeignKey(on_delete=models.deletion.CASCADE, to="catalog.product")),
            ],
        ),
    ]
"""


def with_reports_app(project: Project) -> None:
    """Add an app that depends on an old catalog migration and is left out."""
    project.write("reports/__init__.py", "")
    project.write("reports/models.py", REPORTS_MODELS)
    project.write("reports/migrations/__init__.py", "")
    project.write("reports/migrations/0001_initial.py", REPORTS_0001)
    settings = project.root / "project_settings.py"
    text = settings.read_text().replace('"orders", ', '"orders", "reports", ')
    settings.write_text(text + 'REMAKE_MIGRATIONS_EXCLUDE_APPS = ["reports"]\n')


def test_an_excluded_app_is_pointed_at_the_new_migrations(
    make_project: MakeProject,
) -> None:
    project = make_project("crossapp")
    with_reports_app(project)
    project.manage("migrate")

    out = project.manage("remakemigrations", "--no-input").stdout

    (leaf,) = [n for n in new_migration_names(project, "catalog/migrations")][-1:]
    expected = REPORTS_0001.replace('"0002_product_promotion"', f'"{leaf}"')
    assert (project.root / "reports/migrations/0001_initial.py").read_text() == expected
    assert (
        "Migrations of apps that are not remade will name the new migrations "
        "instead of the old ones:\n"
        f"  reports.0001_initial: catalog.0002_product_promotion -> catalog.{leaf}\n"
    ) in out
    assert "No migrations to apply." in project.manage("migrate").stdout

    # The point of the rewrite: after the clean-up the history still loads.
    project.manage("delete_remaked_migrations", "--remove-replaced")
    assert "No migrations to apply." in project.manage("migrate").stdout
    fresh = project.new_database()
    project.use_databases(default=fresh)
    applied = project.manage("migrate").stdout
    assert re.search(
        rf"Applying catalog\.{leaf}\.\.\. OK.*Applying reports\.0001_initial",
        applied,
        re.S,
    )


def test_with_old_files_kept_nothing_is_rewritten(make_project: MakeProject) -> None:
    project = make_project("crossapp")
    with_reports_app(project)
    project.manage("migrate")
    before = (project.root / "reports/migrations/0001_initial.py").read_bytes()

    out = project.manage(
        "remakemigrations", "--no-input", "--keep-old-migrations"
    ).stdout

    assert (project.root / "reports/migrations/0001_initial.py").read_bytes() == before
    assert "will name the new migrations" not in out
    assert "No migrations to apply." in project.manage("migrate").stdout


VENDOR_PLUGIN_0001 = """\
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("blog", "0002_widget")]
    operations = []
"""


def test_an_installed_package_naming_an_old_migration_is_refused(
    make_project: MakeProject,
) -> None:
    project = make_project("thirdparty")
    plugin = project.external / "vendorplugin"
    (plugin / "migrations").mkdir(parents=True)
    (plugin / "__init__.py").write_text("")
    (plugin / "migrations" / "__init__.py").write_text("")
    (plugin / "migrations" / "0001_initial.py").write_text(VENDOR_PLUGIN_0001)
    # Installed as `pip install -e` installs it: a distribution owns the code.
    dist = project.external / "vendorplugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: vendorplugin\n")
    (dist / "direct_url.json").write_text(
        json.dumps({"url": plugin.as_uri(), "dir_info": {"editable": True}})
    )
    settings = project.root / "project_settings.py"
    settings.write_text(
        settings.read_text().replace('"blog", ', '"blog", "vendorplugin", ')
    )
    project.manage("migrate")
    before = project.tree_hashes()

    result = project.manage("remakemigrations", "--no-input", ok=False)

    assert project.tree_hashes() == before
    assert "Traceback" not in result.stderr
    path = (plugin / "migrations" / "0001_initial.py").resolve()
    assert result.stderr == (
        "CommandError: Migrations of installed packages name migrations that the "
        "remake would replace; once the old files are gone those names point "
        "nowhere, and django-remake does not edit installed packages:\n"
        f"  vendorplugin.0001_initial depends on blog.0002_widget ({path})\n"
        "Leave 'blog' out of the remake (REMAKE_MIGRATIONS_EXCLUDE_APPS), or have "
        "the package depend on ('app', '__first__') instead.\n"
    )
