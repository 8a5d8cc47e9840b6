"""System checks: settings that have no effect, and half-deployed remakes."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Warning, register

from . import conf


@register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Validate the settings early, and flag the ones django-remake ignores."""
    loaded = conf.load()
    messages: list[CheckMessage] = []
    if loaded.replaces_all or loaded.replace_other_app:
        messages.append(
            Warning(
                "REMAKE_MIGRATIONS_REPLACES_ALL and REMAKE_MIGRATIONS_REPLACE_OTHER_APP "
                "have no effect.",
                hint="django-remake computes `replaces` so that fresh, fully "
                "migrated and part-way databases all work; remove these settings.",
                id="django_remake.W001",
            )
        )
    return messages
