from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections

from django_remake.errors import RemakeError
from django_remake.partway import finish_old_history


class Command(DjangoMigrate):
    """Django's ``migrate``, which first finishes an old history left part-way.

    Only a plain ``migrate`` (no app label) on a database that has applied part
    of the history that remade migrations replace, with the old files still on
    disk (``remakemigrations --keep-old-migrations``), does anything extra.
    """

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["app_label"] and not options["plan"] and not options["fake"]:
            connection = connections[options["database"]]
            try:
                recorded = finish_old_history(connection, self._note)
            except RemakeError as exc:
                raise CommandError(str(exc)) from exc
            if recorded and options["verbosity"] >= 1:
                names = ", ".join(f"{a}.{n}" for a, n in recorded)
                self.stdout.write(
                    f"  Recorded the remade migrations as applied: {names}"
                )
        super().handle(*args, **options)

    def _note(self, text: str) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(text))
