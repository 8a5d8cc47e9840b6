"""Changing a ``Migration`` instance the autodetector made."""

from __future__ import annotations

from django.db.migrations.migration import Migration


def set_attributes(migration: Migration, **attributes: object) -> None:
    """Set attributes on a Migration instance.

    django-stubs declares them as class variables, but Django itself sets them
    on the autodetector's instances (see ``arrange_for_graph``), and so do we.
    """
    for name, value in attributes.items():
        setattr(migration, name, value)
