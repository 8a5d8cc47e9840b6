#!/usr/bin/env python
"""Profile ``remakemigrations --dry-run`` and ``makemigrations --check`` in-process.

Each command runs under cProfile in its own fresh process (``call_command``,
so without the system checks ``manage.py`` would add), on a project written by
``generate.py``. The database only needs the ``django_migrations`` rows, so it
is made with ``migrate --fake``. The report shows where the remake's time goes,
next to the same Django functions in ``makemigrations``.

Usage::

    python benchmarks/profile_remake.py --apps 40 --migrations 25
    python benchmarks/profile_remake.py --project /path/to/generated/project
"""

from __future__ import annotations

import argparse
import pstats
import shutil
import sys
import tempfile
from pathlib import Path

from speed import Database, manage, project_env, run, scratch_project

CHILD = """\
import cProfile, sys, time
import django
django.setup()
from django.core.management import call_command
which, out = sys.argv[1], sys.argv[2]
if which == "remake":
    call = lambda: call_command("remakemigrations", dry_run=True, interactive=False, verbosity=0)
else:
    call = lambda: call_command("makemigrations", check_changes=True, dry_run=True, verbosity=0)
profiler = cProfile.Profile()
start = time.perf_counter()
profiler.runcall(call)
print(time.perf_counter() - start)
profiler.dump_stats(out)
"""

#: (label, file suffix, function name): cumulative time over all calls
REMAKE_PARTS = [
    ("remakemigrations (whole command)", "remakemigrations.py", "handle"),
    (
        "  snapshot.load_graph: MigrationLoader",
        "django_remake/snapshot.py",
        "load_graph",
    ),
    (
        "  snapshot.check_databases",
        "django_remake/snapshot.py",
        "check_databases",
    ),
    ("  plan.pending_changes", "django_remake/plan.py", "pending_changes"),
    ("  plan.build_plan", "django_remake/plan.py", "build_plan"),
    (
        "    plan.first_party_free_state",
        "django_remake/plan.py",
        "first_party_free_state",
    ),
    (
        "    checkplan.check_new_history",
        "django_remake/checkplan.py",
        "check_new_history",
    ),
    (
        "    checkplan.check_replacement_graph",
        "django_remake/checkplan.py",
        "check_replacement_graph",
    ),
    (
        "    replaces.assign_replacements",
        "django_remake/replaces.py",
        "assign_replacements",
    ),
    ("    replaces.combined_order", "django_remake/replaces.py", "combined_order"),
    ("    carry.not_recreated", "django_remake/carry.py", "not_recreated"),
    ("    snapshot.old_nodes (all calls)", "django_remake/snapshot.py", "old_nodes"),
    ("  writer.render", "django_remake/writer.py", "render"),
]
DJANGO_PARTS = [
    ("MigrationLoader.build_graph", "django/db/migrations/loader.py", "build_graph"),
    ("MigrationGraph.make_state", "django/db/migrations/graph.py", "make_state"),
    (
        "  utils.get_references (in make_state)",
        "django/db/migrations/utils.py",
        "get_references",
    ),
    ("ProjectState.from_apps", "django/db/migrations/state.py", "from_apps"),
    (
        "MigrationAutodetector.changes",
        "django/db/migrations/autodetector.py",
        "changes",
    ),
    ("MigrationWriter.as_string", "django/db/migrations/writer.py", "as_string"),
]


def cumulative(stats: pstats.Stats, suffix: str, name: str) -> tuple[float, int]:
    total, calls = 0.0, 0
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, object]]
    raw = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, function), (
        _cc,
        ncalls,
        _tt,
        cumtime,
        _callers,
    ) in raw.items():
        if filename.replace("\\", "/").endswith(suffix) and function == name:
            total += cumtime
            calls += ncalls
    return total, calls


def profile(project: Path, database: Database, which: str, out: Path) -> float:
    _sample, stdout = run(
        [sys.executable, "-c", CHILD, which, str(out)], project, project_env(database)
    )
    return float(stdout.strip().splitlines()[-1])


def report(project: Path, database: Database, work: Path, top: int) -> str:
    remake_file, make_file = work / "remake.prof", work / "make.prof"
    # One unprofiled run first, so both profiles import from warm __pycache__.
    manage(project, database, "makemigrations", "--check", "--dry-run")
    remake_s = profile(project, database, "remake", remake_file)
    make_s = profile(project, database, "make", make_file)
    remake, make = pstats.Stats(str(remake_file)), pstats.Stats(str(make_file))
    lines = [
        f"In-process wall time under cProfile: remakemigrations --dry-run {remake_s:.2f} s, "
        f"makemigrations --check {make_s:.2f} s (ratio {remake_s / make_s:.2f}).",
        "",
        "| function (cumulative, all calls) | remake s | calls | makemigrations s | calls |",
        "|---|---|---|---|---|",
    ]
    for label, suffix, name in REMAKE_PARTS:
        seconds, calls = cumulative(remake, suffix, name)
        lines.append(f"| {label} | {seconds:.3f} | {calls} | | |")
    for label, suffix, name in DJANGO_PARTS:
        seconds, calls = cumulative(remake, suffix, name)
        m_seconds, m_calls = cumulative(make, suffix, name)
        lines.append(
            f"| Django {label} | {seconds:.3f} | {calls} | {m_seconds:.3f} | {m_calls} |"
        )
    lines += ["", f"Top {top} functions of the remake by own time:", "", "```"]
    entries = sorted(
        remake.stats.items(),  # type: ignore[attr-defined]
        key=lambda item: item[1][2],
        reverse=True,
    )[:top]
    for (filename, line, function), (_cc, ncalls, tottime, cumtime, _c) in entries:
        where = filename.split("site-packages/")[-1].split("/src/")[-1]
        lines.append(
            f"{tottime:7.3f} own {cumtime:7.3f} cum {ncalls:8d}x  {where}:{line}({function})"
        )
    lines.append("```")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=40)
    parser.add_argument("--migrations", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--project", type=Path, help="an already generated project (else one is made)"
    )
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--output", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="remake-profile-"))
    try:
        project = scratch_project(
            work, args.apps, args.migrations, args.seed, args.project
        )
        database = Database("sqlite", str(work / "fake.sqlite3"))
        manage(project, database, "migrate", "--fake", "--no-input", "-v0")
        text = report(project, database, work, args.top)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
