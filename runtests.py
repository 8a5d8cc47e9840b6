#!/usr/bin/env python3
"""Run django-remake's test suite from a fresh clone, with nothing but Python 3.

    python3 runtests.py [--django 5.2] [--django 6.1] [--backends sqlite,postgresql,mariadb] [pytest args]

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
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENVS = ROOT / ".venv"
SUPPORTED = ("5.2", "6.0", "6.1")
TEST_DEPS = [
    "pytest>=8",
    "pytest-xdist>=3",
    "pytest-randomly>=3.15",
    # tests/test_integrations.py: the tools a project uses beside django-remake
    "django-linear-migrations>=2.16",
    "black>=24",
    "ruff>=0.5",
]
DRIVERS = {"postgresql": ["psycopg[binary]>=3.1"], "mariadb": ["mysqlclient>=2.2.1"]}


def python_version(python: str) -> tuple[int, int]:
    out = subprocess.run(
        [python, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return int(out[0]), int(out[1])


def find_python(minimum: tuple[int, int]) -> str | None:
    """This interpreter if it is new enough, else the newest suitable one found."""
    if sys.version_info[:2] >= minimum:
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


def prepare(django: str, backends: list[str]) -> Path:
    minimum = (3, 12) if django.startswith("6.") else (3, 10)
    python = find_python(minimum)
    if python is None:
        sys.exit(
            f"Django {django} needs Python {minimum[0]}.{minimum[1]}+, and none was found."
        )
    venv = VENVS / f"django-{django}"
    venv_python = venv / "bin" / "python"
    if venv_python.exists() and python_version(str(venv_python)) < minimum:
        shutil.rmtree(venv)
    if not venv_python.exists():
        run(python, "-m", "venv", venv)
    deps = [f"django~={django}.0", *TEST_DEPS]
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
    args, pytest_args = parser.parse_known_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    versions = args.django or ["6.1" if find_python((3, 12)) else "5.2"]
    env = {**os.environ, "REMAKE_TEST_BACKENDS": ",".join(backends)}
    failed = []
    for django in versions:
        venv_python = prepare(django, backends)
        print(f"\n=== Django {django}, backends: {', '.join(backends)} ===", flush=True)
        # src/ is not on sys.path here, so the tests import the installed wheel.
        result = subprocess.run(
            [str(venv_python), "-m", "pytest", "-n", "auto", "--dist", "worksteal", "-p", "no:cacheprovider", *pytest_args, str(ROOT / "tests")],
            env=env, cwd=ROOT,
        )  # fmt: skip
        if result.returncode != 0:
            failed.append(django)
    if failed:
        print(f"\nFAILED on Django {', '.join(failed)}")
        return 1
    print(f"\nAll tests passed on Django {', '.join(versions)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
