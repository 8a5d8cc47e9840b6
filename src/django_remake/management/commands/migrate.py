from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections

from django_remake import fastmigrate
from django_remake.errors import RemakeError
from django_remake.partway import (
    REMAKED,
    PartWay,
    disk_migrations,
    finish_old_history,
    one_reading,
)

# Options that leave ``migrate`` plain: anything else (an app label, a target,
# --check, --plan, --fake, --fake-initial, --run-syncdb, --prune, an option a
# later Django adds) makes it exactly Django's command.
PLAIN = {
    "database",
    "interactive",
    "verbosity",
    "skip_checks",
    "settings",
    "pythonpath",
    "traceback",
    "no_color",
    "force_color",
    "stdout",
    "stderr",
}


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


class Command(DjangoMigrate):
    """Django's ``migrate``, which first finishes an old history left part-way,
    and applies runs of remade migrations to a new database at once.

    Only a plain ``migrate`` on a database that has applied part of the history
    that remade migrations replace, with the old files still on disk
    (``remakemigrations --keep-old-migrations``), does anything extra before
    Django's command runs. Where remade migrations exist, Django's command runs
    with :class:`~django_remake.fastmigrate.FastExecutor`, which builds the
    same database faster (``REMAKE_MIGRATIONS_FAST_MIGRATE = False`` turns it
    off).
    """

    def execute(self, *args: Any, **options: Any) -> str | None:
        # The system check (run by execute) and handle() share one reading.
        with one_reading():
            return super().execute(*args, **options)

    def handle(self, *args: Any, **options: Any) -> None:
        if not any(value for key, value in options.items() if key not in PLAIN):
            self.verbosity = options["verbosity"]
            try:
                recorded = finish_old_history(
                    connections[options["database"]],
                    progress_callback=self.migration_progress_callback,
                    starting=self._starting,
                )
            except RemakeError as exc:
                raise CommandError(str(exc)) from exc
            if recorded and self.verbosity >= 1:
                self.stdout.write(
                    f"  Recorded {_count(len(recorded), 'remade migration')} as "
                    f"applied{':' if self.verbosity >= 2 else '.'}"
                )
                if self.verbosity >= 2:
                    for app_label, name in recorded:
                        self.stdout.write(f"    {app_label}.{name}")
        self.verbosity = options["verbosity"]
        handle = None
        if fastmigrate.enabled() and self._remade_on_disk():
            handle = fastmigrate.django_migrate_handle(
                fastmigrate.executor_class(self._fast_note)
            )
        if handle is None:
            super().handle(*args, **options)
        else:
            handle(self, *args, **options)

    @staticmethod
    def _remade_on_disk() -> bool:
        disk = disk_migrations()
        return disk is None or any(REMAKED in name for _label, name in disk.names)

    def _fast_note(self, text: str) -> None:
        if self.verbosity >= 2:
            self.stdout.write(text)

    def _starting(self, state: PartWay, count: int) -> None:
        if self.verbosity >= 1:
            self.stdout.write(
                self.style.MIGRATE_HEADING("Finishing the old history first:")
            )
            self.stdout.write(
                f"  Database '{state.alias}' is part-way through the migrations that "
                "the remade migrations replace: applying the "
                f"{_count(count, 'old migration')} it lacks."
            )
