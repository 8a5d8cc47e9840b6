"""The ``REMAKE_MIGRATIONS_*`` settings, read and checked in one place.

Every setting is optional. Names and meanings follow django-remake-migrations
where they are sound, so a project can switch tools without renaming anything;
``REPLACES_ALL`` and ``REPLACE_OTHER_APP`` are accepted but have no effect,
because django-remake computes ``replaces`` itself (see docs/replaces.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "REMAKE_MIGRATIONS_"


@dataclass(frozen=True)
class RemakeSettings:
    """The settings of one run, validated."""

    first_apps: tuple[str, ...] = ()
    last_apps: tuple[str, ...] = ()
    post_commands: tuple[tuple[str, ...], ...] = ()
    extensions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    run_before: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    include_apps: tuple[str, ...] | None = None
    exclude_apps: tuple[str, ...] = ()
    replaces_all: bool = False
    replace_other_app: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    keep_operations: tuple[str, ...] = ()
    drop_operations: tuple[str, ...] = ()


def _raw(name: str, default: Any) -> Any:
    return getattr(settings, PREFIX + name, default)


def _fail(name: str, expected: str, value: Any) -> ImproperlyConfigured:
    return ImproperlyConfigured(
        f"{PREFIX}{name} must be {expected}; got {value!r} ({type(value).__name__})."
    )


def _is_str_seq(value: Any) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and all(isinstance(item, str) for item in value)
    )


def _labels(name: str, default: Any = ()) -> tuple[str, ...]:
    value = _raw(name, default)
    if not _is_str_seq(value):
        raise _fail(name, "a list of app labels (strings)", value)
    return tuple(value)


def _operations(name: str) -> tuple[str, ...]:
    value = _raw(name, ())
    if not _is_str_seq(value):
        raise _fail(
            name,
            "a list of strings ('app.migration', 'app.migration #N' or a function name)",
            value,
        )
    return tuple(value)


def _label_map(name: str, expected: str) -> dict[str, tuple[str, ...]]:
    value = _raw(name, {})
    if not isinstance(value, Mapping) or not all(
        isinstance(key, str) and _is_str_seq(items) for key, items in value.items()
    ):
        raise _fail(name, expected, value)
    return {key: tuple(items) for key, items in value.items()}


def _commands() -> tuple[tuple[str, ...], ...]:
    value = _raw("POST_COMMANDS", ())
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise _fail(
            "POST_COMMANDS", "a list of commands, each a list of strings", value
        )
    commands = []
    for command in value:
        if not _is_str_seq(command) or not command:
            raise _fail(
                "POST_COMMANDS",
                "a list of commands, each a non-empty list of strings",
                value,
            )
        commands.append(tuple(command))
    return tuple(commands)


def _run_before() -> dict[str, tuple[tuple[str, str], ...]]:
    value = _raw("RUN_BEFORE", {})
    expected = "a dict of app label -> list of (app_label, migration_name) pairs"
    if not isinstance(value, Mapping):
        raise _fail("RUN_BEFORE", expected, value)
    result: dict[str, tuple[tuple[str, str], ...]] = {}
    for key, pairs in value.items():
        if (
            not isinstance(key, str)
            or not isinstance(pairs, Sequence)
            or isinstance(pairs, str)
        ):
            raise _fail("RUN_BEFORE", expected, value)
        checked = []
        for pair in pairs:
            if not (
                isinstance(pair, Sequence)
                and not isinstance(pair, str)
                and len(pair) == 2
                and all(isinstance(part, str) for part in pair)
            ):
                raise _fail("RUN_BEFORE", expected, value)
            checked.append((pair[0], pair[1]))
        result[key] = tuple(checked)
    return result


def load() -> RemakeSettings:
    """Read and validate every ``REMAKE_MIGRATIONS_*`` setting."""
    include = _raw("INCLUDE_APPS", None)
    replaces_all = _raw("REPLACES_ALL", False)
    if not isinstance(replaces_all, bool):
        raise _fail("REPLACES_ALL", "True or False", replaces_all)
    return RemakeSettings(
        first_apps=_labels("FIRST_APPS"),
        last_apps=_labels("LAST_APPS"),
        post_commands=_commands(),
        extensions=_label_map(
            "EXTENSIONS", "a dict of app label -> list of dotted operation class paths"
        ),
        run_before=_run_before(),
        include_apps=None if include is None else _labels("INCLUDE_APPS"),
        exclude_apps=_labels("EXCLUDE_APPS"),
        replaces_all=replaces_all,
        replace_other_app=_label_map(
            "REPLACE_OTHER_APP", "a dict of app label -> list of app labels"
        ),
        keep_operations=_operations("KEEP_OPERATIONS"),
        drop_operations=_operations("DROP_OPERATIONS"),
    )
