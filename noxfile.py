"""The version matrix, runnable locally: ``nox`` (every combination), or
``nox -s "tests(3.13-django6.1)"`` for one; ``nox -l`` lists them.

The versions come from pyproject's classifiers through runtests.py, where they
are stated once. Django 6.x needs Python 3.12 or newer, so those pairs are left
out. Backends: ``REMAKE_TEST_BACKENDS`` (default sqlite), as for runtests.py;
pytest arguments go after ``--``: ``nox -- -k cycle -x``. nox finds each Python
as ``python3.X`` on PATH; pyenv's installed versions are put on PATH first, so
they are found even when pyenv's global version is another one.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).resolve().parent))
from runtests import DRIVERS, PYTHONS, SUPPORTED, build_wheel, lint_steps  # noqa: E402

nox.options.default_venv_backend = "venv"

_pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
os.environ["PATH"] = os.pathsep.join(
    [
        *map(str, sorted(_pyenv.glob("versions/3.*/bin"), reverse=True)),
        os.environ["PATH"],
    ]
)
nox.options.sessions = ["tests", "lint"]

PYPROJECT = str(Path(__file__).resolve().parent / "pyproject.toml")


def _pairs() -> list[tuple[str, str]]:
    return [
        (python, django)
        for python in PYTHONS
        for django in SUPPORTED
        if not (
            django.startswith("6.") and tuple(map(int, python.split("."))) < (3, 12)
        )
    ]


@nox.session
@nox.parametrize(
    "python,django", [nox.param(p, d, id=f"{p}-django{d}") for p, d in _pairs()]
)
def tests(session: nox.Session, django: str) -> None:
    """The suite on one Python x Django pair, from the built package (not src/)."""
    backends = os.environ.get("REMAKE_TEST_BACKENDS", "sqlite").split(",")
    drivers = [dep for backend in backends for dep in DRIVERS.get(backend, [])]
    session.install("--upgrade", "pip")
    session.install(f"django~={django}.0", "--group", f"{PYPROJECT}:test", *drivers)
    # Like runtests.py: a wheel built from a copy, so nothing lands in the checkout.
    python = Path(str(session.virtualenv.location)) / "bin" / "python"
    with tempfile.TemporaryDirectory() as tmp:
        session.install("--no-deps", str(build_wheel(str(python), Path(tmp))))
    session.run(
        "python", "-m", "pytest", "-n", "auto", "--dist", "worksteal",
        "-p", "no:cacheprovider", *session.posargs, "tests",
        env={"REMAKE_TEST_BACKENDS": ",".join(backends)},
    )  # fmt: skip


@nox.session(python=PYTHONS[-1])
def lint(session: nox.Session) -> None:
    """ruff, ruff format --check, mypy --strict and the docs build."""
    session.install("--upgrade", "pip")
    session.install(f"django~={SUPPORTED[-1]}.0", "--group", f"{PYPROJECT}:lint")
    for _name, command in lint_steps():
        session.run(*command)
