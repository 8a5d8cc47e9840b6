"""Render the planned migrations to source text, the way ``makemigrations`` does.

Only text comes out of here; :mod:`django_remake.apply` is what touches disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db.migrations.writer import MigrationWriter

from .plan import Plan


@dataclass(frozen=True)
class RenderedFile:
    path: Path
    text: str


def render(plan: Plan, *, include_header: bool = True) -> list[RenderedFile]:
    return [
        RenderedFile(
            item.path, MigrationWriter(item.migration, include_header).as_string()
        )
        for item in plan.new
    ]
