#!/usr/bin/env python
"""The speed benchmark of issue 9: one command, the tables of docs/speed.md.

For each preset (a generated project, cached under ``benchmarks/.cache``) and
each backend, it times in fresh ``manage.py`` subprocesses:

* a fresh ``migrate`` of the old history, of the remade history through
  Django's executor (``REMAKE_MIGRATIONS_FAST_MIGRATE = False``) and through
  the fast path, and of the direct-schema floor (``MIGRATION_MODULES`` set to
  ``None`` for every app, ``migrate --run-syncdb``);
* ``manage.py test`` of one trivial test on the remade project, with and
  without ``django_remake`` installed;
* (SQLite) the remake against its floor: ``makemigrations --check`` on the old
  history plus one ``makemigrations`` from empty migration folders, next to
  ``remakemigrations`` in full, with ``--no-verify-schema`` and ``--dry-run``;
* (SQLite) ``migrate`` with nothing to apply, with and without the app, and
  the in-process cost of what the app adds (``migrate_cost.py``);
* the operations per type in the old and the remade history.

Every figure is the median of ``--repeat`` runs of CPU seconds (user + system
of the subprocess and its children, ``os.wait4``) and wall seconds. A run
slower than ``--slow-seconds`` is not repeated. A run longer than
``--timeout`` is stopped and shown as such. Peak memory is the subprocess
tree's largest ``ru_maxrss``.

Usage::

    python benchmarks/speed.py                         # small, medium, large; both backends
    python benchmarks/speed.py --presets small --backends sqlite --repeat 1
    python benchmarks/speed.py --update-docs           # rewrite the tables in docs/speed.md
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GENERATE = HERE / "generate.py"
CACHE = HERE / ".cache"
DOCS = ROOT / "docs" / "speed.md"
BEGIN, END = "<!-- speed.py: begin -->", "<!-- speed.py: end -->"

#: name -> (apps, migrations per app); models follow from the generator
PRESETS: dict[str, tuple[int, int]] = {
    "tiny": (2, 3),
    "small": (5, 22),
    "medium": (21, 50),
    "large": (62, 80),
}
DEFAULT_PRESETS = "small,medium,large"

#: Variants of the generated settings, chosen by BENCH_VARIANT; the database
#: by BENCH_BACKEND. Written into every project this script runs.
BENCH_SETTINGS = '''\
"""Benchmark variants of the generated settings (written by benchmarks/speed.py)."""

import os

from .settings import *  # noqa: F403

if os.environ.get("BENCH_BACKEND") == "postgresql":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ["BENCH_DATABASE_NAME"],
            "HOST": os.environ.get("BENCH_PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("BENCH_PGPORT", "5432"),
            "USER": os.environ.get("BENCH_PGUSER", "postgres"),
            "PASSWORD": os.environ.get("BENCH_PGPASSWORD", ""),
        }
    }

VARIANT = os.environ.get("BENCH_VARIANT", "app")
if VARIANT in ("without_app", "floor"):
    INSTALLED_APPS = [a for a in INSTALLED_APPS if a != "django_remake"]  # noqa: F405
if VARIANT == "executor":
    REMAKE_MIGRATIONS_FAST_MIGRATE = False
if VARIANT == "floor":
    MIGRATION_MODULES = {a.rpartition(".")[2]: None for a in INSTALLED_APPS}
'''
SETTINGS = "bench_project.settings_bench"

TRIVIAL_TEST = """\
from django.test import TestCase


class TrivialTest(TestCase):
    def test_nothing(self):
        self.assertTrue(True)
"""

#: Counts the operations per type of the first-party apps' migration files.
COUNT_OPERATIONS = """\
import json, sys
from collections import Counter
import django
django.setup()
from django.db.migrations.loader import MigrationLoader
first_party = set(sys.argv[1].split(","))
loader = MigrationLoader(None, ignore_no_migrations=True)
counts = Counter()
files = 0
for (label, _name), migration in loader.disk_migrations.items():
    if label in first_party:
        files += 1
        for operation in migration.operations:
            counts[type(operation).__name__] += 1
from django.apps import apps
models = sum(1 for m in apps.get_models() if m._meta.app_label in first_party)
print(json.dumps({"files": files, "models": models, "operations": counts}))
"""


#: remakemigrations with the plan's compaction pass (fewer operations) turned
#: off, to count what it saves; prints "compact: none" on code without it.
WITHOUT_COMPACT = """\
import sys
import django
django.setup()
import django_remake.plan as plan
from django.core.management import call_command
if not hasattr(plan, "compact"):
    print("compact: none")
    sys.exit(0)
plan.compact = lambda changes: None
call_command("remakemigrations", interactive=False, verify_schema=False)
"""


class BenchmarkError(RuntimeError):
    pass


# -- measuring ---------------------------------------------------------------


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mb: float
    load: float
    stopped: bool = False


@dataclass
class Figure:
    """Repeated runs of one command; medians of what finished."""

    samples: list[Sample] = field(default_factory=list)
    skipped: str = ""

    @property
    def stopped_after(self) -> float | None:
        stopped = [s.wall for s in self.samples if s.stopped]
        return stopped[0] if stopped and not self.finished else None

    @property
    def finished(self) -> list[Sample]:
        return [s for s in self.samples if not s.stopped]

    @property
    def wall(self) -> float | None:
        done = self.finished
        return statistics.median(s.wall for s in done) if done else None

    @property
    def cpu(self) -> float | None:
        done = self.finished
        return statistics.median(s.cpu for s in done) if done else None

    @property
    def rss_mb(self) -> float | None:
        done = self.finished
        return max(s.rss_mb for s in done) if done else None

    def summary(self) -> dict[str, Any]:
        return {
            "cpu_s": self.cpu,
            "wall_s": self.wall,
            "peak_rss_mb": self.rss_mb,
            "runs": len(self.finished),
            "stopped_after_s": self.stopped_after,
            "skipped": self.skipped or None,
            "samples": [asdict(s) for s in self.samples],
        }


def _rss_mb(ru_maxrss: int) -> float:
    # Linux reports kilobytes, macOS bytes.
    return ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else ru_maxrss / 1024


def run(
    command: Sequence[str],
    cwd: Path,
    env: dict[str, str],
    timeout: float | None = None,
) -> tuple[Sample, str]:
    """Run one subprocess (in its own process group, so that a timeout stops
    its children too); its sample and its standard output."""
    load = os.getloadavg()[0]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        stopped = False
        deadline = None if timeout is None else start + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.perf_counter() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                stopped = True
                _pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.02)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if process.returncode != 0 and not stopped:
        raise BenchmarkError(
            f"`{' '.join(command)}` in {cwd} exited with {process.returncode}:\n"
            f"{stdout[-2000:]}\n{stderr[-4000:]}"
        )
    cpu = usage.ru_utime + usage.ru_stime
    return Sample(wall, cpu, _rss_mb(usage.ru_maxrss), load, stopped), stdout


@dataclass
class Database:
    """A database for one run: a SQLite file or a PostgreSQL database."""

    backend: str
    name: str

    def env(self) -> dict[str, str]:
        if self.backend == "sqlite":
            return {"BENCH_BACKEND": "sqlite", "BENCH_DATABASE_PATH": self.name}
        return {"BENCH_BACKEND": "postgresql", "BENCH_DATABASE_NAME": self.name}

    def drop(self) -> None:
        if self.backend == "sqlite":
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(self.name + suffix).unlink(missing_ok=True)
        else:
            _pg(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            _pg(f'DROP DATABASE IF EXISTS "test_{self.name}" WITH (FORCE)')

    def create(self) -> None:
        self.drop()
        if self.backend == "postgresql":
            _pg(f'CREATE DATABASE "{self.name}"')

    def copy_from(self, other: Database) -> None:
        self.drop()
        if self.backend == "sqlite":
            shutil.copyfile(other.name, self.name)
        else:
            _pg(f'CREATE DATABASE "{self.name}" TEMPLATE "{other.name}"')


def _pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(
        host=os.environ.get("BENCH_PGHOST", "127.0.0.1"),
        port=os.environ.get("BENCH_PGPORT", "5432"),
        user=os.environ.get("BENCH_PGUSER", "postgres"),
        password=os.environ.get("BENCH_PGPASSWORD", ""),
        dbname="postgres",
        autocommit=True,
    ) as connection:
        connection.execute(sql)  # type: ignore[arg-type]


def project_env(database: Database, variant: str = "app") -> dict[str, str]:
    env = dict(os.environ)
    env.update(database.env())
    env["DJANGO_SETTINGS_MODULE"] = SETTINGS
    env["BENCH_VARIANT"] = variant
    env.pop("PYTHONPATH", None)
    # Cache bytecode as a developer checkout does.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


@dataclass
class Options:
    repeat: int = 3
    slow_seconds: float = 120.0
    timeout: float = 600.0
    log: Callable[[str], None] = lambda text: None


def _sample_line(label: str, sample: Sample) -> str:
    """One sample as the log shows it (and ``--from-log`` reads it back)."""
    return (
        f"  {label}: {'stopped after' if sample.stopped else 'took'} {sample.wall:.2f} s "
        f"wall, {sample.cpu:.2f} s CPU, {sample.rss_mb:.0f} MB (load {sample.load:.1f})"
    )


SAMPLE_LINE = re.compile(
    r"^  \[(?P<preset>\w+)\] (?P<item>.+): (?P<how>took|stopped after) "
    r"(?P<wall>[\d.]+) s wall, (?P<cpu>[\d.]+) s CPU, (?P<rss>[\d.]+) MB "
    r"\(load (?P<load>[\d.]+)\)$"
)
SIZE_LINE = re.compile(
    r"^\[(?P<preset>\w+)\] (?P<files>\d+) first-party migrations, (?P<models>\d+) models$"
)
REMAKE_ITEMS = {
    "makemigrations --check": "makemigrations_check",
    "makemigrations from empty folders": "makemigrations_empty",
    "remakemigrations --dry-run --no-verify-schema": "dry_run_no_verify",
    "remakemigrations --dry-run": "dry_run",
    "remakemigrations --no-verify-schema": "no_verify",
    "remakemigrations": "full",
}


def from_log(lines: Iterator[str] | list[str]) -> list[Result]:
    """Results rebuilt from the samples a run logged (for a run that was
    stopped before it printed its tables): timings only, no operation counts."""
    results: dict[str, Result] = {}
    # Presets whose migrate rows were measured on a history remade with
    # --drop-data-migrations: that stays the history named, whatever other
    # logs say about their own remakes.
    dropped: set[str] = set()

    def result(preset: str) -> Result:
        if preset not in results:
            apps, per_app = PRESETS[preset]
            results[preset] = Result(preset, apps, per_app)
        return results[preset]

    for line in lines:
        line = line.rstrip("\n")
        if size := SIZE_LINE.match(line):
            r = result(size["preset"])
            r.first_party_migrations = int(size["files"])
            r.models = int(size["models"])
            continue
        if line.startswith("[") and "] facts {" in line:
            preset, _, facts = line[1:].partition("] facts ")
            r = result(preset)
            loaded = json.loads(facts)
            if "--drop-data-migrations" in loaded.get("remade_from", ""):
                # Name the remade history after how it was made, next to the
                # timings of another run.
                renamed = "remade, --no-verify-schema --drop-data-migrations"
                for counts in (loaded["operations"], loaded["files"]):
                    if "remade history" in counts:
                        counts[renamed] = counts.pop("remade history")
            for name, value in loaded.items():
                if isinstance(value, dict):
                    getattr(r, name).update(value)
                elif value and not (name == "remade_from" and preset in dropped):
                    setattr(r, name, value)
            continue
        if (
            line.startswith("[")
            and "remakemigrations --no-input --no-verify-schema --drop" in line
        ):
            preset, _, rest = line[1:].partition("] ")
            result(preset).remade_from = rest
            dropped.add(preset)
            continue
        match = SAMPLE_LINE.match(line)
        if not match:
            continue
        r = result(match["preset"])
        sample = Sample(
            float(match["wall"]),
            float(match["cpu"]),
            float(match["rss"]),
            float(match["load"]),
            match["how"] == "stopped after",
        )
        item = match["item"]
        if item in REMAKE_ITEMS:
            group = r.remake
            name = REMAKE_ITEMS[item]
        elif item.startswith("migrate, nothing to apply, "):
            group, name = r.noop, item.rpartition(", ")[2]
        else:
            backend, _, what = item.partition(": ")
            kind, _, name = what.partition(", ")
            groups = r.migrate if kind == "fresh migrate" else r.test
            group = groups.setdefault(backend, {})
        group.setdefault(name, Figure()).samples.append(sample)
    for preset, r in results.items():
        if preset in dropped:
            continue
        if r.remake.get("full") and r.remake["full"].finished:
            r.remade_from = "remakemigrations --no-input"
    return list(results.values())


def repeat(
    options: Options,
    label: str,
    once: Callable[[], tuple[Sample, str]],
    prepare: Callable[[int], None] | None = None,
    timeout: float | None = None,
) -> Figure:
    """``once()`` up to ``options.repeat`` times; a slow or stopped run ends it."""
    figure = Figure()
    for attempt in range(options.repeat):
        if prepare is not None:
            prepare(attempt)
        options.log(f"{label} {attempt + 1}/{options.repeat}")
        sample, _out = once()
        figure.samples.append(sample)
        options.log(_sample_line(label, sample))
        if sample.stopped or sample.wall > options.slow_seconds:
            break
    return figure


# -- projects ----------------------------------------------------------------


def _digest(*paths: Path) -> str:
    hasher = hashlib.sha256()
    for path in paths:
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            hasher.update(file.name.encode())
            hasher.update(file.read_bytes())
    return hasher.hexdigest()[:10]


def cache_key(apps: int, per_app: int, seed: int) -> str:
    """The generator's parameters and its source: the key of a cached project."""
    import django

    return f"{apps}x{per_app}-seed{seed}-django{django.get_version()}-gen{_digest(GENERATE)}"


def generated(
    apps: int, per_app: int, seed: int, cache: Path, log: Callable[[str], None]
) -> Path:
    """The project for these parameters, generated once and then reused."""
    project = cache / cache_key(apps, per_app, seed) / "project"
    if (project / "manage.py").exists():
        return project
    log(f"generating {apps} apps x {per_app} migrations into {project}")
    partial = project.with_name("partial")
    shutil.rmtree(partial, ignore_errors=True)
    subprocess.run(
        [
            sys.executable,
            str(GENERATE),
            *("--apps", str(apps), "--migrations", str(per_app)),
            *("--seed", str(seed), "--out", str(partial)),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    partial.rename(project)
    return project


def prepared_copy(source: Path, target: Path) -> Path:
    """A working copy of a project, with the benchmark settings and test."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.sqlite3"))
    package = target / "bench_project"
    (package / "settings_bench.py").write_text(BENCH_SETTINGS)
    (package / "test_trivial.py").write_text(TRIVIAL_TEST)
    return target


def scratch_project(
    work: Path, apps: int, per_app: int, seed: int, given: Path | None = None
) -> Path:
    """A prepared copy in ``work`` of ``given``, or of a project generated into
    ``work`` (not the cache): for ``profile_remake.py`` and ``migrate_cost.py``."""
    source = given or generated(
        apps, per_app, seed, work, lambda text: print(text, file=sys.stderr)
    )
    return prepared_copy(source, work / "project")


def first_party(project: Path) -> list[str]:
    return sorted(
        path.parent.parent.name
        for path in project.glob("*/migrations/__init__.py")
        if path.parent.parent.name != "bench_project"
    )


def empty_migrations(project: Path) -> None:
    for label in first_party(project):
        for path in (project / label / "migrations").iterdir():
            if path.name != "__init__.py":
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()


def count_operations(project: Path, database: Database) -> dict[str, Any]:
    labels = ",".join(first_party(project))
    _sample, out = run(
        [sys.executable, "-c", COUNT_OPERATIONS, labels],
        project,
        {**project_env(database), "PYTHONPATH": str(project)},
    )
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


# -- one preset --------------------------------------------------------------


@dataclass
class Result:
    preset: str
    apps: int
    per_app: int
    first_party_migrations: int = 0
    models: int = 0
    #: backend -> item -> figure
    migrate: dict[str, dict[str, Figure]] = field(default_factory=dict)
    test: dict[str, dict[str, Figure]] = field(default_factory=dict)
    remake: dict[str, Figure] = field(default_factory=dict)
    noop: dict[str, Figure] = field(default_factory=dict)
    in_process: str = ""
    fast_notes: str = ""
    remade_from: str = ""
    operations: dict[str, dict[str, int]] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)

    def samples(self) -> Iterator[Sample]:
        groups = [*self.migrate.values(), *self.test.values(), self.remake, self.noop]
        for group in groups:
            for figure in group.values():
                yield from figure.samples

    def summary(self) -> dict[str, Any]:
        def figures(group: dict[str, Figure]) -> dict[str, Any]:
            return {name: figure.summary() for name, figure in group.items()}

        return {
            "preset": self.preset,
            "apps": self.apps,
            "migrations_per_app": self.per_app,
            "first_party_migrations": self.first_party_migrations,
            "models": self.models,
            "fresh_migrate": {b: figures(g) for b, g in self.migrate.items()},
            "ratios": {b: self.ratios(b) for b in self.migrate},
            "test": {b: figures(g) for b, g in self.test.items()},
            "remake": figures(self.remake),
            "remake_ratios": self.remake_ratios(),
            "migrate_nothing_to_apply": figures(self.noop),
            "migrate_cost_in_process": self.in_process,
            "fast_path_notes": self.fast_notes,
            "remade_from": self.remade_from,
            "migration_files": self.files,
            "operations": self.operations,
        }

    def ratios(self, backend: str) -> dict[str, float | None]:
        group = self.migrate.get(backend, {})
        floor = group.get("floor")
        out: dict[str, float | None] = {}
        for name in ("old", "executor", "fast"):
            figure = group.get(name)
            out[f"{name}/floor"] = _ratio(figure, floor)
        return out

    def remake_floor(self) -> float | None:
        parts = [
            self.remake.get("makemigrations_check"),
            self.remake.get("makemigrations_empty"),
        ]
        if any(p is None or p.cpu is None for p in parts):
            return None
        return sum(p.cpu for p in parts if p is not None and p.cpu is not None)

    def remake_ratios(self) -> dict[str, float | None]:
        floor = self.remake_floor()
        out: dict[str, float | None] = {}
        for name in ("full", "no_verify", "dry_run", "dry_run_no_verify"):
            figure = self.remake.get(name)
            cpu = figure.cpu if figure is not None else None
            out[f"{name}/floor"] = cpu / floor if cpu is not None and floor else None
        return out


def _ratio(figure: Figure | None, floor: Figure | None) -> float | None:
    if figure is None or floor is None or figure.cpu is None or not floor.cpu:
        return None
    return figure.cpu / floor.cpu


def _database_name(backend: str, work: Path, name: str) -> Database:
    if backend == "sqlite":
        return Database(backend, str(work / f"{name}.sqlite3"))
    unique = re.sub(r"\W", "_", work.name).lower()
    return Database(backend, f"remake_bench_{unique}_{name}")


def manage(
    project: Path,
    database: Database,
    *arguments: str,
    variant: str = "app",
    timeout: float | None = None,
) -> tuple[Sample, str]:
    return run(
        [sys.executable, "manage.py", *arguments],
        project,
        project_env(database, variant),
        timeout=timeout,
    )


def bench_preset(
    preset: str,
    seed: int,
    backends: Sequence[str],
    options: Options,
    cache: Path,
    work: Path,
    skip: set[str],
    noop_repeat: int = 10,
) -> Result:
    apps, per_app = PRESETS[preset]
    result = Result(preset, apps, per_app)
    log = options.log
    source = generated(apps, per_app, seed, cache, log)
    old = prepared_copy(source, work / "old")
    sqlite_work = _database_name("sqlite", work, "scratch")
    counted = count_operations(old, sqlite_work)
    result.first_party_migrations = counted["files"]
    result.models = counted["models"]
    result.operations["old history"] = counted["operations"]
    result.files["old history"] = counted["files"]
    log(
        f"[{preset}] {counted['files']} first-party migrations, {counted['models']} models"
    )

    # A database on which the old history counts as applied, without paying
    # for the old history: the floor's tables, then migrate --fake.
    applied = _database_name("sqlite", work, "applied")
    applied.create()
    manage(
        old, applied, "migrate", "--run-syncdb", "--no-input", "-v0", variant="floor"
    )
    manage(old, applied, "migrate", "--fake", "--no-input", "-v0")

    if "noop" not in skip:
        # What installing the app costs a migrate with nothing to apply, on a
        # project that never remade; interleaved so that drift hits both alike.
        result.noop = {"without_app": Figure(), "with_app": Figure()}
        log(f"[{preset}] migrate, nothing to apply, x{noop_repeat} each")
        for _attempt in range(noop_repeat):
            for name, variant in (("without_app", "without_app"), ("with_app", "app")):
                sample, out = manage(old, applied, "migrate", variant=variant)
                if "No migrations to apply." not in out:
                    raise BenchmarkError(f"migrate applied something:\n{out}")
                result.noop[name].samples.append(sample)
                log(
                    _sample_line(
                        f"[{preset}] migrate, nothing to apply, {name}", sample
                    )
                )
        env = {**project_env(applied), "PYTHONPATH": str(old)}
        sys.path.insert(0, str(HERE))
        from migrate_cost import CHILD

        _sample, out = run([sys.executable, "-c", CHILD, "15"], old, env)
        result.in_process = "; ".join(out.strip().splitlines())

    if {"remake", "fast", "executor", "test", "compact"} <= skip:
        remade = None  # nothing needs a remade project
    else:
        remade = _remake(result, old, applied, work, options, skip)

    migrate_options = options
    for backend in backends:
        result.migrate[backend] = group = {}
        result.test[backend] = tests = {}
        database = _database_name(backend, work, f"fresh_{backend}")
        items = [
            ("floor", old, "floor", ["--run-syncdb"]),
            ("fast", remade, "app", []),
            ("executor", remade, "executor", []),
            ("old", old, "app", []),
        ]
        for name, project, variant, extra in items:
            if name in skip or (project is None):
                group[name] = Figure(
                    skipped="skipped" if name in skip else "no remade history"
                )
                continue

            def once(
                project: Path = project,
                variant: str = variant,
                extra: list[str] = extra,
                database: Database = database,
            ) -> tuple[Sample, str]:
                return manage(
                    project,
                    database,
                    "migrate",
                    *extra,
                    "--no-input",
                    "-v0",
                    variant=variant,
                    timeout=migrate_options.timeout,
                )

            group[name] = repeat(
                migrate_options,
                f"[{preset}] {backend}: fresh migrate, {name}",
                once,
                prepare=lambda _attempt, database=database: database.create(),
            )
        if remade is not None and "fast" not in skip:
            database.create()
            _sample, out = manage(remade, database, "migrate", "--no-input", "-v2")
            notes = [
                line.strip()
                for line in out.splitlines()
                if "at once" in line or re.match(r"\s+\S+\.\d+_remaked\S*: ", line)
            ]
            if backend == "sqlite":
                result.fast_notes = " / ".join(notes[:6])
        if remade is not None and "test" not in skip:
            for name, variant in (("without_app", "without_app"), ("with_app", "app")):

                def test_once(
                    variant: str = variant, database: Database = database
                ) -> tuple[Sample, str]:
                    return manage(
                        remade,
                        database,
                        "test",
                        "bench_project",
                        "--no-input",
                        "-v0",
                        variant=variant,
                        timeout=migrate_options.timeout,
                    )

                tests[name] = repeat(
                    migrate_options,
                    f"[{preset}] {backend}: manage.py test, {name}",
                    test_once,
                    prepare=lambda _attempt, database=database: database.create(),
                )
        database.drop()
    applied.drop()
    # What the tables need besides the samples, for --from-log.
    facts = {
        name: getattr(result, name)
        for name in ("operations", "files", "in_process", "fast_notes", "remade_from")
    }
    log(f"[{preset}] facts {json.dumps(facts)}")
    return result


def _remake(
    result: Result,
    old: Path,
    applied: Database,
    work: Path,
    options: Options,
    skip: set[str],
) -> Path | None:
    """Time the remake and its floor; the remade project the rest uses."""
    preset = result.preset
    copies = iter(range(1_000_000))

    def fresh_copy(prefix: str) -> tuple[Path, Database]:
        number = next(copies)
        target = work / f"{prefix}-{number}"
        # With the bytecode the floor's runs have (copytree keeps the files'
        # times, so it stays valid): a project's own checkout has it, and
        # compiling 1,000 old migration files is no part of the remake.
        shutil.copytree(old, target, ignore=shutil.ignore_patterns(".django-remake*"))
        database = _database_name("sqlite", work, f"{prefix}-{number}")
        database.copy_from(applied)
        return target, database

    made: dict[str, Path] = {}
    if "remake" not in skip:
        result.remake["makemigrations_check"] = repeat(
            options,
            f"[{preset}] makemigrations --check",
            lambda: manage(
                old,
                applied,
                "makemigrations",
                "--check",
                "--dry-run",
                timeout=options.timeout,
            ),
        )
        empty = work / "empty"

        def make_empty(_attempt: int) -> None:
            shutil.rmtree(empty, ignore_errors=True)
            shutil.copytree(old, empty)
            empty_migrations(empty)

        result.remake["makemigrations_empty"] = repeat(
            options,
            f"[{preset}] makemigrations from empty folders",
            lambda: manage(
                empty, applied, "makemigrations", "-v0", timeout=options.timeout
            ),
            prepare=make_empty,
        )
        dry, _database = fresh_copy("dry")
        for name, extra in (
            ("dry_run_no_verify", ["--no-verify-schema"]),
            ("dry_run", []),
        ):
            result.remake[name] = repeat(
                options,
                f"[{preset}] remakemigrations --dry-run {' '.join(extra)}".rstrip(),
                # On a copy: a run stopped by the timeout leaves its lock.
                lambda extra=extra: manage(
                    dry,
                    applied,
                    "remakemigrations",
                    "--dry-run",
                    "--no-input",
                    *extra,
                    timeout=options.timeout,
                ),
            )
    for name, extra in (("no_verify", ["--no-verify-schema"]), ("full", [])):
        if "remake" in skip and made:
            break
        current: dict[str, tuple[Path, Database]] = {}

        def prepare(
            _attempt: int,
            name: str = name,
            current: dict[str, tuple[Path, Database]] = current,
        ) -> None:
            current[name] = fresh_copy(name)

        def once(
            name: str = name,
            extra: list[str] = extra,
            current: dict[str, tuple[Path, Database]] = current,
        ) -> tuple[Sample, str]:
            project, database = current[name]
            sample, out = manage(
                project,
                database,
                "remakemigrations",
                "--no-input",
                *extra,
                timeout=options.timeout,
            )
            if not sample.stopped:
                made.setdefault(name, project)
            return sample, out

        figure = repeat(
            options,
            f"[{preset}] remakemigrations {' '.join(extra)}".rstrip(),
            once,
            prepare=prepare,
        )
        if "remake" not in skip:
            result.remake[name] = figure
    remade = made.get("full")
    result.remade_from = "remakemigrations --no-input"
    if remade is None:
        # Without the proof every RunPython is carried, and carried code runs
        # against the current models: the generated data migrations then fail
        # on a new database. The proof would have dropped them (they change
        # nothing there), so drop them here too.
        result.remade_from = (
            "remakemigrations --no-input --no-verify-schema --drop-data-migrations "
            + (
                "(the full run was skipped)"
                if "remake" in skip
                else "(the full run did not finish)"
            )
        )
        project, database = fresh_copy("dropped")
        options.log(f"[{preset}] {result.remade_from}")
        sample, _out = manage(
            project,
            database,
            "remakemigrations",
            "--no-input",
            "--no-verify-schema",
            "--drop-data-migrations",
            timeout=options.timeout,
        )
        if sample.stopped:
            return None
        remade = project
    counted = count_operations(remade, applied)
    result.operations["remade history"] = counted["operations"]
    result.files["remade history"] = counted["files"]
    if "no_verify" in made:
        counted = count_operations(made["no_verify"], applied)
        result.operations["remade, --no-verify-schema"] = counted["operations"]
        result.files["remade, --no-verify-schema"] = counted["files"]
    if "compact" not in skip:
        project, database = fresh_copy("uncompacted")
        env = {**project_env(database), "PYTHONPATH": str(project)}
        _sample, out = run(
            [sys.executable, "-c", WITHOUT_COMPACT],
            project,
            env,
            timeout=options.timeout,
        )
        if "compact: none" not in out:
            counted = count_operations(project, database)
            result.operations["remade, --no-verify-schema, compact off"] = counted[
                "operations"
            ]
            result.files["remade, --no-verify-schema, compact off"] = counted["files"]
    # The remade history must describe the same models.
    manage(remade, applied, "makemigrations", "--check", "--dry-run")
    return remade


# -- tables ------------------------------------------------------------------


REMAKE_ROWS = [
    ("makemigrations_check", "`makemigrations --check --dry-run`, old history"),
    ("makemigrations_empty", "`makemigrations` from empty migration folders"),
    ("full", "`remakemigrations --no-input` (full run)"),
    ("no_verify", "`remakemigrations --no-input --no-verify-schema`"),
    ("dry_run", "`remakemigrations --dry-run`"),
    ("dry_run_no_verify", "`remakemigrations --dry-run --no-verify-schema`"),
]


def _s(figure: Figure | None) -> str:
    """CPU / wall seconds of a figure, or why there is none."""
    if figure is None:
        return "–"
    if figure.skipped:
        return figure.skipped
    if figure.cpu is None:
        stopped = figure.stopped_after
        return f"> {stopped:.0f} wall (stopped)" if stopped is not None else "–"
    runs = "" if len(figure.finished) > 1 else " ¹"
    return f"{figure.cpu:.2f} / {figure.wall:.2f}{runs}"


def _r(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def _mb(figure: Figure | None) -> str:
    return "–" if figure is None or figure.rss_mb is None else f"{figure.rss_mb:.0f}"


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = [_row(header), _row(["---"] * len(header))]
    lines.extend(_row(row) for row in rows)
    return "\n".join(lines)


def _size(r: Result) -> str:
    return f"{r.preset}: {r.first_party_migrations:,} migrations, {r.models} models"


def tables(results: Sequence[Result]) -> str:
    parts = []
    rows = []
    for r in results:
        for backend, group in r.migrate.items():
            ratios = r.ratios(backend)
            rows.append(
                [
                    _size(r),
                    backend,
                    _s(group.get("old")),
                    _s(group.get("executor")),
                    _s(group.get("fast")),
                    _s(group.get("floor")),
                    _r(ratios["executor/floor"]),
                    _r(ratios["fast/floor"]),
                    " / ".join(
                        _mb(group.get(n)) for n in ("old", "executor", "fast", "floor")
                    ),
                ]
            )
    if rows:
        notes = [
            f"- {r.preset}: remade by `{r.remade_from}`"
            + (f"; the fast path at `-v 2`: {r.fast_notes}" if r.fast_notes else "")
            for r in results
            if r.remade_from
        ]
        parts.append("\n".join(notes))
        parts.insert(
            -1,
            "**Fresh `migrate`** (CPU s / wall s)\n\n"
            + _table(
                [
                    "preset",
                    "backend",
                    "(a) old history",
                    "(b) remade, Django's executor",
                    "(c) remade, fast path",
                    "(d) floor: `--run-syncdb`",
                    "(b)/(d) CPU",
                    "(c)/(d) CPU",
                    "peak MB (a / b / c / d)",
                ],
                rows,
            ),
        )
    rows = []
    for r in results:
        if not r.remake:
            continue
        ratios = r.remake_ratios()
        floor = r.remake_floor()
        for name, command in REMAKE_ROWS:
            figure = r.remake.get(name)
            if figure is None:
                continue
            rows.append(
                [
                    _size(r),
                    command,
                    _s(figure),
                    _r(ratios.get(f"{name}/floor")),
                    _mb(figure),
                ]
            )
            if name == "makemigrations_empty":
                rows.append(
                    [
                        _size(r),
                        "**floor** (the two above)",
                        "–" if floor is None else f"**{floor:.2f}**",
                        "1×",
                        "",
                    ]
                )
    if rows:
        parts.append(
            "**The remake and its floor** (SQLite; CPU s / wall s)\n\n"
            + _table(
                ["preset", "command", "CPU s / wall s", "CPU / floor", "peak MB"], rows
            )
        )
    rows = []
    for r in results:
        without, with_ = r.noop.get("without_app"), r.noop.get("with_app")
        if without is None or with_ is None or without.cpu is None or with_.cpu is None:
            continue
        assert without.wall is not None and with_.wall is not None
        rows.append(
            [
                _size(r),
                f"{without.cpu:.3f} / {without.wall:.3f}",
                f"{with_.cpu:.3f} / {with_.wall:.3f}",
                f"{with_.cpu - without.cpu:+.3f} / {with_.wall - without.wall:+.3f}",
                r.in_process,
            ]
        )
    if rows:
        parts.append(
            "**`migrate` with nothing to apply**, old history, SQLite "
            "(CPU s / wall s, medians of the interleaved runs)\n\n"
            + _table(
                [
                    "preset",
                    "without django_remake",
                    "with django_remake",
                    "difference",
                    "in-process (migrate_cost.py)",
                ],
                rows,
            )
        )
    rows = []
    for r in results:
        for backend, group in r.test.items():
            if group:
                rows.append(
                    [
                        _size(r),
                        backend,
                        _s(group.get("without_app")),
                        _s(group.get("with_app")),
                        _r(_ratio(group.get("with_app"), group.get("without_app"))),
                    ]
                )
    if rows:
        parts.append(
            "**`manage.py test`**, one trivial test on the remade project (CPU s / wall s)\n\n"
            + _table(
                [
                    "preset",
                    "backend",
                    "without django_remake",
                    "with django_remake",
                    "with / without CPU",
                ],
                rows,
            )
        )
    for r in results:
        if r.operations:
            parts.append(operations_table(r))
    return "\n\n".join(parts)


def operations_table(r: Result) -> str:
    columns = list(r.operations)
    kinds = sorted({k for counts in r.operations.values() for k in counts})
    rows = [
        [kind, *(str(r.operations[c].get(kind, 0)) for c in columns)] for kind in kinds
    ]
    rows.append(
        ["**operations**", *(f"**{sum(r.operations[c].values())}**" for c in columns)]
    )
    rows.append(["migration files", *(str(r.files.get(c, "–")) for c in columns)])
    return f"**Operations per type, {r.preset}** (first-party apps)\n\n" + _table(
        ["operation", *columns], rows
    )


def environment(started: float, loads: Sequence[float]) -> dict[str, Any]:
    import django

    sqlite_version = subprocess.run(
        [sys.executable, "-c", "import sqlite3; print(sqlite3.sqlite_version)"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        "commit": commit,
        "python": platform.python_version(),
        "django": django.get_version(),
        "sqlite": sqlite_version,
        "machine": f"{platform.system()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "load_average_1min": {
            "start": loads[0],
            "end": loads[-1],
            "max": max(loads),
            "median": statistics.median(loads),
        },
    }


def header(env: dict[str, Any], args: argparse.Namespace, elapsed: float) -> str:
    load = env["load_average_1min"]
    return (
        f"Measured {env['date']} at commit `{env['commit']}`: Python {env['python']}, "
        f"Django {env['django']}, SQLite {env['sqlite']}, {env['machine']}, "
        f"**{env['cpus']} CPUs**, 1-minute load average {load['start']:.1f} at the start, "
        f"{load['end']:.1f} at the end, median {load['median']:.1f} and max {load['max']:.1f} "
        f"over the runs. Medians of {args.repeat} run{'s' if args.repeat > 1 else ''} "
        f"({args.large_repeat} on the large preset) "
        f"(¹ one run: a run over {args.slow_seconds:.0f} s wall is not repeated); "
        f"runs stopped after {args.timeout:.0f} s wall"
        + (
            f" ({args.large_timeout:.0f} s on the large preset)"
            if args.large_timeout is not None
            else ""
        )
        + (
            f"; {jobs} presets measured side by side"
            if (jobs := min(args.jobs, len(args.presets.split(",")))) > 1
            else ""
        )
        + f". Total {elapsed / 60:.0f} min.\n\n"
        f"Command: `python benchmarks/speed.py {' '.join(args.argv)}`".rstrip()
    )


def update_docs(path: Path, text: str) -> None:
    content = path.read_text()
    start, end = content.index(BEGIN), content.index(END)
    path.write_text(
        content[: start + len(BEGIN)] + "\n\n" + text + "\n\n" + content[end:]
    )


# -- command line ------------------------------------------------------------


@contextmanager
def workdir(keep: bool, log: Callable[[str], None]) -> Iterator[Path]:
    work = Path(tempfile.mkdtemp(prefix="remake-speed-"))
    try:
        yield work
    finally:
        if keep:
            log(f"projects kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--presets",
        default=DEFAULT_PRESETS,
        help=f"comma-separated, of {', '.join(PRESETS)} (default {DEFAULT_PRESETS})",
    )
    parser.add_argument(
        "--backends",
        default="sqlite,postgresql",
        help="comma-separated: sqlite, postgresql (default both)",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per figure (default 3)"
    )
    parser.add_argument(
        "--slow-seconds",
        type=float,
        default=120.0,
        help="do not repeat a run slower than this, in wall seconds (default 120)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="stop a run after this many wall seconds (default 600)",
    )
    parser.add_argument(
        "--large-timeout",
        type=float,
        help="--timeout for the large preset only (default: --timeout)",
    )
    parser.add_argument(
        "--large-repeat",
        type=int,
        default=1,
        help="runs per figure on the large preset (default 1)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="presets measured side by side (default 1); CPU seconds hold, "
        "wall seconds grow with the load",
    )
    parser.add_argument(
        "--noop-repeat",
        type=int,
        default=10,
        help="runs of migrate with nothing to apply, with and without the app (default 10 each)",
    )
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated items not to run: old, executor, fast, floor, remake, noop, test, compact (the count without the compaction pass)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="generator seed (default 0)"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=CACHE,
        help=f"where generated projects are kept (default {CACHE.relative_to(ROOT)})",
    )
    parser.add_argument(
        "--json", type=Path, help="also write every figure and sample as JSON here"
    )
    parser.add_argument("--output", type=Path, help="also write the Markdown here")
    parser.add_argument(
        "--update-docs",
        action="store_true",
        help=f"replace the tables in {DOCS.relative_to(ROOT)} (between its markers)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the work directory (path is printed)"
    )
    parser.add_argument(
        "--from-log",
        type=Path,
        action="append",
        help="only render the tables from the samples in this log (the standard "
        "error of an earlier run that did not finish)",
    )
    args = parser.parse_args(argv)
    args.argv = argv
    presets = [p for p in args.presets.split(",") if p]
    backends = [b for b in args.backends.split(",") if b]
    for preset in presets:
        if preset not in PRESETS:
            parser.error(f"unknown preset {preset!r}")
    for backend in backends:
        if backend not in ("sqlite", "postgresql"):
            parser.error(f"unknown backend {backend!r}")
    skip = {s for s in args.skip.split(",") if s}

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    options = Options(args.repeat, args.slow_seconds, args.timeout, log)
    started = time.time()
    loads = [os.getloadavg()[0]]

    def one(preset: str) -> Result:
        preset_options = options
        if preset == "large":
            preset_options = dataclasses.replace(
                options,
                repeat=args.large_repeat,
                timeout=args.large_timeout or options.timeout,
            )
        with workdir(args.keep, log) as work:
            return bench_preset(
                preset,
                args.seed,
                backends,
                preset_options,
                args.cache,
                work,
                skip,
                noop_repeat=args.noop_repeat,
            )

    if args.from_log:
        lines = [line for path in args.from_log for line in path.open()]
        results = [r for r in from_log(lines) if r.preset in presets]
        started = max(path.stat().st_mtime for path in args.from_log)
    else:
        # Presets may run side by side (--jobs): every command is a subprocess,
        # so the threads only wait. CPU seconds hold; wall seconds then grow.
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results = list(pool.map(one, presets))
    loads.extend(sample.load for r in results for sample in r.samples())
    loads.append(os.getloadavg()[0])
    env = environment(started, loads)
    text = header(env, args, time.time() - started) + "\n\n" + tables(results)
    if args.from_log:
        text = re.sub(r" Total \d+ min\.", "", text)
        text = text.replace("Measured ", "Rebuilt from the log of a run that ended ", 1)
        text = text.replace("Command: ", "Rendered by: ", 1)
        for path in args.from_log:
            # The logs' names, not where they happened to be.
            text = text.replace(f" --from-log {path}", f" --from-log {path.name}")
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"environment": env, "presets": [r.summary() for r in results]},
                indent=1,
            )
            + "\n"
        )
    if args.update_docs:
        update_docs(DOCS, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
