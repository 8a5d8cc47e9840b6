"""The cheap "same models" answer never hides a change Django's autodetector sees.

``django_remake.samestate.same_models`` lets the remake skip the autodetector
(before it writes, and in the verification child) when the history's model
states equal the models'. On every scenario, before and after a remake and
with a model edited, its answer is compared with the autodetector's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .benchmark_projects import ROOT, generated_project
from .conftest import MakeProject
from .harness import Project

VERDICTS = """
import json
from django.apps import apps
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.questioner import MigrationQuestioner
from django.db.migrations.state import ProjectState
from django_remake.samestate import same_models

loader = MigrationLoader(None, ignore_no_migrations=True)
history, models = loader.project_state(), ProjectState.from_apps(apps)
changes = MigrationAutodetector(history, models, MigrationQuestioner(dry_run=True)).changes(
    graph=loader.graph
)
print(json.dumps({"same": same_models(history, models), "changes": sorted(changes)}))
"""

SCENARIOS = [
    "carry",
    "crossapp",
    "hist_grown",
    "hist_merge",
    "hist_threecycle",
    "migration_modules",
    "pair",
    "seeds",
    "shop",
    "squashed",
    "thirdparty",
]


def verdicts(project: Project) -> dict[str, object]:
    answer: dict[str, object] = json.loads(project.python(VERDICTS))
    return answer


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_same_models_agrees_with_the_autodetector(
    sqlite_project: MakeProject, scenario: str
) -> None:
    project = sqlite_project(scenario)
    # Every scenario's history is in step with its models: the cheap answer
    # must see it (custom user models, indexes and constraints in any order).
    assert verdicts(project) == {"same": True, "changes": []}

    project.manage("migrate")
    project.manage("remakemigrations", "--no-input", "--no-verify-schema")
    assert verdicts(project) == {"same": True, "changes": []}


def test_a_model_change_is_left_to_the_autodetector(
    sqlite_project: MakeProject,
) -> None:
    project = sqlite_project("shop")
    models = project.root / "shop" / "models.py"
    text = models.read_text()
    for old, new in [
        ("max_length=80", "max_length=81"),
        ('name="item_name_price"', 'name="item_name_price2"'),
        ("db_index=True", "db_index=False"),
    ]:
        models.write_text(text.replace(old, new, 1))
        assert verdicts(project) == {"same": False, "changes": ["shop"]}, new


def test_same_models_on_the_demo_and_a_benchmark_project(tmp_path: Path) -> None:
    """Where the shortcut pays: the speed benchmark's projects (histories
    written by makemigrations, with renames, alters and removals) and the
    demo; before and after a remake."""
    sources = [
        (ROOT / "examples" / "demo", "demo_project.settings"),
        (generated_project("small", tmp_path / "cache"), "bench_project.settings"),
    ]
    for number, (source, settings) in enumerate(sources):
        project = Project.from_django_project(
            source, settings, tmp_path / f"project{number}", "sqlite"
        )
        project.use_databases(default=project.new_database())
        assert verdicts(project) == {"same": True, "changes": []}, source
        project.manage("migrate")
        project.manage("remakemigrations", "--no-input", "--no-verify-schema")
        assert verdicts(project) == {"same": True, "changes": []}, source
