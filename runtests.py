#!/usr/bin/env python3
"""Run django-remake's test suite from a fresh clone, with nothing but Python 3.

    python3 runtests.py [--django 5.2] [--django 6.1] [--python 3.10] [--backends sqlite,postgresql,mariadb] [pytest args] [test files]

For each Django version it makes a virtualenv under ``.venv/``, installs the
package from a wheel built from this checkout (not the source tree, so
packaging mistakes show up), plus pytest, the database drivers the chosen
backends need and the tools tests/test_integrations.py works with
(django-linear-migrations, black, ruff; none is put on PATH, so other tests
run as if they were not installed), and runs the suite there. Django 6.x needs Python 3.12 or newer:
when this interpreter is older, a newer one is looked for on PATH and in pyenv.

Defaults: the newest Django this machine's Pythons support, SQLite only.
PostgreSQL and MariaDB are used when named in --backends (see README for the
connection variables); a named server that cannot be reached fails the run.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENVS = ROOT / ".venv"


def classifier_versions(framework: str) -> tuple[str, ...]:
    """Versions named in pyproject's classifiers, where they are stated once:
    ``classifier_versions("Python")`` -> ("3.10", ...), ``("Django")`` -> ("5.2", ...)."""
    prefix = (
        "Programming Language :: Python"
        if framework == "Python"
        else "Framework :: Django"
    )
    text = (ROOT / "pyproject.toml").read_text()
    return tuple(re.findall(rf'"{prefix} :: (\d+\.\d+)"', text))


SUPPORTED = classifier_versions("Django")
PYTHONS = classifier_versions("Python")
PYPROJECT = ROOT / "pyproject.toml"
DRIVERS = {"postgresql": ["psycopg[binary]>=3.1"], "mariadb": ["mysqlclient>=2.2.1"]}


def python_version(python: str) -> tuple[int, int]:
    out = subprocess.run(
        [python, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return int(out[0]), int(out[1])


def find_python(minimum: tuple[int, int], exact: bool = False) -> str | None:
    """This interpreter if it is new enough, else the newest suitable one found;
    with ``exact``, an interpreter of version ``minimum`` and no other."""
    if sys.version_info[:2] == minimum or (
        not exact and sys.version_info[:2] > minimum
    ):
        return sys.executable
    candidates = [
        shutil.which(f"python3.{minor}") for minor in range(20, minimum[1] - 1, -1)
    ]
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates += sorted(
        glob.glob(f"{pyenv_root}/versions/3.*/bin/python"), reverse=True
    )
    best: tuple[tuple[int, int], str] | None = None
    for candidate in filter(None, candidates):
        try:
            version = python_version(candidate)
        except (OSError, subprocess.CalledProcessError):
            continue
        if exact and version != minimum:
            continue
        if version >= minimum and (best is None or version > best[0]):
            best = (version, candidate)
    return best[1] if best else None


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, env=env)


def build_wheel(python: str, out: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        # Build from a copy so no build/ or egg-info folders land in the checkout.
        src = Path(tmp) / "src"
        shutil.copytree(
            ROOT, src,
            ignore=shutil.ignore_patterns(".git", ".venv", ".demo", "build", "dist", "*.egg-info", "__pycache__"),
        )  # fmt: skip
        run(python, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", out, src)
    (wheel,) = out.glob("django_remake-*.whl")
    return wheel


def prepare(
    django: str, backends: list[str], wanted: tuple[int, int] | None = None
) -> Path:
    """The virtualenv of ``django`` (on Python ``wanted`` if given), up to date."""
    minimum = (3, 12) if django.startswith("6.") else (3, 10)
    if wanted is not None and wanted < minimum:
        sys.exit(f"Django {django} needs Python {minimum[0]}.{minimum[1]}+.")
    python = find_python(wanted or minimum, exact=wanted is not None)
    if python is None:
        major, minor = wanted or minimum
        needed = f"{major}.{minor}" + ("" if wanted else "+")
        sys.exit(f"Django {django} needs Python {needed}, and none was found.")
    venv = VENVS / f"django-{django}"
    venv_python = venv / "bin" / "python"
    if venv_python.exists():
        have = python_version(str(venv_python))
        if have < minimum or (wanted is not None and have != wanted):
            shutil.rmtree(venv)
    if not venv_python.exists():
        run(python, "-m", "venv", venv)
    # The test dependencies are pyproject's "test" group (pip >= 25.1 reads it).
    deps = [f"django~={django}.0", "--group", f"{PYPROJECT}:test"]
    for backend in backends:
        deps += DRIVERS.get(backend, [])
    run(venv_python, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(venv_python, "-m", "pip", "install", "--quiet", *deps)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = build_wheel(str(venv_python), Path(tmp))
        run(
            venv_python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--force-reinstall",
            "--no-deps",
            wheel,
        )
    return venv_python


def lint_steps(site_dir: str | None = None) -> list[tuple[str, list[str]]]:
    """The checks of ``--lint`` (also nox's lint session and pre-commit's hooks):
    lint, format, types (``mypy --strict``, files and scope in pyproject), docs."""
    site = site_dir or str(Path(tempfile.gettempdir()) / "django-remake-site")
    return [
        ("ruff check", ["ruff", "check", "."]),
        ("ruff format --check", ["ruff", "format", "--check", "."]),
        ("mypy --strict", ["mypy"]),
        ("mkdocs build --strict", ["mkdocs", "build", "--strict", "--quiet", "--site-dir", site]),
    ]  # fmt: skip


def lint() -> int:
    """Run every check in a virtualenv with the "lint" group; report each one."""
    django = SUPPORTED[-1]
    python = find_python((3, 12))
    if python is None:
        sys.exit("The checks need Python 3.12+ (Django 6.x), and none was found.")
    venv = VENVS / "lint"
    if not (venv / "bin" / "python").exists():
        run(python, "-m", "venv", venv)
    venv_python = venv / "bin" / "python"
    run(venv_python, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(venv_python, "-m", "pip", "install", "--quiet", f"django~={django}.0",
        "--group", f"{PYPROJECT}:lint")  # fmt: skip
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    failed = []
    with tempfile.TemporaryDirectory() as site:
        for name, command in lint_steps(site):
            print(f"\n=== {name} ===", flush=True)
            if subprocess.run(command, cwd=ROOT, env=env).returncode != 0:
                failed.append(name)
    if failed:
        print(f"\nFAILED: {', '.join(failed)}")
        return 1
    print("\nAll checks passed: " + ", ".join(name for name, _ in lint_steps()) + ".")
    return 0


def coverage_report(venv_python: Path, data: Path) -> None:
    """Combine the data of every process (subprocesses too) and print the report."""
    config = f"--rcfile={PYPROJECT}"
    file = f"--data-file={data / '.coverage'}"
    run(venv_python, "-m", "coverage", "combine", "--quiet", config, file, data)
    print(
        "\n=== Branch coverage of src/django_remake (files below 100%) ===", flush=True
    )
    subprocess.run(
        [str(venv_python), "-m", "coverage", "report", config, file, "--sort=cover"],
        cwd=ROOT,
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--django",
        action="append",
        choices=SUPPORTED,
        help="Django version to test (repeatable).",
    )
    parser.add_argument("--backends", default=os.environ.get("REMAKE_TEST_BACKENDS", "sqlite"),
                        help="Comma-separated: sqlite, postgresql, mariadb (default: sqlite).")  # fmt: skip
    parser.add_argument("--python", metavar="X.Y",
                        help="Run on this Python (default: this one, or the newest that Django needs).")  # fmt: skip
    parser.add_argument("--lint", action="store_true",
                        help="Run ruff, ruff format --check, mypy --strict and the docs build instead of the tests.")  # fmt: skip
    parser.add_argument("--coverage", action="store_true",
                        help="Measure branch coverage (child processes included) and print the report.")  # fmt: skip
    args, pytest_args = parser.parse_known_args()
    if args.lint:
        return lint()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    wanted = None
    if args.python:
        if not re.fullmatch(r"3\.\d+", args.python):
            parser.error(f"--python takes a version such as 3.10, not {args.python!r}")
        wanted = (3, int(args.python.split(".")[1]))
    versions = args.django or ["6.1" if find_python((3, 12)) else "5.2"]
    env = {**os.environ, "REMAKE_TEST_BACKENDS": ",".join(backends)}
    failed = []
    for django in versions:
        venv_python = prepare(django, backends, wanted)
        print(f"\n=== Django {django}, backends: {', '.join(backends)} ===", flush=True)
        # src/ is not on sys.path here, so the tests import the installed wheel.
        # The whole suite, unless test files or folders are named.
        named = any(not a.startswith("-") and (ROOT / a).exists() for a in pytest_args)
        suite = [] if named else [str(ROOT / "tests")]
        pytest = [str(venv_python), "-m", "pytest", "-n", "auto", "--dist", "worksteal", "-p", "no:cacheprovider", *pytest_args, *suite]  # fmt: skip
        data = VENVS / f"coverage-{django}"
        if args.coverage:
            # Every process writes its own file there: pyproject's
            # [tool.coverage.run] patch = ["subprocess"] follows child processes.
            shutil.rmtree(data, ignore_errors=True)
            data.mkdir(parents=True)
            env["COVERAGE_FILE"] = str(data / ".coverage")
            pytest[1:3] = [
                "-m",
                "coverage",
                "run",
                f"--rcfile={PYPROJECT}",
                "-m",
                "pytest",
            ]
        result = subprocess.run(pytest, env=env, cwd=ROOT)
        if args.coverage:
            coverage_report(venv_python, data)
        if result.returncode != 0:
            failed.append(django)
    if failed:
        print(f"\nFAILED on Django {', '.join(failed)}")
        return 1
    print(f"\nAll tests passed on Django {', '.join(versions)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
