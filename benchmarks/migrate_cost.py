#!/usr/bin/env python
"""What installing ``django_remake`` adds to a ``migrate``, timed in-process.

The whole-process timings of ``migrate`` with nothing to apply (``speed.py``)
hide a few milliseconds in the noise of starting Python and Django. This times,
in CPU seconds (median of ``--repeat`` runs, in one warm process on a project
written by ``generate.py``), the two things that matter:

* ``partway.read_disk()``: the look at the migration folders that the system
  check and the ``migrate`` wrapper share, on a project that never remade;
* one ``MigrationLoader`` build with warm imports: the graph Django's own
  ``migrate`` builds, and what the app added twice per run before it learned
  to decide from the file names.

``speed.py`` runs ``CHILD`` for the in-process column of its table.

Usage::

    python benchmarks/migrate_cost.py --apps 40 --migrations 25
    python benchmarks/migrate_cost.py --project /path/to/generated/project
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from speed import Database, project_env, run, scratch_project

CHILD = """\
import statistics, sys, time
import django
django.setup()
from django.db.migrations.loader import MigrationLoader
from django_remake.partway import read_disk

repeat = int(sys.argv[1])
MigrationLoader(None)  # import every migration once, as migrate's own loader does

def cpu(call):
    samples = []
    for _ in range(repeat):
        start = time.process_time()
        call()
        samples.append(time.process_time() - start)
    return statistics.median(samples)

disk = read_disk()
assert disk is not None and not disk.remade, "the project must never have remade"
print(f"read_disk(), nothing remade: {cpu(read_disk) * 1000:.2f} ms CPU")
print(f"MigrationLoader(None), warm: {cpu(lambda: MigrationLoader(None)) * 1000:.1f} ms CPU")
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=40, help="apps (default 40)")
    parser.add_argument(
        "--migrations", type=int, default=25, help="migrations per app (default 25)"
    )
    parser.add_argument("--repeat", type=int, default=15, help="runs (default 15)")
    parser.add_argument("--project", type=Path, help="an already generated project")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="remake-migrate-cost-"))
    try:
        project = scratch_project(work, args.apps, args.migrations, 0, args.project)
        env = project_env(Database("sqlite", str(work / "unused.sqlite3")))
        env["PYTHONPATH"] = str(project)
        _sample, out = run(
            [sys.executable, "-c", CHILD, str(args.repeat)], project, env
        )
        print(out, end="")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
