"""Render the planned migrations to source text, the way ``makemigrations`` does.

Only text comes out of here; :mod:`django_remake.apply` is what touches disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db.migrations.migration import Migration
from django.db.migrations.writer import MigrationWriter

from .plan import Plan


@dataclass(frozen=True)
class RenderedFile:
    path: Path
    text: str
    #: run the project's formatters on it (not on a user's file that is edited)
    format: bool = True


def render_migration(migration: Migration, include_header: bool = True) -> str:
    text: str = MigrationWriter(migration, include_header).as_string()
    if migration.run_before and "\n    run_before = " not in text:
        # Django < 6.0 does not write run_before; put it where Django 6 does.
        value, _imports = MigrationWriter.serialize(migration.run_before)
        text = text.replace(
            "\n    initial = True\n",
            f"\n    initial = True\n\n    run_before = {value}\n",
            1,
        )
    return text


def render(plan: Plan, *, include_header: bool = True) -> list[RenderedFile]:
    """The new migrations, then the edited files of migrations not remade."""
    return [
        RenderedFile(item.path, render_migration(item.migration, include_header))
        for item in plan.new
    ] + [RenderedFile(edit.path, edit.new_text, format=False) for edit in plan.rewrites]
