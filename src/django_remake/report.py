"""Report: the plan and the result as lines of text, each with a style name.

The command turns the style names into ``self.style`` calls; nothing here prints.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from .plan import NewMigration, Plan
from .snapshot import Key
from .writer import RenderedFile

if TYPE_CHECKING:
    from .remake import Result

Line = tuple[str, str]  # (style name or "", text)


def plural(count: int, singular: str, plural_form: str = "") -> str:
    """``1 migration``, ``2 migrations``; irregular plurals are passed in."""
    return f"{count} {singular if count == 1 else plural_form or singular + 's'}"


def _summarise(keys: list[Key]) -> str:
    if not keys:
        return "nothing"
    per_app = Counter(label for label, _name in keys)
    return ", ".join(f"{count} of '{label}'" for label, count in per_app.items())


def plan_lines(
    plan: Plan, root: Path, verbosity: int, files: list[RenderedFile] | None = None
) -> list[Line]:
    lines: list[Line] = [("MIGRATE_HEADING", "Planned migrations:")]
    by_app: dict[str, list[NewMigration]] = {}
    for item in plan.new:
        by_app.setdefault(item.migration.app_label, []).append(item)
    for label, items in by_app.items():
        old_count = plan.old_per_app.get(label, 0)
        lines.append(
            (
                "MIGRATE_LABEL",
                f"  {label}: {plural(old_count, 'migration')} -> {len(items)}",
            )
        )
        for item in items:
            lines.extend(_migration_lines(item, root, verbosity))
    lines.extend(not_recreated_lines(plan))
    if plan.rewrites:
        lines.append(
            (
                "",
                "Migrations of apps that are not remade will name the new "
                "migrations instead of the old ones:",
            )
        )
        for edit in plan.rewrites:
            for old, new in edit.renames:
                lines.append(
                    (
                        "",
                        f"  {edit.migration[0]}.{edit.migration[1]}: "
                        f"{old[0]}.{old[1]} -> {new[0]}.{new[1]}",
                    )
                )
    if plan.keep_old:
        lines.append(("", "Old migration files are kept (--keep-old-migrations)."))
    else:
        lines.append(("", f"Old migration files to delete: {len(plan.delete)}"))
        if verbosity >= 2:
            for path in plan.delete:
                lines.append(("", f"    {path}"))
    if verbosity >= 3 and files:
        for rendered in files:
            lines.append(("MIGRATE_HEADING", f"--- {rendered.path}"))
            lines.append(("", rendered.text))
    return lines


def _migration_lines(item: NewMigration, root: Path, verbosity: int) -> list[Line]:
    label = item.migration.app_label
    try:
        shown = item.path.relative_to(root)
    except ValueError:
        shown = item.path
    lines: list[Line] = [
        ("", f"    {shown}"),
        ("", f"      replaces {_summarise(item.replaced_nodes)}"),
    ]
    deps = sorted(
        f"settings.{d[1]}" if d[0] == "__setting__" else f"{d[0]}.{d[1]}"
        for d in item.migration.dependencies
        if d[0] != label
    )
    if deps:
        lines.append(("", f"      depends on {', '.join(deps)}"))
    if verbosity >= 2:
        for operation in item.migration.operations:
            lines.append(("", f"      - {operation.describe()}"))
    return lines


def summary_line(result: Result) -> str:
    plan = result.prepared.plan
    text = (
        f"Remade {plural(result.prepared.app_count, 'app')}: "
        f"{plural(plan.old_count, 'migration')} with "
        f"{plural(plan.old_operation_count, 'operation')} -> "
        f"{plural(len(plan.new), 'migration')} with "
        f"{plural(plan.new_operation_count, 'operation')}."
    )
    if result.verified:
        text += " Verified: " + "; ".join(result.verified) + "."
    return text


def confirmation_question(plan: Plan) -> str:
    new = plural(len(plan.new), "new migration")
    if plan.keep_old:
        return f"This will write {new}. Continue? [y/N] "
    old = plural(len(plan.delete), "file")
    edited = f", edit {plural(len(plan.rewrites), 'file')}," if plan.rewrites else ""
    return f"This will delete {old}{edited} and write {new}. Continue? [y/N] "


def not_recreated_lines(plan: Plan) -> list[Line]:
    """Name every old operation the new history does not repeat, and what to do."""
    if not plan.not_recreated:
        return []
    lines: list[Line] = [
        (
            "WARNING",
            f"{plural(len(plan.not_recreated), 'operation')} of the old history "
            f"{'is' if len(plan.not_recreated) == 1 else 'are'} not in the new one; "
            "new databases will not get their effect:",
        )
    ]
    for item in plan.not_recreated:
        note = " (elidable)" if item.elidable else ""
        lines.append(
            (
                "WARNING",
                f"  {item.migration[0]}.{item.migration[1]}: {item.kind}: {item.description}{note}",
            )
        )
    lines.append(
        (
            "WARNING",
            "  Existing databases keep what these did. If new databases need it "
            "(seeded rows, extensions, SQL objects), copy the operations into a new "
            "migration after the remake.",
        )
    )
    return lines
