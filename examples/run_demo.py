#!/usr/bin/env python3
"""Show ``remakemigrations`` on the demo project in ``examples/demo``.

Usage: ``python3 examples/run_demo.py [--keep]``

The script creates (or reuses) a virtualenv in ``<repo>/.demo/venv``, installs
this repository (which brings Django) into it, copies the demo project to a
temporary directory and, there, migrates a database with the project's long
migration history, replaces that history with ``remakemigrations``, and checks
that the old database needs nothing and that a fresh database builds from the
new history.  Only the standard library is used.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "examples" / "demo"
VENV = REPO / ".demo" / "venv"
APPS = ("accounts", "catalog", "orders", "shipping", "reviews", "blog")
# Left out of the copies (of the repository for pip, and of the demo project).
SKIP = shutil.ignore_patterns(
    ".git", ".demo", "examples", "build", "dist", "*.egg-info", "__pycache__",
    ".*_cache", "*.sqlite3",
)  # fmt: skip


class StepFailed(Exception):
    """A step of the demo did not do what it should."""


def banner(text: str) -> None:
    print(f"\n{'=' * 72}\n{text}\n{'=' * 72}", flush=True)


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def prepare_venv(workdir: Path) -> Path:
    """Create the virtualenv if needed and install the repository into it."""
    python = venv_python()
    if not python.exists():
        banner(f"Creating a virtualenv in {VENV}")
        try:
            venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        except (OSError, subprocess.SubprocessError) as exc:
            shutil.rmtree(VENV, ignore_errors=True)
            hint = "on Debian/Ubuntu: apt install python3-venv"
            raise StepFailed(f"could not create a virtualenv ({hint}): {exc}") from exc
    # Install from a copy so the build leaves no egg-info/build dirs in the repo.
    source = workdir / "django-remake"
    shutil.copytree(REPO, source, ignore=SKIP)
    banner(f"Installing django-remake (and Django) from {REPO}")
    cmd = [str(python), "-m", "pip", "install", "--quiet", "--upgrade", str(source)]
    print("$ python " + " ".join(cmd[1:]), flush=True)
    if subprocess.run(cmd).returncode != 0:
        raise StepFailed("pip could not install the repository (see its output)")
    return python


def manage(python: Path, project: Path, db: Path, *args: str) -> str:
    """Run ``manage.py`` in the demo copy, print its output and return it."""
    env = {**os.environ, "DEMO_DATABASE_PATH": str(db), "PYTHONDONTWRITEBYTECODE": "1"}
    for name in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH"):
        env.pop(name, None)
    shown = shlex.join(args)
    print(f"\n$ DEMO_DATABASE_PATH={db.name} python manage.py {shown}", flush=True)
    result = subprocess.run(
        [str(python), "manage.py", *args],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    print(textwrap.indent(result.stdout.rstrip() or "(no output)", "    "), flush=True)
    if result.returncode != 0:
        raise StepFailed(f"`manage.py {shown}` exited with status {result.returncode}")
    return result.stdout


def migration_files(project: Path) -> list[Path]:
    return sorted(
        path
        for app in APPS
        for path in (project / app / "migrations").glob("*.py")
        if path.name != "__init__.py"
    )


def demo(workdir: Path) -> None:
    python = prepare_venv(workdir)
    project = workdir / "demo"
    shutil.copytree(DEMO, project, ignore=SKIP)
    old_db, fresh_db = workdir / "old-history.sqlite3", workdir / "fresh.sqlite3"

    before = len(migration_files(project))
    banner(f"1. Migrate a database with the old history ({before} migrations)")
    if before == 0:
        raise StepFailed(f"no migration files found under {DEMO}")
    manage(python, project, old_db, "migrate")

    banner("2. Replace the history: remakemigrations")
    manage(python, project, old_db, "remakemigrations", "--no-input")
    after_files = migration_files(project)
    print("\nNew migration files:")
    print("\n".join(f"    {path.relative_to(project)}" for path in after_files))
    if not after_files:
        raise StepFailed("remakemigrations left no migration files")

    banner("3. The old database needs nothing from the new history")
    out = manage(python, project, old_db, "migrate")
    if "No migrations to apply." not in out:
        raise StepFailed(
            "`migrate` on the old database applied or wanted something; "
            "expected 'No migrations to apply.'"
        )

    banner("4. The new history matches the models")
    out = manage(python, project, old_db, "makemigrations", "--check", "--dry-run")
    if "No changes detected" not in out:
        raise StepFailed("`makemigrations --check` found changes the history misses")

    banner("5. A fresh database builds from the new history")
    out = manage(python, project, fresh_db, "migrate")
    if "Applying" not in out:
        raise StepFailed("`migrate` on a fresh database applied nothing")
    manage(python, project, fresh_db, "migrate", "--check")

    banner("6. Rows seeded by the old history are in the fresh database too")
    # shipping/0002 seeded the default carriers with RunPython; the remake
    # observed that it inserts rows and carried it into the new history.
    show = (
        "from shipping.models import Carrier; "
        "print(sorted(Carrier.objects.values_list('code', flat=True)))"
    )
    seeded = manage(python, project, old_db, "shell", "-v", "0", "-c", show).strip()
    fresh = manage(python, project, fresh_db, "shell", "-v", "0", "-c", show).strip()
    if fresh != seeded or seeded == "[]":
        raise StepFailed(f"carriers differ: old history {seeded}, new history {fresh}")

    banner("Done")
    print(f"migrations before: {before}, after: {len(after_files)}")
    print(f"carriers seeded by the old history, in the fresh database: {fresh}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the demo copy")
    args = parser.parse_args()
    if sys.version_info < (3, 10):  # noqa: UP036  (a clear message on old Pythons)
        print("This demo needs Python 3.10 or newer.", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="django-remake-demo-"))
    try:
        demo(workdir)
    except (StepFailed, OSError, subprocess.SubprocessError) as exc:
        print(f"\nDEMO FAILED: {exc}\n(demo copy kept in {workdir})", file=sys.stderr)
        return 1
    if args.keep:
        print(f"The demo copy is in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
