"""Report: the plan and the result as lines of text, each with a style name.

The command turns the style names into ``self.style`` calls; nothing here prints.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from .plan import NewMigration, Plan
from .snapshot import Key
from .writer import RenderedFile

Line = tuple[str, str]  # (style name or "", text)


def _summarise(keys: list[Key]) -> str:
    if not keys:
        return "nothing"
    per_app = Counter(label for label, _name in keys)
    return ", ".join(f"{count} of '{label}'" for label, count in per_app.items())


def plan_lines(
    plan: Plan, root: Path, verbosity: int, files: list[RenderedFile] | None = None
) -> list[Line]:
    lines: list[Line] = [("MIGRATE_HEADING", "Remade migrations:")]
    by_app: dict[str, list[NewMigration]] = {}
    for item in plan.new:
        by_app.setdefault(item.migration.app_label, []).append(item)
    for label, items in by_app.items():
        old_count = plan.old_per_app.get(label, 0)
        lines.append(
            ("MIGRATE_LABEL", f"  {label}: {old_count} migrations -> {len(items)}")
        )
        for item in items:
            lines.extend(_migration_lines(item, root, verbosity))
    lines.extend(not_recreated_lines(plan))
    if plan.keep_old:
        lines.append(
            ("NOTICE", "Old migration files are kept (--keep-old-migrations).")
        )
    else:
        lines.append(("NOTICE", f"Old migration files to delete: {len(plan.delete)}"))
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


def summary_line(plan: Plan, apps: int, verified: list[str]) -> str:
    text = (
        f"Remade {apps} apps: {plan.old_count} migrations with "
        f"{plan.old_operation_count} operations -> {len(plan.new)} migrations "
        f"with {plan.new_operation_count} operations."
    )
    if verified:
        text += " Verified: " + "; ".join(verified) + "."
    return text


def not_recreated_lines(plan: Plan) -> list[Line]:
    """Name every old operation the new history does not repeat, and what to do."""
    if not plan.not_recreated:
        return []
    lines: list[Line] = [
        (
            "WARNING",
            f"{len(plan.not_recreated)} operations of the old history are not in the "
            "new one; new databases will not get their effect:",
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
            "NOTICE",
            "  Existing databases keep what these did. If new databases need it "
            "(seeded rows, extensions, SQL objects), copy the operations into a new "
            "migration after the remake.",
        )
    )
    return lines
