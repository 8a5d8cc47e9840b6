"""Child side of :mod:`django_remake.prune`: Django's ``migrate APP --prune``.

Run in a fresh process, so that the loader sees the remade migrations without
``replaces`` (Django refuses to prune rows that a ``replaces`` still names).
"""

from __future__ import annotations

import io
import json
import sys
from typing import Any

from . import serve


def prune(argv: list[str]) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    done = []
    for alias, app_label in json.loads(argv[0]):
        recorder = MigrationRecorder(connections[alias])
        before = set(recorder.applied_migrations())
        out = io.StringIO()
        call_command(
            "migrate",
            app_label,
            prune=True,
            database=alias,
            interactive=False,
            no_color=True,
            stdout=out,
        )
        rows = sorted(before - set(recorder.applied_migrations()))
        refused = "Cannot use --prune" in out.getvalue()
        done.append(
            {
                "alias": alias,
                "app_label": app_label,
                "rows": rows,
                "skipped": (
                    " ".join(out.getvalue().split("Pruning migrations:")[-1].split())
                    if refused
                    else None
                ),
            }
        )
    return {"done": done}


if __name__ == "__main__":
    sys.exit(serve(prune))
