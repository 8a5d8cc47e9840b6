"""Report: the plan and the result as lines of text, each with a style name.

The command turns the style names into ``self.style`` calls; nothing here prints.
What each verbosity shows:

- 1: a summary that fits a screen: one line per app (up to :data:`LIST_AT_V1`
  apps), the old operations the models cannot re-create (listed up to
  :data:`LIST_AT_V1`), and the totals;
- 2: also one line per new migration (its file, what it replaces, what it
  depends on in other apps) and every old file to delete;
- 3: also each new migration's operations, and on a dry run the files in full.

The Markdown and JSON report of ``--report`` is :mod:`django_remake.runreport`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from .carry import CARRY, DROP, RECREATE
from .plan import NewMigration, Plan
from .snapshot import Key
from .text import plural
from .writer import RenderedFile

if TYPE_CHECKING:
    from .remake import Result

Line = tuple[str, str]  # (style name or "", text)


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
    for number, (label, items) in enumerate(by_app.items()):
        if verbosity < 2 and number == LIST_AT_V1:
            rest = len(by_app) - number
            lines.append(
                ("", f"  ... and {plural(rest, 'more app')} (-v 2 lists them)")
            )
            break
        old_count = plan.old_per_app.get(label, 0)
        lines.append(
            (
                "MIGRATE_LABEL",
                f"  {label}: {plural(old_count, 'migration')} -> {len(items)}",
            )
        )
        if verbosity >= 2:
            for item in items:
                lines.extend(_migration_lines(item, root, verbosity))
    lines.extend(fate_lines(plan, verbosity))
    if plan.rewrites:
        lines.append(
            (
                "NOTICE",
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
    """One line per new migration; at ``-v 3`` its operations below it."""
    label = item.migration.app_label
    try:
        shown = item.path.relative_to(root)
    except ValueError:
        shown = item.path
    text = f"    {shown}: replaces {_summarise(item.replaced_nodes)}"
    deps = sorted(
        f"settings.{d[1]}" if d[0] == "__setting__" else f"{d[0]}.{d[1]}"
        for d in item.migration.dependencies
        if d[0] != label
    )
    if deps:
        text += f"; depends on {', '.join(deps)}"
    lines: list[Line] = [("", text)]
    if verbosity >= 3:
        for operation in item.migration.operations:
            lines.append(("", f"      - {operation.describe()}"))
    return lines


def result_lines(result: Result) -> list[Line]:
    """What the proof listed as information, and the summary."""
    lines: list[Line] = []
    if result.requested:
        lines.append(
            ("NOTICE", "New databases differ where operations were dropped as asked:")
        )
        lines.extend(("", f"  {line}") for line in result.requested)
    if result.leftovers:
        lines.append(
            (
                "MIGRATE_HEADING",
                "Left in existing databases by the old history, and rightly not in "
                "new ones (the models do not describe them):",
            )
        )
        lines.extend(("", f"  {line}") for line in result.leftovers)
    lines.append(("SUCCESS", summary_line(result)))
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


#: at -v 1, the operations are listed one by one up to this many
LIST_AT_V1 = 20


def fate_lines(plan: Plan, verbosity: int) -> list[Line]:
    """What happens to every old operation the models cannot re-create."""
    if not plan.fates:
        return []
    carried = [f for f in plan.fates if f.action == CARRY]
    dropped = [f for f in plan.fates if f.action == DROP]
    recreated = [f for f in plan.fates if f.action == RECREATE]
    counts = [
        f"{len(carried)} carried" if carried else "",
        f"{len(dropped)} dropped" if dropped else "",
        f"{len(recreated)} re-created from the models" if recreated else "",
    ]
    heading = (
        f"Old operations the models cannot re-create ({plural(len(plan.fates), 'operation')}): "
        + ", ".join(c for c in counts if c)
        + "."
    )
    lines: list[Line] = [("MIGRATE_HEADING", heading)]
    if verbosity < 2 and len(plan.fates) > LIST_AT_V1:
        lines.append(("", "  Run with -v 2 to list them."))
        return lines
    for fate in plan.fates:
        old = fate.old
        # The forward function names it; the reverse one adds nothing here.
        code = f" ({old.functions[0].rsplit('.', 1)[-1]})" if old.functions else ""
        if fate.action == CARRY:
            target = plan.placements.get(old.key)
            where = f"carried into {target[0]}.{target[1]}" if target else "carried"
            style = ""
        elif fate.action == DROP:
            where, style = "dropped", ""
        else:
            where, style = "re-created from the models", ""
        lines.append(
            (style, f"  {old.name} {old.class_name}{code}: {where}: {fate.reason}")
        )
    return lines
