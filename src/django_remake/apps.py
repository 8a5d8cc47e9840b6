from __future__ import annotations

from django.apps import AppConfig


class RemakeConfig(AppConfig):
    name = "django_remake"
    verbose_name = "django-remake"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
