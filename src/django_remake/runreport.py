"""The run's report for a pull request: data first, then Markdown or JSON.

:func:`build_report` turns what a remake planned (and, after the write, what
it proved) into plain data: the dictionary that ``--report-format json``
writes, whose keys are documented in ``docs/report.md`` (bump
:data:`VERSION` when one changes meaning or goes away). :func:`markdown`
renders that same dictionary for a pull request description. Nothing here
prints or writes a file; the command writes the text where the user asked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import django

from . import __version__
from .carry import CARRY, DROP
from .snapshot import Key
from .text import plural

if TYPE_CHECKING:
    from .remake import Prepared, Result

#: the version of the report's schema (docs/report.md)
VERSION = 1

FATES = {CARRY: "carried", DROP: "dropped"}  # anything else: "re-created"


def _name(key: Key) -> str:
    return f"settings.{key[1]}" if key[0] == "__setting__" else f"{key[0]}.{key[1]}"


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def build_report(prepared: Prepared, result: Result | None = None) -> dict[str, Any]:
    """The report of a run: planned only (``result`` is None, a dry run), or
    remade and proven."""
    plan, snap, options = prepared.plan, prepared.snapshot, prepared.options
    root = prepared.root
    old_operations: dict[str, int] = {}
    for key in snap.old_nodes():
        count = len(snap.migration(key).operations)
        old_operations[key[0]] = old_operations.get(key[0], 0) + count
    apps: dict[str, dict[str, Any]] = {}
    for item in plan.new:
        label = item.migration.app_label
        app = apps.setdefault(
            label,
            {
                "label": label,
                "migrations_before": plan.old_per_app.get(label, 0),
                "operations_before": old_operations.get(label, 0),
                "migrations_after": 0,
                "operations_after": 0,
            },
        )
        app["migrations_after"] += 1
        app["operations_after"] += len(item.migration.operations)
    migrations = [
        {
            "app": item.migration.app_label,
            "name": item.migration.name,
            "path": _relative(item.path, root),
            "replaces": [_name(key) for key in item.replaced_nodes],
            "dependencies": sorted(_name(dep) for dep in item.migration.dependencies),
            "operations": len(item.migration.operations),
        }
        for item in plan.new
    ]
    fates = []
    for fate in plan.fates:
        old = fate.old
        target = plan.placements.get(old.key) if fate.action == CARRY else None
        fates.append(
            {
                "migration": f"{old.key[0]}.{old.key[1]}",
                "index": old.key[2] + 1,
                "operation": old.class_name,
                "function": old.functions[0] if old.functions else None,
                "fate": FATES.get(fate.action, "re-created"),
                "into": _name(target) if target else None,
                "reason": fate.reason,
            }
        )
    edited = [
        {
            "migration": _name(edit.migration),
            "path": _relative(edit.path, root),
            "renames": [{"from": _name(a), "to": _name(b)} for a, b in edit.renames],
        }
        for edit in plan.rewrites
    ]
    return {
        "version": VERSION,
        "tool": f"django-remake {__version__}",
        "django": django.get_version(),
        "status": "planned" if result is None else "remade",
        "options": {
            "keep_old_migrations": plan.keep_old,
            "verify_schema": options.verify_schema,
            "skip_db_check": options.skip_db_check,
            "drop_data_migrations": options.drop_data_migrations,
        },
        "totals": {
            "apps": prepared.app_count,
            "migrations_before": plan.old_count,
            "operations_before": plan.old_operation_count,
            "migrations_after": len(plan.new),
            "operations_after": plan.new_operation_count,
        },
        "apps": list(apps.values()),
        "migrations": migrations,
        "old_operations": fates,
        "edited_migrations": edited,
        "deleted_files": [_relative(path, root) for path in plan.delete],
        "verified": list(result.verified) if result else [],
        "expected_differences": list(result.requested) if result else [],
        "leftovers": list(result.leftovers) if result else [],
        "next_steps": _next_steps(prepared, result is not None),
    }


def _next_steps(prepared: Prepared, remade: bool) -> list[str]:
    keep_old = prepared.plan.keep_old
    steps = []
    if not remade:
        steps.append(
            "Make sure every database is fully migrated, then run `python manage.py "
            "remakemigrations` without `--dry-run`."
        )
    if prepared.options.skip_db_check:
        steps.append(
            "The databases were not checked (`--skip-db-check`): make sure every "
            "environment is fully migrated with the current code before deploying."
        )
    steps.append(
        "Review the new migrations and the old operations listed above; add by hand "
        "what new databases need and the remake did not carry."
    )
    steps.append(
        "Deploy, and run `python manage.py migrate` on every database: a fully "
        "migrated database applies nothing and records the new names, a new "
        "database runs only the new history."
    )
    if keep_old:
        steps.append(
            "A database part-way through the old history: its `migrate` first "
            "applies the old migrations it lacks (the old files are kept), then "
            "records the remade ones."
        )
    else:
        steps.append(
            "A database part-way through the old history needs the old files: "
            "deploy the previous release there and run `migrate` first (the system "
            "check `django_remake.E001` names what is missing)."
        )
    steps.append(
        "Once every environment has run `migrate` with the new files: `python "
        "manage.py delete_remaked_migrations --remove-replaced`, then `python "
        "manage.py migrate APP --prune` for each app it names, on every database."
    )
    return steps


def to_json(report: Mapping[str, Any]) -> str:
    return json.dumps(report, indent=2) + "\n"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _code(names: Iterable[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def markdown(report: Mapping[str, Any]) -> str:
    """The report as Markdown, to paste into a pull request."""
    totals = report["totals"]
    out: list[str] = []
    planned = report["status"] == "planned"
    title = "Migrations remade" if not planned else "Migrations remake plan"
    out.append(f"## {title} with django-remake")
    out.append("")
    counts = (
        f"{plural(totals['apps'], 'app')}: "
        f"{plural(totals['migrations_before'], 'migration')} with "
        f"{plural(totals['operations_before'], 'operation')} → "
        f"{plural(totals['migrations_after'], 'migration')} with "
        f"{plural(totals['operations_after'], 'operation')}."
    )
    if planned:
        out.append(f"Dry run, nothing was written. Planned for {counts}")
    else:
        out.append(f"Remade {counts}")
    out.append(f"<sub>{report['tool']}, Django {report['django']}</sub>")
    out.append("")
    out.append("| app | migrations before | after | operations before | after |")
    out.append("| --- | ---: | ---: | ---: | ---: |")
    for app in report["apps"]:
        out.append(
            f"| {_cell(app['label'])} | {app['migrations_before']} "
            f"| {app['migrations_after']} | {app['operations_before']} "
            f"| {app['operations_after']} |"
        )
    out.append(
        f"| **total** | **{totals['migrations_before']}** "
        f"| **{totals['migrations_after']}** | **{totals['operations_before']}** "
        f"| **{totals['operations_after']}** |"
    )
    out.append("")
    out.append("### New migrations")
    out.append("")
    for item in report["migrations"]:
        replaced = item["replaces"]
        line = f"- `{item['path']}` ({plural(item['operations'], 'operation')})"
        line += f" replaces {len(replaced)}: {_code(replaced)}"
        outside = [
            d for d in item["dependencies"] if not d.startswith(item["app"] + ".")
        ]
        if outside:
            line += f"; depends on {_code(outside)}"
        out.append(line)
    out.append("")
    out.append("### Old operations the models cannot re-create")
    out.append("")
    if not report["old_operations"]:
        out.append("None: every old operation is re-created from the models.")
    else:
        out.append("| operation | fate | why |")
        out.append("| --- | --- | --- |")
        for op in report["old_operations"]:
            what = f"`{op['migration']}` #{op['index']} {op['operation']}"
            if op["function"]:
                what += f" (`{op['function'].rsplit('.', 1)[-1]}`)"
            fate = op["fate"]
            if op["into"]:
                fate += f" into `{op['into']}`"
            out.append(f"| {_cell(what)} | {_cell(fate)} | {_cell(op['reason'])} |")
    out.append("")
    if report["edited_migrations"]:
        out.append("### Migrations of other apps edited")
        out.append("")
        for edit in report["edited_migrations"]:
            renames = ", ".join(f"`{r['from']}` → `{r['to']}`" for r in edit["renames"])
            out.append(f"- `{edit['path']}`: {renames}")
        out.append("")
    deleted = report["deleted_files"]
    if report["options"]["keep_old_migrations"]:
        out.append("The old migration files are kept (`--keep-old-migrations`).")
        out.append("")
    elif deleted:
        verb = "to delete" if planned else "deleted"
        out.append("<details>")
        out.append(f"<summary>Old migration files {verb}: {len(deleted)}</summary>")
        out.append("")
        out.extend(f"- `{path}`" for path in deleted)
        out.append("")
        out.append("</details>")
        out.append("")
    out.append("### Verified")
    out.append("")
    if report["verified"]:
        out.extend(f"- {line}" for line in report["verified"])
    elif planned:
        out.append("Nothing yet: a dry run writes and verifies nothing.")
    else:
        out.append("Nothing.")
    if not report["options"]["verify_schema"] or report["options"]["skip_db_check"]:
        out.append(
            "- The old and the new history were **not** built and compared on new "
            "databases (`--no-verify-schema` or `--skip-db-check`)."
        )
    out.append("")
    if report["expected_differences"]:
        out.append("### Differences asked for (operations dropped on purpose)")
        out.append("")
        out.extend(f"- {line}" for line in report["expected_differences"])
        out.append("")
    if report["leftovers"]:
        out.append("### Left in existing databases by the old history")
        out.append("")
        out.append(
            "Existing databases keep these; new ones rightly do not get them (the "
            "models do not describe them):"
        )
        out.append("")
        out.extend(f"- {line}" for line in report["leftovers"])
        out.append("")
    out.append("### Next steps")
    out.append("")
    out.extend(
        f"{number}. {text}" for number, text in enumerate(report["next_steps"], 1)
    )
    return "\n".join(out) + "\n"
