"""django-remake: a fresh, minimal migration history that old databases accept."""

from __future__ import annotations

__version__ = "0.1.0"
