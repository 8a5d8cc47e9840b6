"""Throwaway Django projects for the tests.

A :class:`Project` is a directory in ``tmp_path`` holding a ``manage.py``, a
generated ``settings.py`` and the apps of a named scenario from
``tests/scenarios/``. Commands run in a subprocess, exactly as a user runs them,
so every run imports the migration files fresh from disk.

The databases live in ``databases.json`` beside ``settings.py``, so a test can
point the same project at a fresh database, or at a second alias, without
touching the code under test.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import django
import pytest

from .backends import Database as Database
from .backends import create_database, drop_database

SCENARIOS = Path(__file__).parent / "scenarios"

DJANGO_6 = django.VERSION >= (6, 0)
needs_django_6 = pytest.mark.skipif(
    not DJANGO_6,
    reason="Django < 6.0 cannot load a squashed migration that replaces a squashed one",
)


def histories(*names: str) -> list[object]:
    """Scenario names for ``parametrize``; the squash of a squash only on
    Django 6.0 and later."""
    return [
        pytest.param(name, marks=needs_django_6)
        if name == "hist_squashsquash"
        else name
        for name in names
    ]


SETTINGS_TEMPLATE = """\
import json
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "throwaway"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASES = json.loads((BASE_DIR / "databases.json").read_text())
INSTALLED_APPS = []
from project_settings import *  # noqa: E402,F403
"""

MANAGE = """\
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""


class CommandFailed(AssertionError):
    pass


class Project:
    """A Django project on disk, driven through ``manage.py`` subprocesses."""

    def __init__(self, root: Path, backend: str) -> None:
        self.root = root
        self.backend = backend
        self.databases: list[Database] = []
        root.mkdir(parents=True, exist_ok=True)
        (root / "settings.py").write_text(SETTINGS_TEMPLATE)
        (root / "manage.py").write_text(MANAGE)
        if not (root / "project_settings.py").exists():
            (root / "project_settings.py").write_text("")

    # -- building -------------------------------------------------------
    @classmethod
    def from_scenario(cls, name: str, root: Path, backend: str) -> Project:
        """Copy a scenario; its ``_external/`` folder goes *outside* the project.

        Apps in there play installed third-party apps: their code is not under
        the project directory, so django-remake must leave them alone.
        """
        shutil.copytree(SCENARIOS / name, root, dirs_exist_ok=True)
        if (root / "_external").exists():
            shutil.move(root / "_external", root.parent / f"{root.name}_external")
        return cls(root, backend)

    @classmethod
    def from_django_project(
        cls, source: Path, settings_module: str, root: Path, backend: str
    ) -> Project:
        """Copy a whole Django project (the demo, a generated benchmark
        project) and run it with its own settings, on this harness's
        databases."""
        shutil.copytree(
            source,
            root,
            ignore=shutil.ignore_patterns("*.sqlite3", "__pycache__"),
            dirs_exist_ok=True,
        )
        (root / "project_settings.py").write_text(
            "import json\n"
            "from pathlib import Path\n\n"
            f"from {settings_module} import *  # noqa: F403\n\n"
            "DATABASES = json.loads(\n"
            '    (Path(__file__).resolve().parent / "databases.json").read_text()\n'
            ")\n"
        )
        return cls(root, backend)

    @property
    def external(self) -> Path:
        return self.root.parent / f"{self.root.name}_external"

    def write(self, relpath: str, text: str) -> Path:
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    def new_database(self) -> Database:
        db = create_database(self.backend, self.root.parent)
        self.databases.append(db)
        return db

    def use_databases(self, **aliases: Database) -> None:
        """Point the project's aliases (``default=...``) at these databases."""
        config: dict[str, Any] = {}
        for alias, db in aliases.items():
            config[alias] = dict(db.settings)
            config[alias]["TEST"] = {"NAME": f"test_{db.name}"}
        (self.root / "databases.json").write_text(json.dumps(config, indent=2))

    def close(self) -> None:
        for db in self.databases:
            drop_database(db)
        self.databases.clear()

    # -- running ----------------------------------------------------------
    def manage(
        self,
        *args: str,
        ok: bool = True,
        stdin: str | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``manage.py`` (from ``cwd``, by default the project's root)."""
        env = self.environment()
        result = subprocess.run(
            [sys.executable, str(self.root / "manage.py"), *args],
            cwd=cwd or self.root,
            env=env,
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=600,
        )
        if ok and result.returncode != 0:
            raise CommandFailed(
                f"manage.py {' '.join(args)} exited {result.returncode}\n"
                f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
            )
        if not ok and result.returncode == 0:
            raise CommandFailed(
                f"manage.py {' '.join(args)} unexpectedly succeeded\n{result.stdout}"
            )
        return result

    def environment(self) -> dict[str, str]:
        """The environment of a command run in the project: its apps
        importable, no settings module inherited (``manage.py`` names its own)."""
        env = {
            **os.environ,
            "PYTHONPATH": str(self.root),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        return env

    def run_python(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``python *args`` in the project's root, with its apps
        importable (``python -m pytest``, say); never raises."""
        env = self.environment()
        return subprocess.run(
            [sys.executable, *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    def python(self, code: str) -> str:
        """Run ``code`` with Django set up for this project; return its stdout."""
        script = "import django\ndjango.setup()\n" + textwrap.dedent(code)
        env = {
            **os.environ,
            "PYTHONPATH": str(self.root),
            "DJANGO_SETTINGS_MODULE": "settings",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            raise CommandFailed(f"script failed\n{result.stderr}")
        return result.stdout

    # -- looking -------------------------------------------------------
    def migration_files(self, app_dir: str) -> list[str]:
        folder = self.root / app_dir
        return sorted(p.name for p in folder.glob("*.py") if p.name != "__init__.py")

    def tree_hashes(self) -> dict[str, str]:
        """Every file under the project (databases excluded) and its hash and mode."""
        hashes: dict[str, str] = {}
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                if path.suffix == ".sqlite3":
                    continue
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                hashes[str(path.relative_to(self.root))] = (
                    f"{digest}:{oct(path.stat().st_mode)}"
                )
        return hashes

    def applied(self, alias: str = "default") -> set[tuple[str, str]]:
        out = self.python(
            f"""
            from django.db import connections
            from django.db.migrations.recorder import MigrationRecorder
            import json
            rows = MigrationRecorder(connections[{alias!r}]).applied_migrations()
            print(json.dumps(sorted(rows)))
            """
        )
        return {tuple(row) for row in json.loads(out)}

    def migrate_plan(self, alias: str = "default") -> list[str]:
        out = self.manage("migrate", "--plan", "--database", alias).stdout
        lines = [line.strip() for line in out.splitlines()[1:] if line.strip()]
        return [] if lines == ["No planned migration operations."] else lines


def count_migrations(project: Project, app_dirs: Iterable[str]) -> int:
    return sum(len(project.migration_files(d)) for d in app_dirs)


def schema_diff(project: Project, old: Database, new: Database) -> list[str]:
    """Compare two databases' schemas with django_remake.schema, in a subprocess."""
    saved = (project.root / "databases.json").read_text()
    project.use_databases(default=new, old=old)
    try:
        out = project.python(
            """
            import json
            from django.db import connections
            from django_remake.schema import diff_schemas, read_schema
            print(json.dumps(diff_schemas(read_schema(connections["old"]), read_schema(connections["default"]))))
            """
        )
    finally:
        (project.root / "databases.json").write_text(saved)
    return list(json.loads(out))


def new_migration_names(project: Project, app_dir: str) -> list[str]:
    return [
        name[:-3] for name in project.migration_files(app_dir) if "_remaked_" in name
    ]


DEPLOY_REPORT = """
import io, json
from django.core.management import call_command
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

def run(*args, **kwargs):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err, **kwargs)
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    return {"out": out.getvalue(), "err": err.getvalue(), "code": code}

report = {
    "migrate": run("migrate", database=ALIAS, no_color=True),
    "makemigrations": run("makemigrations", check=True, dry_run=True, no_color=True),
    "showmigrations": run("showmigrations", database=ALIAS, no_color=True),
    "applied": sorted(MigrationRecorder(connections[ALIAS]).applied_migrations()),
}
print(json.dumps(report))
"""


def deploy(project: Project, alias: str = "default") -> dict[str, Any]:
    """``migrate``, ``makemigrations --check``, ``showmigrations`` and the
    recorded rows, in one fresh process (one Django start-up instead of four)."""
    out = project.python(DEPLOY_REPORT.replace("ALIAS", repr(alias)))
    report: dict[str, Any] = json.loads(out)
    report["applied"] = {tuple(row) for row in report["applied"]}
    return report
