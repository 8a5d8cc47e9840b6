#!/usr/bin/env python
"""Benchmark ``remakemigrations`` against ``makemigrations`` on synthetic projects.

For each size (apps x migrations per app) a project is written with
``benchmarks/generate.py`` into a temporary directory and its SQLite database
is migrated with the old history. Then, each in a fresh ``manage.py``
subprocess, repeated ``--repeat`` times (the median is reported):

* ``makemigrations --check --dry-run``: the yardstick (the design promise is
  that a remake costs no more than one ``makemigrations`` over the project);
* ``remakemigrations --dry-run --no-input``: inspect and plan;
* ``remakemigrations --no-input``: the full run (plan, write, verify in a child
  process), each time on a fresh copy of the project and its database;
* ``migrate`` on a fresh database, with the old history and with the remade one;
* ``migrate`` with nothing to apply on the project that never remade, with and
  without ``django_remake`` in ``INSTALLED_APPS`` (``--migrate-repeat`` times
  each, interleaved): what installing the app costs every ``migrate``.

Wall time is measured around each subprocess; CPU time (user + system) and
peak RSS come from ``os.wait4`` for that subprocess, which covers its own
children too (the full run's verification child). The result is a Markdown table, printed and, with
``--output``, written to a file.

Usage::

    python benchmarks/run.py
    python benchmarks/run.py --sizes 5x20,20x25,40x25 --output results.md
    python benchmarks/run.py --migrate-only --sizes 40x25
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
GENERATE = HERE / "generate.py"
SETTINGS_MODULE = "bench_project.settings"
# The same settings without django_remake: Django's own migrate, for comparison.
SETTINGS_WITHOUT_REMAKE = "bench_project.settings_without_remake"
WITHOUT_REMAKE = """\
from .settings import *  # noqa: F403

INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "django_remake"]  # noqa: F405
"""
DEFAULT_SIZES = "5x20,10x25,20x25"


class BenchmarkError(RuntimeError):
    pass


@dataclass(frozen=True)
class Sample:
    seconds: float
    #: peak resident set size of the subprocess and its children, in MB
    rss_mb: float
    stdout: str
    #: user + system CPU time of the subprocess and its children
    cpu_seconds: float = float("nan")


@dataclass
class Series:
    samples: list[Sample] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def cpu_seconds(self) -> float:
        return statistics.median(s.cpu_seconds for s in self.samples)

    @property
    def rss_mb(self) -> float:
        return max(s.rss_mb for s in self.samples)


@dataclass
class Result:
    apps: int
    per_app: int
    generate_s: float = 0.0
    makemigrations: Series = field(default_factory=Series)
    dry_run: Series = field(default_factory=Series)
    full: Series = field(default_factory=Series)
    migrate_old: Series = field(default_factory=Series)
    migrate_new: Series = field(default_factory=Series)
    noop_without: Series = field(default_factory=Series)
    noop_with: Series = field(default_factory=Series)
    before: int = 0
    after: int = 0
    summary: str = ""

    @property
    def size(self) -> str:
        return f"{self.apps} × {self.per_app} = {self.apps * self.per_app}"

    @property
    def ratio(self) -> float:
        return self.dry_run.seconds / self.makemigrations.seconds


def _max_rss_mb(ru_maxrss: int) -> float:
    # Linux reports kilobytes, macOS bytes.
    return ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else ru_maxrss / 1024


def measure(command: Sequence[str], cwd: Path, env: dict[str, str]) -> Sample:
    """Run one subprocess; its wall time and peak RSS (with its children)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            list(command), cwd=cwd, env=env, stdout=out, stderr=err
        )
        if hasattr(os, "wait4"):
            _pid, status, usage = os.wait4(process.pid, 0)
            elapsed = time.perf_counter() - start
            process.returncode = os.waitstatus_to_exitcode(status)
            rss = _max_rss_mb(usage.ru_maxrss)
            cpu = usage.ru_utime + usage.ru_stime
        else:  # no per-child rusage on this platform
            process.wait()
            elapsed = time.perf_counter() - start
            rss = cpu = float("nan")
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if process.returncode != 0:
        raise BenchmarkError(
            f"`{' '.join(command)}` in {cwd} exited with {process.returncode}:\n"
            f"{stdout[-2000:]}\n{stderr[-4000:]}"
        )
    return Sample(elapsed, rss, stdout, cpu)


def project_env(database: Path, settings: str = SETTINGS_MODULE) -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = settings
    env["BENCH_DATABASE_PATH"] = str(database)
    env.pop("PYTHONPATH", None)
    # Cache bytecode as a developer checkout does: every timed run but the
    # first migrate then imports the migration files from __pycache__.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def manage(
    project: Path, database: Path, *arguments: str, settings: str = SETTINGS_MODULE
) -> Sample:
    return measure(
        [sys.executable, "manage.py", *arguments],
        project,
        project_env(database, settings),
    )


def count_migrations(project: Path) -> int:
    return sum(
        1
        for path in project.glob("*/migrations/*.py")
        if path.name != "__init__.py" and path.parent.parent.name != "bench_project"
    )


def copy_project(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.sqlite3"))


def run_size(
    apps: int,
    per_app: int,
    repeat: int,
    work: Path,
    seed: int,
    log: Callable[[str], None],
    migrate_repeat: int = 10,
    migrate_only: bool = False,
) -> Result:
    result = Result(apps, per_app)
    base = work / f"{apps}x{per_app}"
    project = base / "project"
    databases = base / "databases"
    databases.mkdir(parents=True)
    log(f"[{result.size}] generating")
    generated = measure(
        [
            sys.executable,
            str(GENERATE),
            "--apps",
            str(apps),
            "--migrations",
            str(per_app),
            "--seed",
            str(seed),
            "--out",
            str(project),
        ],
        HERE,
        dict(os.environ),
    )
    result.generate_s = generated.seconds
    result.before = count_migrations(project)

    # The first fresh migrate also makes the database every other run starts from.
    migrated = databases / "old-0.sqlite3"
    log(f"[{result.size}] migrate (old history) 1/{repeat}")
    result.migrate_old.samples.append(
        manage(project, migrated, "migrate", "--no-input", "-v0")
    )

    # What installing the app costs a migrate that has nothing to apply, on a
    # project that never remade. Interleaved, so that drift hits both alike.
    (project / "bench_project" / "settings_without_remake.py").write_text(
        WITHOUT_REMAKE
    )
    log(f"[{result.size}] migrate, nothing to apply, x{migrate_repeat} each")
    for _attempt in range(migrate_repeat):
        for series, settings in (
            (result.noop_without, SETTINGS_WITHOUT_REMAKE),
            (result.noop_with, SETTINGS_MODULE),
        ):
            sample = manage(project, migrated, "migrate", settings=settings)
            if "No migrations to apply." not in sample.stdout:
                raise BenchmarkError(f"migrate applied something:\n{sample.stdout}")
            series.samples.append(sample)
    if migrate_only:
        return result

    for attempt in range(repeat):
        log(f"[{result.size}] makemigrations / remake --dry-run {attempt + 1}/{repeat}")
        result.makemigrations.samples.append(
            manage(project, migrated, "makemigrations", "--check", "--dry-run")
        )
        result.dry_run.samples.append(
            manage(project, migrated, "remakemigrations", "--dry-run", "--no-input")
        )

    remade = base / "remade-0"
    for attempt in range(repeat):
        log(f"[{result.size}] remake (full run) {attempt + 1}/{repeat}")
        copy = base / f"remade-{attempt}"
        copy_project(project, copy)
        database = databases / f"remake-{attempt}.sqlite3"
        shutil.copyfile(migrated, database)
        result.full.samples.append(
            manage(copy, database, "remakemigrations", "--no-input")
        )
    result.after = count_migrations(remade)
    lines = [
        line
        for line in result.full.samples[0].stdout.splitlines()
        if line.startswith("Remade ")
    ]
    result.summary = lines[-1] if lines else ""
    if result.after >= result.before:
        raise BenchmarkError(f"the remake left {result.after} migrations in {remade}")

    for attempt in range(repeat):
        if attempt > 0:
            log(f"[{result.size}] migrate (old history) {attempt + 1}/{repeat}")
            database = databases / f"old-{attempt}.sqlite3"
            result.migrate_old.samples.append(
                manage(project, database, "migrate", "--no-input", "-v0")
            )
        log(f"[{result.size}] migrate (remade history) {attempt + 1}/{repeat}")
        database = databases / f"new-{attempt}.sqlite3"
        result.migrate_new.samples.append(
            manage(remade, database, "migrate", "--no-input", "-v0")
        )
    # The remade history must describe the same models.
    manage(
        remade, databases / "new-0.sqlite3", "makemigrations", "--check", "--dry-run"
    )
    return result


HEADER = (
    "| size (apps × migrations) | makemigrations s | remake --dry-run s | remake full s "
    "| ratio dry-run / makemigrations | peak RSS MB (makemigrations / dry-run / full) "
    "| fresh migrate old s | fresh migrate new s | migrations before → after |"
)


def table(results: Sequence[Result]) -> str:
    lines = [HEADER, "|" + "---|" * HEADER.count(" | ") + "---|"]
    for r in results:
        lines.append(
            f"| {r.size} | {r.makemigrations.seconds:.2f} | {r.dry_run.seconds:.2f} "
            f"| {r.full.seconds:.2f} | {r.ratio:.2f} "
            f"| {r.makemigrations.rss_mb:.0f} / {r.dry_run.rss_mb:.0f} / {r.full.rss_mb:.0f} "
            f"| {r.migrate_old.seconds:.2f} | {r.migrate_new.seconds:.2f} "
            f"| {r.before} → {r.after} |"
        )
    return "\n".join(lines)


MIGRATE_HEADER = (
    "| size (apps × migrations) | migrate without django_remake: wall s / CPU s "
    "| with django_remake: wall s / CPU s | difference: wall s / CPU s |"
)


def migrate_table(results: Sequence[Result]) -> str:
    """``migrate`` with nothing to apply, with and without the app installed."""
    lines = [MIGRATE_HEADER, "|" + "---|" * MIGRATE_HEADER.count(" | ") + "---|"]
    for r in results:
        without, with_ = r.noop_without, r.noop_with
        lines.append(
            f"| {r.size} | {without.seconds:.3f} / {without.cpu_seconds:.3f} "
            f"| {with_.seconds:.3f} / {with_.cpu_seconds:.3f} "
            f"| {with_.seconds - without.seconds:+.3f} / "
            f"{with_.cpu_seconds - without.cpu_seconds:+.3f} |"
        )
    return "\n".join(lines)


def samples(results: Sequence[Result]) -> str:
    """Every run's wall time, to judge the noise behind the medians."""
    lines = ["Raw samples (seconds, in run order):", ""]
    for r in results:
        series = {
            "migrate nothing to apply, without django_remake": r.noop_without,
            "with django_remake": r.noop_with,
            "makemigrations": r.makemigrations,
            "remake --dry-run": r.dry_run,
            "remake full": r.full,
            "fresh migrate old": r.migrate_old,
            "fresh migrate new": r.migrate_new,
        }
        shown = "; ".join(
            f"{name} {', '.join(f'{x.seconds:.2f}' for x in values.samples)}"
            for name, values in series.items()
            if values.samples
        )
        lines.append(f"- {r.size}: {shown}")
    return "\n".join(lines)


def environment() -> str:
    import django

    return (
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs; "
        "times (wall and CPU) are medians, RSS the maximum, of the repeats"
    )


def parse_sizes(text: str) -> list[tuple[int, int]]:
    sizes = []
    for part in text.split(","):
        try:
            apps, per_app = (int(x) for x in part.lower().split("x"))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"size {part!r} is not APPSxMIGRATIONS"
            ) from None
        sizes.append((apps, per_app))
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=parse_sizes(DEFAULT_SIZES),
        help=f"comma-separated APPSxMIGRATIONS (default {DEFAULT_SIZES})",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per timing (default 3)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="generator seed (default 0)"
    )
    parser.add_argument(
        "--migrate-repeat",
        type=int,
        default=10,
        help="runs of migrate (nothing to apply) with and without django_remake "
        "(default 10 each)",
    )
    parser.add_argument(
        "--migrate-only",
        action="store_true",
        help="measure only migrate (nothing to apply) with and without django_remake",
    )
    parser.add_argument("--output", type=Path, help="also write the table to this file")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the generated projects (path is printed)",
    )
    args = parser.parse_args(argv)
    for module in ("django", "django_remake"):
        if importlib.util.find_spec(module) is None:
            parser.error(
                f"{module} is not importable by {sys.executable}; install it first"
            )

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    work = Path(tempfile.mkdtemp(prefix="remake-bench-"))
    results: list[Result] = []
    started = time.perf_counter()
    try:
        for apps, per_app in args.sizes:
            result = run_size(
                apps,
                per_app,
                args.repeat,
                work,
                args.seed,
                log,
                migrate_repeat=args.migrate_repeat,
                migrate_only=args.migrate_only,
            )
            if result.summary:
                log(f"[{result.size}] {result.summary}")
            results.append(result)
    finally:
        if args.keep:
            log(f"projects kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - started
    tables = [migrate_table(results)]
    if not args.migrate_only:
        tables.insert(0, table(results))
    text = (
        "\n\n".join(tables)
        + f"\n\n{environment()}; total {elapsed:.0f} s.\n\n{samples(results)}\n"
    )
    print(text)
    if args.output:
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
