from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .backends import enabled_backends
from .harness import Project


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", enabled_backends())


@pytest.fixture
def make_project(tmp_path: Path, backend: str) -> Iterator[Callable[[str], Project]]:
    """Build a throwaway project from a scenario in ``tests/scenarios``.

    Every project starts with one empty database as ``default``; the databases
    are dropped when the test ends.
    """
    made: list[Project] = []

    def make(scenario: str) -> Project:
        project = Project.from_scenario(
            scenario, tmp_path / f"{scenario}{len(made)}", backend
        )
        made.append(project)
        project.use_databases(default=project.new_database())
        return project

    yield make
    for project in made:
        project.close()


REMAKED = re.compile(r"^\d{4}_remaked_\d{8}(_\d+)?\.py$")
