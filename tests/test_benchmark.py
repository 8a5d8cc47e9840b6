"""The speed benchmark (benchmarks/speed.py) still runs: a few seconds on the
tiny preset, so that it cannot rot between the long runs of docs/speed.md.

The benchmark itself is not part of the suite; see benchmarks/README.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .benchmark_projects import ROOT, speed_module


def test_tiny_preset_generates_once_and_renders_the_tables(tmp_path: Path) -> None:
    speed = speed_module()
    cache = tmp_path / "cache"
    apps, per_app = speed.PRESETS["tiny"]
    source = speed.generated(apps, per_app, 0, cache, print)
    manage_py = source / "manage.py"
    written = manage_py.stat().st_mtime_ns
    # Cached: the same parameters give the same project, not a new one.
    assert speed.generated(apps, per_app, 0, cache, print) == source
    assert manage_py.stat().st_mtime_ns == written
    assert speed.cache_key(apps, per_app, 1) != speed.cache_key(apps, per_app, 0)

    project = speed.prepared_copy(source, tmp_path / "old")
    database = speed.Database("sqlite", str(tmp_path / "db.sqlite3"))
    counted = speed.count_operations(project, database)
    assert counted["files"] == apps * per_app
    assert counted["operations"]["CreateModel"] == counted["models"] > 0

    result = speed.Result("tiny", apps, per_app, counted["files"], counted["models"])
    result.operations["old history"] = counted["operations"]
    result.files["old history"] = counted["files"]
    options = speed.Options(repeat=1)
    floor = speed.repeat(
        options,
        "floor",
        lambda: speed.manage(
            project,
            database,
            *("migrate", "--run-syncdb", "--no-input", "-v0"),
            variant="floor",
        ),
        prepare=lambda _attempt: database.create(),
    )
    assert len(floor.finished) == 1 and floor.cpu is not None and floor.cpu > 0
    # The floor built the tables without recording a migration.
    sample, out = speed.manage(project, database, "showmigrations", "accounts")
    assert "[ ] 0001_initial" in out
    slower = speed.Figure(
        [speed.Sample(s.wall * 2, s.cpu * 3, 50, 1.0) for s in floor.samples]
    )
    result.migrate["sqlite"] = {
        "floor": floor,
        "fast": slower,
        "executor": speed.Figure(skipped="skipped"),
    }
    stopped, _out = speed.run(
        [sys.executable, "-c", "import time; time.sleep(30)"], tmp_path, {}, timeout=0.3
    )
    assert stopped.stopped and stopped.wall < 10
    result.migrate["sqlite"]["old"] = speed.Figure([stopped])

    text = speed.tables([result])
    assert (
        "| tiny: 6 migrations, 7 models | sqlite | > 0 wall (stopped) | skipped |"
        in text
    )
    assert "| 3.00× |" in text  # (c)/(d): three times the floor's CPU
    assert f"| CreateModel | {counted['models']} |" in text
    json.dumps(result.summary())

    docs = tmp_path / "speed.md"
    docs.write_text((ROOT / "docs" / "speed.md").read_text())
    speed.update_docs(docs, text)
    updated = docs.read_text()
    assert text in updated
    assert updated.count(speed.BEGIN) == updated.count(speed.END) == 1


def test_tables_from_the_log_of_a_run_that_did_not_finish() -> None:
    speed = speed_module()
    lines = [
        "[tiny] 6 first-party migrations, 7 models",
        speed._sample_line(
            "[tiny] sqlite: fresh migrate, floor", speed.Sample(3, 1, 50, 2)
        ),
        speed._sample_line(
            "[tiny] sqlite: fresh migrate, fast", speed.Sample(4, 1.5, 60, 2)
        ),
        speed._sample_line(
            "[tiny] sqlite: fresh migrate, fast", speed.Sample(5, 2.5, 60, 2)
        ),
        speed._sample_line("[tiny] remakemigrations", speed.Sample(9, 3, 70, 2)),
        speed._sample_line(
            "[tiny] migrate, nothing to apply, with_app", speed.Sample(1, 0.5, 40, 2)
        ),
        '[tiny] facts {"operations": {"old history": {"CreateModel": 7}}, '
        '"files": {"old history": 6}, "in_process": "", "fast_notes": "", '
        '"remade_from": ""}',
    ]
    [result] = speed.from_log(lines)
    assert (result.first_party_migrations, result.models) == (6, 7)
    assert result.ratios("sqlite")["fast/floor"] == 2.0  # median 2.0 over 1.0
    assert result.remade_from == "remakemigrations --no-input"
    assert result.noop["with_app"].cpu == 0.5
    assert "| CreateModel | 7 |" in speed.tables([result])

    # Logs of several runs: the migrate rows of one were measured on a history
    # remade with --drop-data-migrations; another's full remake does not
    # rename it.
    dropped = (
        "[tiny] remakemigrations --no-input --no-verify-schema "
        "--drop-data-migrations (the full run was skipped)"
    )
    [result] = speed.from_log([dropped, *lines])
    assert result.remade_from == dropped.partition("] ")[2]
