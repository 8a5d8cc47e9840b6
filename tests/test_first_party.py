"""Which apps and databases a remake touches: editable installs, routers."""

from __future__ import annotations

import json
from pathlib import Path

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
        assert out.endswith("migrate has nothing to apply on 'default'.\n"), out
    finally:
        project.close()
