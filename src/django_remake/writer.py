"""Render the planned migrations to source text, the way ``makemigrations`` does.

Only text comes out of here; :mod:`django_remake.apply` is what touches disk.

Operations carried from the old history may refer to code in old migration
modules, which the remake deletes. That code is copied into the new file (see
:mod:`django_remake.copycode` and docs/carry.md): while Django's
``MigrationWriter`` writes the file, such references are stand-ins that it
writes as ``<placeholder>.<key>``; afterwards the placeholders become the local
names and the copied code goes between the imports and ``class Migration``.
"""

from __future__ import annotations

import copy
import functools
import importlib
import sys
import types
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.db import migrations, models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.migration import Migration
from django.db.migrations.operations.base import Operation
from django.db.migrations.serializer import BaseSerializer
from django.db.migrations.writer import MigrationWriter
from django.utils.inspect import get_func_args

from .copycode import PLACEHOLDER, CodeCopier, import_bindings, replace_placeholders
from .errors import NotCarryable
from .plan import Plan
from .pysource import Refusal


@dataclass(frozen=True)
class RenderedFile:
    path: Path
    text: str
    #: run the project's formatters on it (not on a user's file that is edited)
    format: bool = True


class _LocalRef:
    """Stands for copied code in an operation's arguments while Django writes.

    Callable, because ``RunPython`` checks that its code is.
    """

    def __init__(self, key: str) -> None:
        self.key = key

    def __call__(self, *args: object, **kwargs: object) -> None:
        raise TypeError("a stand-in for copied code; it only exists to be written")


class _Rebuilt:
    """A deconstructible value (a field, a validator) whose arguments were replaced.

    Django's writer writes anything with ``deconstruct()`` as a call of its path.
    """

    def __init__(self, path: str, args: list[Any], kwargs: dict[str, Any]) -> None:
        self.path = path
        self.args = args
        self.kwargs = kwargs

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return self.path, self.args, self.kwargs


class _LocalRefSerializer(BaseSerializer):
    def serialize(self) -> tuple[str, set[str]]:
        return f"{PLACEHOLDER}.{self.value.key}", {f"import {PLACEHOLDER}"}


# Registered once, at import: Django's writer asks its serializer registry about
# every value it writes, and this type exists only inside render_migration().
MigrationWriter.register_serializer(_LocalRef, _LocalRefSerializer)


def migration_module_names(app_labels: Iterable[str] | None = None) -> frozenset[str]:
    """Every module inside the migrations packages of these apps (default: all).

    That is the migration files and any helper module beside them (``_utils.py``,
    subpackages), but not the package's ``__init__``. A new migration must not
    import from any of them; their code is copied instead.
    """
    labels = (
        list(app_labels)
        if app_labels is not None
        else [config.label for config in apps.get_app_configs()]
    )
    names: set[str] = set()
    for label in labels:
        package, _explicit = MigrationLoader.migrations_module(label)
        if package is None:
            continue
        try:
            module = importlib.import_module(package)
        except ImportError:
            continue
        for folder in getattr(module, "__path__", []):
            for path in Path(folder).rglob("*.py"):
                parts = path.relative_to(folder).with_suffix("").parts
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                if parts:
                    names.add(".".join((package, *parts)))
        names.update(name for name in sys.modules if name.startswith(f"{package}."))
    return frozenset(names)


def render_migration(
    migration: Migration,
    include_header: bool = True,
    *,
    migration_modules: Collection[str] | None = None,
) -> str:
    """The file Django's writer produces, plus the code copied from old migrations.

    ``migration_modules``: dotted names of the modules whose code must be copied
    rather than imported (default: :func:`migration_module_names` of every app).
    Raises :class:`NotCarryable` naming every operation whose code cannot be
    copied faithfully.
    """
    modules = (
        migration_module_names() if migration_modules is None else migration_modules
    )
    package, _explicit = MigrationLoader.migrations_module(migration.app_label)
    copier = CodeCopier(modules, target_package=package)
    problems: list[str] = []
    operations = []
    for index, operation in enumerate(migration.operations):
        try:
            operations.append(_Swapper(copier).operation(operation, ""))
        except _Unwritable as exc:
            problems.append(_problem(migration, index, operation, exc.detail, modules))
    if problems:
        raise NotCarryable(problems)
    written = copy.copy(migration)
    # django-stubs declares `operations` a class variable; Django sets it per instance.
    setattr(written, "operations", operations)  # noqa: B010
    text: str = MigrationWriter(written, include_header).as_string()
    if migration.run_before and "\n    run_before = " not in text:
        # Django < 6.0 does not write run_before; put it where Django 6 does.
        value, _imports = MigrationWriter.serialize(migration.run_before)
        text = text.replace(
            "\n    initial = True\n",
            f"\n    initial = True\n\n    run_before = {value}\n",
            1,
        )
    if copier.empty:
        return text
    try:
        code = copier.copy(import_bindings(text), set(text.splitlines()))
    except Refusal as refusal:
        raise NotCarryable(
            [
                f"The code copied into '{migration.app_label}.{migration.name}' "
                f"cannot be named without a clash: {refusal.predicate}. Move that "
                "code into a module of the app and use it from there in the old "
                "migration."
            ]
        ) from None
    text = replace_placeholders(text, code.names)
    head, marker, tail = text.partition("\n\nclass Migration(")
    # One blank line after Django's imports when ours follow, two before a definition.
    gap = "\n" if code.imports else "\n\n"
    text = f"{head}{gap}{code.block}{marker}{tail}"
    if code.future_annotations:
        text = _add_future_import(text)
    return text


def render(
    plan: Plan,
    *,
    include_header: bool = True,
    migration_modules: Collection[str] | None = None,
) -> list[RenderedFile]:
    """Every planned migration's file; one :class:`NotCarryable` lists all problems."""
    modules = (
        migration_module_names() if migration_modules is None else migration_modules
    )
    files = []
    problems: list[str] = []
    for item in plan.new:
        try:
            text = render_migration(
                item.migration, include_header, migration_modules=modules
            )
        except NotCarryable as exc:
            problems.extend(exc.problems)
            continue
        files.append(RenderedFile(item.path, text))
    if problems:
        raise NotCarryable(problems)
    # Then the edited files of migrations the remake does not replace.
    files += [
        RenderedFile(edit.path, edit.new_text, format=False) for edit in plan.rewrites
    ]
    return files


def _add_future_import(text: str) -> str:
    """Copied annotations were lazy in their module; keep them lazy here."""
    lines = text.splitlines(keepends=True)
    first = next(
        i for i, line in enumerate(lines) if line.startswith(("import ", "from "))
    )
    lines.insert(first, "from __future__ import annotations\n\n")
    return "".join(lines)


# -- replacing references to old migration modules with stand-ins ------------------


class _Unwritable(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class _Swapper:
    """Rebuild a value with every reference to copied code replaced by a stand-in.

    Values that need nothing are returned as they are (the same object), so the
    writer writes them exactly as it would without us.
    """

    def __init__(self, copier: CodeCopier) -> None:
        self.copier = copier

    def _copied(self, what: str, ask: Callable[[], str], subject: str) -> _LocalRef:
        try:
            return _LocalRef(ask())
        except Refusal as refusal:
            raise _Unwritable(f"{what} {subject}{refusal.predicate}") from None

    def value(self, value: Any, what: str, strict: bool = True) -> Any:
        """``strict``: also refuse lambdas and closures from other modules (which
        Django cannot write either), except inside fields and other
        deconstructible values, where Django's own error is left to speak."""
        copier = self.copier
        if isinstance(value, Operation):
            return self.operation(value, what)
        if isinstance(value, types.FunctionType):
            local = "<locals>" in value.__qualname__ or value.__name__ == "<lambda>"
            if (local and strict) or copier.is_migration_module(value.__module__):
                name = value.__name__ if local else value.__qualname__
                subject = "" if name == "<lambda>" else f"`{name}` "
                return self._copied(what, lambda: copier.function(value), subject)
            return value
        if isinstance(value, types.MethodType) and isinstance(value.__self__, type):
            owner = value.__self__
            if copier.is_migration_module(owner.__module__):
                ref = self._copied(
                    what, lambda: copier.klass(owner), f"`{owner.__qualname__}` "
                )
                return _LocalRef(f"{ref.key}.{value.__name__}")
            return value
        if isinstance(value, type):
            if (
                copier.is_migration_module(value.__module__)
                or "<locals>" in value.__qualname__
            ):
                return self._copied(
                    what, lambda: copier.klass(value), f"`{value.__qualname__}` "
                )
            return value
        if isinstance(value, functools.partial):
            func = self.value(
                value.func,
                f"the function that {what} wraps in functools.partial",
                strict,
            )
            given = f"an argument that {what} gives functools.partial"
            args = self.sequence(list(value.args), given, strict)
            keywords = self.mapping(value.keywords, given, strict)
            same = all(a is b for a, b in zip(args, value.args, strict=True))
            if func is value.func and same and keywords is value.keywords:
                return value
            return functools.partial(func, *args, **keywords)
        if type(value) in (list, tuple, set, frozenset):
            items = self.sequence(list(value), what, strict)
            same = all(a is b for a, b in zip(items, value, strict=True))
            return value if same else type(value)(items)
        if type(value) is dict:
            return self.mapping(value, what, strict)
        if hasattr(value, "deconstruct") and callable(value.deconstruct):
            return self.deconstructible(value, what)
        if copier.is_migration_module(type(value).__module__):
            raise _Unwritable(
                f"{what} is an instance of `{type(value).__qualname__}` from "
                f"{type(value).__module__}, which Django cannot write into a migration"
            )
        return value

    def sequence(self, values: list[Any], what: str, strict: bool) -> list[Any]:
        return [
            self.value(
                item, f"{what}[{i}]" if isinstance(item, Operation) else what, strict
            )
            for i, item in enumerate(values)
        ]

    def mapping(
        self, values: dict[Any, Any], what: str, strict: bool
    ) -> dict[Any, Any]:
        swapped = {key: self.value(item, what, strict) for key, item in values.items()}
        return values if all(swapped[k] is values[k] for k in values) else swapped

    def deconstructible(self, value: Any, what: str) -> Any:
        """A field, index, constraint, validator...: look into its arguments.

        Only the usual shapes, ``(path, args, kwargs)`` and a field's ``(name,
        path, args, kwargs)``; anything else (a manager) is Django's to write.
        """
        try:
            parts = value.deconstruct()
        except Exception:  # not ours to judge; Django's writer will say
            return value
        if isinstance(value, models.Field) and len(parts) == 4:
            parts = parts[1:]
        if len(parts) != 3 or not isinstance(parts[0], str):
            return value
        path, args, kwargs = parts
        new_args = self.sequence(list(args), what, False)
        new_kwargs = self.mapping(kwargs, what, False)
        new_path = path
        if self.copier.is_migration_module(path.rpartition(".")[0]):
            cls = type(value)
            ref = self._copied(
                what, lambda: self.copier.klass(cls), f"`{cls.__qualname__}` "
            )
            new_path = f"{PLACEHOLDER}.{ref.key}"
        same_args = all(a is b for a, b in zip(new_args, args, strict=True))
        if new_path == path and same_args and new_kwargs is kwargs:
            return value
        return _Rebuilt(new_path, new_args, new_kwargs)

    def operation(self, operation: Operation, what: str) -> Operation:
        """``what`` names where a nested operation sits ("its database_operations[0]")."""
        name, args, kwargs = operation.deconstruct()
        cls = type(operation)
        # Bound, as Django's OperationWriter asks, so `self` is not counted.
        arg_names = get_func_args(operation.__init__)  # type: ignore[misc]

        def place(arg: str) -> str:
            return f"{what} {arg}" if what else f"its {arg}"

        new_args = [
            self.value(arg, place(arg_names[i] if i < len(arg_names) else "argument"))
            for i, arg in enumerate(args)
        ]
        new_kwargs = {key: self.value(item, place(key)) for key, item in kwargs.items()}
        local_class = self.copier.is_migration_module(cls.__module__)
        unchanged = all(a is b for a, b in zip(new_args, args, strict=True)) and all(
            new_kwargs[key] is kwargs[key] for key in kwargs
        )
        if unchanged and not local_class:
            return _with_elidable(operation)
        if local_class:
            ref = self._copied(
                f"{what} class" if what else "its class",
                lambda: self.copier.klass(cls),
                f"`{cls.__qualname__}` ",
            )
            return _stand_in(cls, PLACEHOLDER, ref.key, new_args, new_kwargs)
        if getattr(migrations, name, None) is cls:
            # Django's own operations are written as migrations.X(...): rebuild one.
            rebuilt: Operation = cls(*new_args, **new_kwargs)
            return _with_elidable(rebuilt)
        return _stand_in(cls, cls.__module__, name, new_args, new_kwargs)


def _with_elidable(operation: Operation) -> Operation:
    """Django < 6.0 leaves ``elidable=True`` out when it writes RunSQL and RunPython.

    Give a copy of the operation a ``deconstruct`` that includes it; the writer
    still sees the real class, so it writes ``migrations.RunPython(...,
    elidable=True)`` as Django 6 does.
    """
    if not isinstance(operation, (migrations.RunSQL, migrations.RunPython)):
        return operation
    name, args, kwargs = operation.deconstruct()
    if not operation.elidable or "elidable" in kwargs:
        return operation
    patched = copy.copy(operation)
    kwargs = {**kwargs, "elidable": True}
    setattr(patched, "deconstruct", lambda: (name, args, kwargs))  # noqa: B010
    return patched


def _stand_in(
    cls: type[Operation],
    module: str,
    name: str,
    args: list[Any],
    kwargs: dict[str, Any],
) -> Operation:
    """An operation that Django's writer writes as ``module.name(args)``.

    It borrows the original class's ``__init__`` (for the argument names) and
    ``serialization_expand_args``, and is never run, so the original class's
    constructor is not called with stand-in arguments.
    """
    stand_in = type(
        name,
        (Operation,),
        {
            "__module__": module,
            "__init__": cls.__init__,
            "serialization_expand_args": cls.serialization_expand_args,
            "deconstruct": lambda self: (name, args, kwargs),
        },
    )
    instance: Operation = object.__new__(stand_in)
    return instance


# -- naming the operation in a refusal ------------------------------------------------


def _problem(
    migration: Migration,
    index: int,
    operation: Operation,
    detail: str,
    modules: Collection[str],
) -> str:
    origin = _origin(operation, modules)
    kind = type(operation).__name__
    new = f"'{migration.app_label}.{migration.name}'"
    if origin is None:
        app_label = migration.app_label
        what = f"Operation {index + 1} ({kind}) of the new migration {new}"
        into = ""
    else:
        app_label, name, position = origin
        what = f"Operation {position + 1} ({kind}) of migration '{app_label}.{name}'"
        into = f" into {new}"
    try:
        app_path = apps.get_app_config(app_label).name.replace(".", "/")
    except LookupError:  # pragma: no cover - a planned migration's app is installed
        app_path = app_label
    return (
        f"{what} cannot be carried{into}: {detail}. Mark the operation "
        "elidable=True if new databases do not need it, list it in "
        "REMAKE_MIGRATIONS_DROP_OPERATIONS, or move the code into a module of the "
        f"app (e.g. {app_path}/migration_helpers.py) and use it from there in the "
        "old migration."
    )


def _origin(
    operation: Operation, modules: Collection[str]
) -> tuple[str, str, int] | None:
    """The old migration (app label, name, position) an operation object comes from."""
    packages = {}
    for config in apps.get_app_configs():
        package, _explicit = MigrationLoader.migrations_module(config.label)
        if package:
            packages[package] = config.label
    for module_name in sorted(modules):
        package, _, name = module_name.rpartition(".")
        module = sys.modules.get(module_name)
        migration_class = getattr(module, "Migration", None)
        if package not in packages or migration_class is None:
            continue
        for position, candidate in enumerate(
            getattr(migration_class, "operations", [])
        ):
            if candidate is operation:
                return packages[package], name, position
    return None
