from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .backends import enabled_backends
from .harness import Project


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each test that takes ``backend`` once per enabled backend.

    Tests marked ``slow`` (a database per state of a history) use
    ``REMAKE_TEST_SLOW_BACKENDS`` instead when it is set, so that CI can run the
    whole matrix on one Django version and SQLite on the other within its time.
    """
    if "backend" not in metafunc.fixturenames:
        return
    backends = enabled_backends()
    narrowed = os.environ.get("REMAKE_TEST_SLOW_BACKENDS")
    if narrowed and metafunc.definition.get_closest_marker("slow"):
        backends = [b for b in backends if b in narrowed.split(",")]
    metafunc.parametrize("backend", backends)


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
