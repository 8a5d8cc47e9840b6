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
class Setting:
    """One ``REMAKE_MIGRATIONS_*`` setting, as the documentation shows it.

    :data:`SETTINGS` is the one source of truth for names, defaults and
    meanings: :func:`load` takes its defaults from there, and the docs' settings
    reference is generated from it (``docs/hooks.py``).
    """

    name: str  # without the prefix
    kind: str  # the type a user writes, in words
    default: Any
    help: str  # Markdown; one paragraph


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "INCLUDE_APPS",
        "list of app labels",
        None,
        "Remake exactly these apps, instead of the first-party apps found under "
        "the project directory. `None` means: find them.",
    ),
    Setting(
        "EXCLUDE_APPS",
        "list of app labels",
        (),
        "Never remake these apps. Their migrations that name an old migration of "
        "a remade app are pointed at the new migration that replaces it.",
    ),
    Setting(
        "FIRST_APPS",
        "list of app labels",
        (),
        "When the dependency order leaves a choice, put these apps' new "
        "migrations first.",
    ),
    Setting(
        "LAST_APPS",
        "list of app labels",
        (),
        "When the dependency order leaves a choice, put these apps' new "
        "migrations last.",
    ),
    Setting(
        "POST_COMMANDS",
        "list of commands, each a list of strings",
        (),
        "Management commands to run after the new files are in place and "
        "verified, each in a fresh process so that it sees the new files, e.g. "
        '`[["create_max_migration_files", "--recreate"]]`. A failing command '
        "stops with an error; the verified new files stay.",
    ),
    Setting(
        "EXTENSIONS",
        "dict: app label → list of dotted operation classes",
        {},
        "Operations (typically PostgreSQL extensions, e.g. "
        '`"django.contrib.postgres.operations.TrigramExtension"`) put at the '
        "start of that app's first new migration. Rarely needed: the old "
        "history's extensions and collations are carried automatically.",
    ),
    Setting(
        "RUN_BEFORE",
        "dict: app label → list of `(app_label, migration_name)`",
        {},
        "`run_before` of that app's first new migration, e.g. to run before a "
        "third-party migration that needs your tables. Hand-written `run_before` "
        "of old migrations is kept without it.",
    ),
    Setting(
        "KEEP_OPERATIONS",
        "list of patterns",
        (),
        "Old operations to carry even if they changed nothing on a new database: "
        '`"app.migration"`, `"app.migration #N"` (as the plan lists them) or a '
        "function name. For an operation that changes the models' state, its "
        "database part is carried. `--keep-operation` adds to it.",
    ),
    Setting(
        "DROP_OPERATIONS",
        "list of patterns",
        (),
        "Old operations never to carry (same patterns). New databases then differ "
        "where they acted, and the proof lists that as expected. "
        "`--drop-operation` adds to it.",
    ),
    Setting(
        "FAST_MIGRATE",
        "bool",
        True,
        "`migrate` applies runs of remade migrations to a database that has none "
        "of them at once, from the final state, instead of one operation at a "
        "time. `False` leaves every migration to Django's executor.",
    ),
    Setting(
        "REPLACES_ALL",
        "bool",
        False,
        "Accepted for compatibility with django-remake-migrations; no effect "
        "(system check `django_remake.W001` warns). django-remake computes "
        "`replaces` itself: overlapping replaced sets would make a half-migrated "
        "new database skip migrations.",
    ),
    Setting(
        "REPLACE_OTHER_APP",
        "dict: app label → list of app labels",
        {},
        "Accepted for compatibility; no effect (`django_remake.W001` warns), for "
        "the same reason.",
    ),
)

DEFAULTS: dict[str, Any] = {setting.name: setting.default for setting in SETTINGS}


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


def _raw(name: str) -> Any:
    return getattr(settings, PREFIX + name, DEFAULTS[name])


def fast_migrate() -> bool:
    """``REMAKE_MIGRATIONS_FAST_MIGRATE``, read on every call (tests override it)."""
    return bool(_raw("FAST_MIGRATE"))


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


def _labels(name: str) -> tuple[str, ...]:
    value = _raw(name)
    if not _is_str_seq(value):
        raise _fail(name, "a list of app labels (strings)", value)
    return tuple(value)


def _operations(name: str) -> tuple[str, ...]:
    value = _raw(name)
    if not _is_str_seq(value):
        raise _fail(
            name,
            "a list of strings ('app.migration', 'app.migration #N' or a function name)",
            value,
        )
    return tuple(value)


def _label_map(name: str, expected: str) -> dict[str, tuple[str, ...]]:
    value = _raw(name)
    if not isinstance(value, Mapping) or not all(
        isinstance(key, str) and _is_str_seq(items) for key, items in value.items()
    ):
        raise _fail(name, expected, value)
    return {key: tuple(items) for key, items in value.items()}


def _commands() -> tuple[tuple[str, ...], ...]:
    value = _raw("POST_COMMANDS")
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
    value = _raw("RUN_BEFORE")
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
    include = _raw("INCLUDE_APPS")
    replaces_all = _raw("REPLACES_ALL")
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
