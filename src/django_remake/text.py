"""Small wording helpers shared by messages and the report."""

from __future__ import annotations


def plural(count: int, singular: str, plural_form: str = "") -> str:
    """``1 migration``, ``2 migrations``; irregular plurals are passed in."""
    return f"{count} {singular if count == 1 else plural_form or singular + 's'}"
