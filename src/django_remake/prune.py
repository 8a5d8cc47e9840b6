"""``delete_remaked_migrations --prune``: Django's ``migrate APP --prune``, run for the user.

Once the replaced files are gone, their rows stay in every database's
``django_migrations`` until ``migrate APP --prune`` removes them, one app and
one database at a time. :func:`targets` reads which rows that would remove
(the rows of an app whose file is not on disk, as Django decides); :func:`run`
runs Django's command for each, in a fresh process
(:mod:`django_remake.children.prune`) that sees the files as they are now.

``migrate APP --prune`` only deletes rows: it returns before applying any
migration. Where a ``replaces`` still names a row to prune (an app not
cleaned up yet), Django refuses, and that refusal is reported.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.db import connections

from . import children
from .errors import RemakeError
from .partway import recorded
from .project import migration_files
from .text import plural

Key = tuple[str, str]


@dataclass(frozen=True)
class Target:
    """``migrate APP --prune --database ALIAS`` would remove these rows."""

    alias: str
    app_label: str
    rows: tuple[Key, ...]

    @property
    def command(self) -> str:
        return (
            f"python manage.py migrate {self.app_label} --prune --database {self.alias}"
        )


@dataclass(frozen=True)
class Pruned:
    """What Django's command did for one app on one database."""

    alias: str
    app_label: str
    rows: tuple[Key, ...] = ()
    #: why nothing was pruned there (``None``: it ran)
    skipped: str | None = None


def targets(
    directories: Mapping[str, Path], leaving: Iterable[Path] = ()
) -> list[Target]:
    """For every database alias with a migration history, the rows of these
    apps that name no file on disk (once ``leaving`` is deleted)."""
    gone = set(leaving)
    on_disk = {
        label: {path.stem for path in migration_files(folder) if path not in gone}
        for label, folder in directories.items()
    }
    found = []
    for alias in connections:
        applied = recorded(alias).applied
        if applied is None:
            continue  # no history; unreachable: the clean-up's check names it
        for label, names in on_disk.items():
            rows = tuple(
                sorted(k for k in applied if k[0] == label and k[1] not in names)
            )
            if rows:
                found.append(Target(alias, label, rows))
    return found


def question(found: Iterable[Target]) -> str:
    found = list(found)
    rows = sum(len(target.rows) for target in found)
    apps = sorted({target.app_label for target in found})
    aliases = sorted({target.alias for target in found})
    return (
        f"Run 'migrate APP --prune' for {', '.join(apps)} on "
        f"{', '.join(repr(a) for a in aliases)}, removing "
        f"{plural(rows, 'row')} from django_migrations? [y/N] "
    )


def run(found: Iterable[Target]) -> list[Pruned]:
    """Run Django's ``migrate APP --prune`` for each target, in a fresh process."""
    pairs = [[target.alias, target.app_label] for target in found]
    if not pairs:
        return []
    try:
        answer = children.run("prune", json.dumps(pairs))
    except children.ChildError as exc:
        raise RemakeError(
            f"Pruning stopped: {exc.detail}. The clean-up itself is complete; run "
            "the 'migrate APP --prune' commands by hand."
        ) from exc
    return [
        Pruned(
            alias=item["alias"],
            app_label=item["app_label"],
            rows=tuple((str(a), str(n)) for a, n in item["rows"]),
            skipped=item["skipped"],
        )
        for item in answer["done"]
    ]
