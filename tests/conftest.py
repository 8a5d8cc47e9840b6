from __future__ import annotations

import os
import re
import shutil
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .backends import enabled_backends
from .harness import Project


def pytest_configure(config: pytest.Config) -> None:
    """Let SIGINT interrupt again, however the suite was started.

    A shell without job control starts background commands with SIGINT
    ignored, and the disposition is inherited: Python then installs no
    ``KeyboardInterrupt`` handler, in this process or in the children the
    tests start, and the tests that stop a run with SIGINT (Ctrl-C) would see
    it carry on. A handler (unlike an ignored signal) is reset to the default
    at ``exec``, so the children get Python's own again.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


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


MakeProject = Callable[[str], Project]


@pytest.fixture
def sqlite_project(tmp_path: Path) -> MakeProject:
    """Like ``make_project``, on SQLite only: for cases no backend changes."""

    def make(scenario: str) -> Project:
        project = Project.from_scenario(scenario, tmp_path / scenario, "sqlite")
        project.use_databases(default=project.new_database())
        return project

    return make


@pytest.fixture(scope="session")
def migrated_database(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str], Path]:
    """An SQLite file that ``migrate`` built once per scenario, to copy from.

    Migrating costs a subprocess; most cases here only need *a* fully migrated
    database, so each gets a byte-for-byte copy of one that Django migrated.
    """
    built: dict[str, Path] = {}

    def get(scenario: str) -> Path:
        if scenario not in built:
            root = tmp_path_factory.mktemp(f"migrated_{scenario}")
            project = Project.from_scenario(scenario, root / scenario, "sqlite")
            project.use_databases(default=project.new_database())
            project.manage("migrate")
            built[scenario] = Path(project.databases[0].settings["NAME"])
        return built[scenario]

    return get


@pytest.fixture
def migrated(
    sqlite_project: MakeProject, migrated_database: Callable[[str], Path]
) -> MakeProject:
    """A project on SQLite whose database has applied every migration."""

    def make(scenario: str) -> Project:
        project = sqlite_project(scenario)
        shutil.copyfile(
            migrated_database(scenario), project.databases[0].settings["NAME"]
        )
        return project

    return make


@pytest.fixture
def migrated_shop(migrated: MakeProject) -> Project:
    return migrated("shop")


REMAKED = re.compile(r"^\d{4}_remaked_\d{8}(_\d+)?\.py$")
