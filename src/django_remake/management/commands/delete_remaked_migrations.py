from __future__ import annotations

import sys
from argparse import ArgumentParser
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ... import cleanup
from ... import prune as pruning
from ...errors import Recovered, RemakeError
from ...project import project_root
from ...remake import Progress


def _count(number: int, noun: str, plural: str = "") -> str:
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


class Command(BaseCommand):
    help = (
        "Finish a remake once every environment has applied the remade migrations: "
        "remove 'replaces' from each first-party migration named '*_remaked_*', "
        "keeping the rest of the file as it is, and optionally delete the old "
        "migration files they replaced."
    )
    # Django's system checks connect to MySQL/MariaDB (field checks ask for its
    # version): an unreachable database would be a traceback before handle()
    # can say which one it is. clean() checks every database itself.
    requires_system_checks: list[str] = []
    verbosity = 1
    interactive = True

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--app-label",
            metavar="APP_LABEL",
            help="Clean up only this first-party app's remade migrations.",
        )
        parser.add_argument(
            "--remove-replaced",
            action="store_true",
            help="Also delete the old migration files that 'replaces' named, "
            "in first-party apps only.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Show what would change without writing or deleting anything.",
        )
        parser.add_argument(
            "--prune",
            action="store_true",
            help="Then run Django's 'migrate APP --prune' for every app whose "
            "rows in django_migrations name deleted files, on every database, "
            "after confirmation.",
        )
        parser.add_argument(
            "--no-input",
            "--noinput",
            action="store_false",
            dest="interactive",
            help="Do not ask for confirmation before pruning.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Clean up even if a database has not recorded the remade "
            "migrations as applied.",
        )

    def handle(
        self,
        *args: Any,
        app_label: str | None,
        remove_replaced: bool,
        dry_run: bool,
        force: bool,
        prune: bool,
        interactive: bool,
        verbosity: int,
        **options: Any,
    ) -> None:
        self.verbosity, self.interactive = verbosity, interactive
        wanted = cleanup.Options(app_label, remove_replaced, dry_run, force, prune)
        try:
            result = cleanup.clean(wanted, self._progress, self._confirm_prune)
        except Recovered as exc:
            for line in exc.restored:
                self.stdout.write(f"  {line}")
            raise CommandError(str(exc)) from exc
        except RemakeError as exc:
            raise CommandError(str(exc)) from exc
        self._report_files(result)
        if not result.plan.edits:
            self._say("No remade migrations have 'replaces'; nothing to do.")
        else:
            self._report_summary(result)
        self._report_prune(result)
        if result.mentions:
            self._say(
                "Code outside the migration folders names replaced migrations, "
                "which no longer exist; update it:",
                self.style.NOTICE,
            )
            root = project_root()
            for mention in result.mentions:
                self._say(f"  {mention.where(root)}: {mention.names()}")

    def _say(
        self, text: str, style: Callable[[str], str] | None = None, level: int = 1
    ) -> None:
        if self.verbosity >= level:
            self.stdout.write(style(text) if style else text)

    def _progress(self, event: Progress) -> None:
        if event.state == "warning":
            self._say(f"Warning: {event.message}", self.style.WARNING)

    def _report_files(self, result: cleanup.Result) -> None:
        plan, dry_run = result.plan, result.options.dry_run
        if dry_run and self.verbosity == 1 and plan.edits:
            # -v 2 lists every migration below; -v 1 names just the files.
            self._say("Files that would change:", self.style.MIGRATE_HEADING)
            for edit in plan.edits:
                self._say(f"  {cleanup.display(edit.path)}: remove replaces")
            for path in result.deleted:
                self._say(f"  {cleanup.display(path)}: delete")
            for retarget in plan.retargets:
                self._say(
                    f"  {cleanup.display(retarget.path)}: name the remade migrations"
                )
            for linear in plan.max_migrations:
                self._say(f"  {cleanup.display(linear.path)}: name {linear.name}")
        label = self.style.MIGRATE_LABEL
        self._say("Remade migrations:", self.style.MIGRATE_HEADING, level=2)
        verb = "would remove" if dry_run else "removed"
        for edit in plan.edits:
            entries = _count(len(edit.replaces), "entry", "entries")
            name = label(f"{edit.app_label}.{edit.name}")
            self._say(f"  {name}: {verb} replaces ({entries})", level=2)
        for app, migration in plan.unchanged:
            name = label(f"{app}.{migration}")
            self._say(f"  {name}: no replaces, left as it is", level=2)
        for retarget in plan.retargets:
            for old, new in retarget.renames:
                self._say(
                    f"  {label('.'.join(retarget.migration))}: {'.'.join(old)} -> "
                    f"{'.'.join(new)}",
                    level=2,
                )
        if not (result.options.remove_replaced and plan.replaced):
            return
        self._say("Replaced migrations:", self.style.MIGRATE_HEADING, level=2)
        verb = "would delete" if dry_run else "deleted"
        for item in plan.replaced:
            if item.path is not None:
                what = f"{verb} {cleanup.display(item.path)}"
            elif item.first_party:
                what = "already gone"
            else:
                what = f"kept, '{item.app_label}' is not a first-party app"
            self._say(f"  {label(f'{item.app_label}.{item.name}')}: {what}", level=2)

    def _report_summary(self, result: cleanup.Result) -> None:
        plan, options = result.plan, result.options
        counts = (
            f"{_count(len(plan.edits), 'migration')} in {_count(len(plan.apps), 'app')}"
        )
        files = _count(len(result.deleted), "replaced migration file")
        if options.dry_run:
            self._say(f"Would remove replaces from {counts}.", self.style.SUCCESS)
            if options.remove_replaced:
                self._say(f"Would delete {files}.", self.style.SUCCESS)
            return
        self._say(f"Removed replaces from {counts}.", self.style.SUCCESS)
        if options.remove_replaced:
            self._say(f"Deleted {files}.", self.style.SUCCESS)
        if plan.retargets:
            what = _count(len(plan.retargets), "migration")
            self._say(f"Pointed {what} at the remade migrations.", self.style.SUCCESS)
        pruned = sorted({item.app_label for item in plan.replaced if item.first_party})
        if pruned and not options.prune:
            # Django prunes one app at a time: `migrate --prune` needs an app label.
            self._say(
                "To remove the rows of the replaced migrations from django_migrations, "
                "run on every database:\n"
                + "\n".join(
                    f"  python manage.py migrate {label} --prune" for label in pruned
                ),
                self.style.NOTICE,
            )

    def _confirm_prune(self, found: list[pruning.Target]) -> bool:
        if not (self.interactive and sys.stdin.isatty()):
            return True
        try:
            answer = input(pruning.question(found))
        except (EOFError, KeyboardInterrupt):
            answer = ""
        return answer.strip().lower() in {"y", "yes"}

    def _report_prune(self, result: cleanup.Result) -> None:
        if not result.options.prune:
            return
        if not result.prune_targets:
            self._say(
                "No rows of django_migrations name a missing file; nothing to prune."
            )
        elif result.options.dry_run:
            self._say("Would run:", self.style.MIGRATE_HEADING)
            for target in result.prune_targets:
                rows = _count(len(target.rows), "row")
                self._say(f"  {target.command}  ({rows})")
        elif not result.pruned:
            self._say("Nothing was pruned. To prune later, run:")
            for target in result.prune_targets:
                self._say(f"  {target.command}")
        for done in result.pruned:
            where = f"'{done.app_label}' on '{done.alias}'"
            if done.skipped:
                self._say(f"Not pruned: {where}: {done.skipped}", self.style.WARNING)
            else:
                rows = _count(len(done.rows), "row")
                self._say(f"Pruned {rows} of {where}.", self.style.SUCCESS)
