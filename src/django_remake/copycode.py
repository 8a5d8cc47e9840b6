"""Copy code out of old migration modules, so that a new migration can stand alone.

A remade history deletes the old migration files, so a new migration must never
import from them. When an operation carried into a new migration refers to code
that lives in an old migration module (a ``RunPython`` function, a custom
``Operation`` class, a helper passed as an argument), :class:`CodeCopier` copies
that code: each definition exactly as written (comments included), the
module-level imports it uses, and the module-level helpers, constants and
classes it refers to, transitively.

Everything is read from the modules' source files (:mod:`django_remake.pysource`).
Renaming (when two old modules use one name, or a name clashes with what
Django's writer imports) rewrites only the places where the module-level name
is used: strings, comments, attributes and local variables that spell the same
name stay as they were.

Code that cannot be copied faithfully raises :class:`Refusal`, saying why; the
rules are in docs/carry.md. Nothing here knows about Django: the writer
(:mod:`django_remake.writer`) decides which objects are copied and puts the
result into the file.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import io
import keyword
import re
import sys
import tokenize
import types
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

from .pysource import (
    Analysis,
    Refusal,
    SourceModule,
    Use,
    absolute_module,
    analyse,
    bound_names,
    identifiers,
    read_module,
    rename,
    statement_text,
)

#: The module name Django's writer is given for copied code. References come out
#: as ``<PLACEHOLDER>.u3`` and are replaced by the local name once names are chosen.
PLACEHOLDER = "__django_remake_local__"

#: Names every module has without binding them.
_MODULE_DUNDERS = frozenset(
    {
        "__name__",
        "__file__",
        "__doc__",
        "__package__",
        "__spec__",
        "__loader__",
        "__builtins__",
        "__cached__",
        "__path__",
        "__annotations__",
        "__dict__",
    }
)

#: Builtins that look names up in a module at run time; a copy would see others.
_DYNAMIC_BUILTINS = frozenset({"globals", "eval", "exec", "__import__"})

#: Functions that import a module named by a string.
_IMPORT_FUNCTIONS = frozenset({"import_module", "import_string"})


# -- what is copied ------------------------------------------------------------------


@dataclass(eq=False)
class _Definition:
    """A module-level ``def``, ``class`` or assignment, copied as written."""

    key: str
    module: SourceModule
    text: str
    first_line: int
    names: tuple[str, ...]
    analysis: Analysis
    #: each module-level name the text uses -> (unit, name there), None for builtins
    deps: dict[str, tuple[_Unit, str] | None] = field(default_factory=dict)
    load_deps: list[_Definition] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.names[0]


@dataclass(eq=False)
class _Import:
    """A module-level import, emitted in its absolute form."""

    identity: tuple[str, ...]  # ("module", dotted) or ("attr", module, name)
    preferred: str
    renamable: bool
    #: `import a.b` and `import a.c` bind one name `a`; both lines are needed
    dotted: set[str] = field(default_factory=set)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.preferred,)


_Unit: TypeAlias = _Definition | _Import


@dataclass(frozen=True)
class CopiedCode:
    """What the writer puts into the new file."""

    #: placeholder key (``u3``) -> the local name the copied object has in the file
    names: dict[str, str]
    imports: list[str]
    definitions: list[str]
    future_annotations: bool

    @property
    def block(self) -> str:
        """Imports, then definitions, separated as black would."""
        parts = []
        if self.imports:
            parts.append("\n".join(self.imports) + "\n")
        parts.extend(self.definitions)
        return "\n\n".join(parts)


class CodeCopier:
    """Collects the code a new migration needs from old migration modules.

    Ask with :meth:`function` and :meth:`klass` for each object an operation
    refers to (each returns the placeholder key to write in its place), then
    call :meth:`copy` once with the names the rest of the file binds.
    """

    def __init__(
        self, migration_modules: Collection[str], target_package: str | None
    ) -> None:
        self.migration_modules = frozenset(migration_modules)
        self.target_package = target_package
        self._modules: dict[str, SourceModule] = {}
        self._definitions: dict[tuple[str, int, int], _Definition] = {}
        self._failed: dict[tuple[str, int, int], Refusal] = {}
        self._imports: dict[tuple[str, ...], _Import] = {}
        self._order: list[_Definition] = []
        self._roots: list[_Definition] = []
        self._builtins: set[str] = set()

    @property
    def empty(self) -> bool:
        return not self._roots

    def is_migration_module(self, module: str | None) -> bool:
        return module in self.migration_modules

    # -- roots --------------------------------------------------------------
    def function(self, function: types.FunctionType) -> str:
        """The placeholder key for a function; raises :class:`Refusal`."""
        code = function.__code__
        place = f"{function.__module__}, line {code.co_firstlineno}"
        if function.__name__ == "<lambda>":
            raise Refusal(
                f"is a lambda ({place}), whose source cannot be copied faithfully"
            )
        return self._root(function, place)

    def klass(self, cls: type) -> str:
        """The placeholder key for a class; raises :class:`Refusal`."""
        return self._root(cls, str(cls.__module__))

    def _root(self, obj: types.FunctionType | type, place: str) -> str:
        qualname = obj.__qualname__
        if "<locals>" in qualname:
            built = self._built_at_import(obj)
            if built:
                raise Refusal(
                    f"is built at import time ({built}), so it has no source of its own"
                )
            raise Refusal(
                f"is defined inside another function (`{qualname}`, {place}), so "
                "it may depend on that function's variables"
            )
        module = self._module(obj.__module__)
        first, _, rest = qualname.partition(".")
        found: object = sys.modules.get(obj.__module__)
        for part in qualname.split("."):
            found = getattr(found, part, None)
        if getattr(found, "__func__", found) is not obj:
            built = self._built_at_import(obj)
            if built:
                raise Refusal(
                    f"is built at import time ({built}), so it has no source of its own"
                )
            raise Refusal(
                f"is not what the name `{qualname}` holds in {module.name}, so "
                "its source cannot be found"
            )
        bindings = module.bindings.get(first, [])
        if len(bindings) == 1 and not isinstance(
            bindings[0][0], (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        ):
            stmt = bindings[0][0]
            raise Refusal(
                f"is built at import time (`{module.lines[stmt.lineno - 1].strip()}`, "
                f"{module.at(stmt.lineno)}), so it has no source of its own"
            )
        target = self._resolve(module, first)
        assert target is not None and isinstance(target[0], _Definition)
        unit = target[0]
        if isinstance(obj, types.FunctionType) and not rest:
            self._check_lines(obj, unit)
        if unit not in self._roots:
            self._roots.append(unit)
        return unit.key + (f".{rest}" if rest else "")

    def _check_lines(self, function: types.FunctionType, unit: _Definition) -> None:
        stmt = unit.analysis.tree.body[0]
        assert isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
        decorators = [d.lineno for d in stmt.decorator_list]
        lines = {stmt.lineno, *decorators}
        offset = unit.first_line - 1
        code = inspect.unwrap(function).__code__
        if code.co_firstlineno - offset not in lines:
            raise Refusal(
                f"does not match the source of {unit.module.name} (defined on line "
                f"{code.co_firstlineno}, the file has it on line {stmt.lineno + offset}); "
                "was the file changed after it was imported?"
            )

    def _built_at_import(self, obj: object) -> str | None:
        """Where a module-level assignment of a migration module binds ``obj``."""
        candidates = [getattr(obj, "__module__", None), *sorted(self.migration_modules)]
        for name in dict.fromkeys(c for c in candidates if c in sys.modules):
            bound = [n for n, value in vars(sys.modules[name]).items() if value is obj]
            for binding in bound:
                try:
                    module = self._module(name)
                except Refusal:
                    continue
                for stmt, _conditional in module.bindings.get(binding, []):
                    if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                        text = module.lines[stmt.lineno - 1].strip()
                        return f"`{text}`, {module.at(stmt.lineno)}"
        return None

    # -- resolving names ------------------------------------------------------
    def _module(self, name: str) -> SourceModule:
        if name not in self._modules:
            self._modules[name] = read_module(name)
        return self._modules[name]

    def _resolve(self, module: SourceModule, name: str) -> tuple[_Unit, str] | None:
        """What ``name`` means at module level in ``module``; None for a builtin."""
        if name in module.changed:
            raise Refusal(
                f"is changed at module level after it is defined "
                f"({module.at(module.changed[name])}); only its definition would be copied"
            )
        bindings = module.bindings.get(name, [])
        if not bindings:
            if name in _MODULE_DUNDERS:
                self._check_dunder(module, name)
                return None
            if hasattr(builtins, name):
                self._builtins.add(name)
                return None
            if module.star_import:
                raise Refusal(
                    f"is not defined in {module.name}; it may come from a star import"
                )
            raise Refusal(f"is not defined at module level in {module.name}")
        conditional = [stmt for stmt, inside in bindings if inside]
        if conditional:
            raise Refusal(
                "is defined inside an if, try, for or with block "
                f"({module.at(conditional[0].lineno)}), so what it holds depends on "
                "how the module ran"
            )
        if len(bindings) > 1:
            lines = " and ".join(str(stmt.lineno) for stmt, _ in bindings)
            raise Refusal(
                f"is bound more than once at module level ({module.name}, lines {lines})"
            )
        stmt = bindings[0][0]
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            return self._import(module, stmt, name)
        if name == "Migration" and module.has_migration_class:
            raise Refusal(f"is the old Migration class of {module.name}")
        return self._definition(module, stmt), name

    def _check_dunder(self, module: SourceModule, name: str) -> None:
        if name == "__file__" and module.package != self.target_package:
            raise Refusal(
                f"is the file name of {module.name}, which is in another folder than "
                "the new migration"
            )

    def _import(
        self, module: SourceModule, stmt: ast.Import | ast.ImportFrom, name: str
    ) -> tuple[_Unit, str]:
        if isinstance(stmt, ast.Import):
            alias = next(
                a for a in stmt.names if (a.asname or a.name.split(".")[0]) == name
            )
            self._refuse_migration_module(alias.name, module, stmt)
            if alias.asname:
                unit = self._import_unit(("module", alias.name), name, True, None)
            else:
                top = alias.name.split(".")[0]
                unit = self._import_unit(("module", top), top, False, alias.name)
            return unit, unit.preferred
        alias = next(a for a in stmt.names if (a.asname or a.name) == name)
        base = absolute_module(stmt, module.package)
        if f"{base}.{alias.name}" in self.migration_modules:
            self._refuse_migration_module(f"{base}.{alias.name}", module, stmt)
        if base in self.migration_modules:
            # A helper imported from another old migration module: copy it from there.
            return self._resolve_from(self._module(base), alias.name)
        unit = self._import_unit(("attr", base, alias.name), name, True, None)
        return unit, unit.preferred

    def _resolve_from(self, module: SourceModule, name: str) -> tuple[_Unit, str]:
        target = self._resolve(module, name)
        if target is None:
            raise Refusal(f"is a builtin re-exported by {module.name}")
        return target

    def _refuse_migration_module(
        self, dotted: str, module: SourceModule, stmt: ast.stmt
    ) -> None:
        parts = dotted.split(".")
        for end in range(len(parts), 0, -1):
            prefix = ".".join(parts[:end])
            if prefix in self.migration_modules:
                raise Refusal(
                    f"is the old migration module {prefix} itself "
                    f"(imported at {module.at(stmt.lineno)}); only functions, classes "
                    "and constants can be copied out of it"
                )

    def _import_unit(
        self,
        identity: tuple[str, ...],
        preferred: str,
        renamable: bool,
        dotted: str | None,
    ) -> _Import:
        unit = self._imports.get(identity)
        if unit is None:
            unit = self._imports[identity] = _Import(identity, preferred, renamable)
        if dotted:
            unit.dotted.add(dotted)
        return unit

    def _definition(self, module: SourceModule, stmt: ast.stmt) -> _Definition:
        ident = (module.name, stmt.lineno, stmt.col_offset)
        if ident in self._failed:
            raise self._failed[ident]
        if ident in self._definitions:
            return self._definitions[ident]
        text, first_line = statement_text(module, stmt)
        names = bound_names(stmt)
        try:
            analysis = analyse(text, module.future_annotations)
            unit = _Definition(
                f"u{len(self._order)}", module, text, first_line, names, analysis
            )
            self._definitions[ident] = unit
            self._order.append(unit)
            self._check_dynamic(unit)
            self._resolve_uses(unit)
        except Refusal as refusal:
            self._definitions.pop(ident, None)
            self._failed[ident] = refusal
            raise
        return unit

    def _resolve_uses(self, unit: _Definition) -> None:
        uses: dict[str, list[Use]] = {}
        for use in unit.analysis.uses:
            uses.setdefault(use.name, []).append(use)
        for name, found in uses.items():
            if name in unit.names:
                unit.deps[name] = (unit, name)
                continue
            if all(use.soft for use in found):
                unit.deps[name] = self._annotation_target(unit.module, name)
                continue
            try:
                target = self._resolve(unit.module, name)
            except Refusal as refusal:
                raise Refusal(f"uses `{name}`, which {refusal.predicate}") from None
            unit.deps[name] = target
            load_time = any(use.load_time and not use.soft for use in found)
            if load_time and target is not None and isinstance(target[0], _Definition):
                unit.load_deps.append(target[0])

    def _annotation_target(
        self, module: SourceModule, name: str
    ) -> tuple[_Unit, str] | None:
        """A name used only in annotations that never run: its import, if plain.

        Anything else (a class, an import under ``if TYPE_CHECKING:``) is left
        as it is written; the annotation stays a string nobody evaluates.
        """
        bindings = module.bindings.get(name, [])
        if len(bindings) != 1 or bindings[0][1]:
            return None
        stmt = bindings[0][0]
        if isinstance(stmt, ast.ImportFrom):
            if absolute_module(stmt, module.package) in self.migration_modules:
                return None
        elif not isinstance(stmt, ast.Import):
            return None
        try:
            return self._import(module, stmt, name)
        except Refusal:
            return None

    def _check_dynamic(self, unit: _Definition) -> None:
        def at(node: ast.AST) -> str:
            return unit.module.at(unit.first_line + getattr(node, "lineno", 1) - 1)

        global_names = {use.name for use in unit.analysis.uses}
        for node in ast.walk(unit.analysis.tree):
            if isinstance(node, ast.Name) and node.id in _DYNAMIC_BUILTINS:
                if node.id in global_names and node.id not in unit.module.bindings:
                    raise Refusal(
                        f"calls {node.id}() ({at(node)}), which looks names up at run time"
                    )
            elif isinstance(node, ast.Call):
                func = node.func
                called = (
                    func.id
                    if isinstance(func, ast.Name)
                    else getattr(func, "attr", None)
                )
                if called in _IMPORT_FUNCTIONS:
                    self._check_import_call(node, str(called), at(node))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                self._check_inner_import(node, unit, at(node))

    def _check_import_call(self, call: ast.Call, called: str, where: str) -> None:
        argument = call.args[0] if call.args else None
        if not (isinstance(argument, ast.Constant) and isinstance(argument.value, str)):
            raise Refusal(
                f"imports a module whose name is computed at run time ({where})"
            )
        target = argument.value
        if called == "import_string":
            target = target.rpartition(".")[0]
        if target.startswith(".") or self._touches_migration_module(target):
            raise Refusal(
                f"imports the old migration module {target} at run time ({where})"
            )

    def _check_inner_import(
        self, node: ast.Import | ast.ImportFrom, unit: _Definition, where: str
    ) -> None:
        relative = isinstance(node, ast.ImportFrom) and node.level
        if relative and unit.module.package != self.target_package:
            raise Refusal(
                f"has a relative import ({where}), which would find another "
                "module from the new migration's package"
            )
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = absolute_module(node, unit.module.package)
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        for target in targets:
            if target in self.migration_modules:
                raise Refusal(f"imports the old migration module {target} ({where})")

    def _touches_migration_module(self, dotted: str) -> bool:
        parts = dotted.split(".")
        return any(
            ".".join(parts[:end]) in self.migration_modules
            for end in range(1, len(parts) + 1)
        )

    # -- output ----------------------------------------------------------------
    def copy(
        self,
        reserved: Mapping[str, tuple[str, ...] | None],
        existing_imports: Collection[str] = (),
    ) -> CopiedCode:
        """Choose the local names and produce the copied code.

        ``reserved``: names the rest of the file binds or uses, with what they
        import (an identity as :func:`import_bindings` gives) or None.
        """
        representative = self._deduplicated()
        definitions = self._in_order(representative)
        imports = self._used_imports(definitions)
        names = self._choose_names(imports, definitions, reserved)

        def local(target: tuple[_Unit, str] | None, name: str) -> str:
            if target is None:
                return name
            unit, bound = target
            if isinstance(unit, _Definition):
                unit = representative[unit]
            return names[(id(unit), bound)]

        blocks: list[str] = []
        for unit in definitions:
            mapping = {name: local(target, name) for name, target in unit.deps.items()}
            try:
                text = rename(
                    unit.text, unit.analysis, mapping, unit.module.future_annotations
                )
            except Refusal as refusal:
                raise Refusal(
                    f"`{unit.label}` ({unit.module.name}) {refusal.predicate}"
                ) from None
            if not blocks or definitions[len(blocks) - 1].module is not unit.module:
                text = f"# Copied from {unit.module.name}.\n{text}"
            blocks.append(text)
        keys = {
            unit.key: names[(id(representative[unit]), representative[unit].label)]
            for unit in self._order
            if unit in representative
        }
        return CopiedCode(
            names=keys,
            imports=self._import_lines(imports, names, reserved, existing_imports),
            definitions=blocks,
            future_annotations=any(
                unit.analysis.annotated and unit.module.future_annotations
                for unit in definitions
            ),
        )

    def _deduplicated(self) -> dict[_Definition, _Definition]:
        """Identical definitions from different modules are copied once.

        Two are identical when their text is and what they use is identical too:
        refine classes by the classes of dependencies until nothing changes.
        """
        units = list(self._definitions.values())

        def initial(unit: _Definition) -> tuple[object, ...]:
            uses_file = "__file__" in unit.deps
            return (unit.text, unit.names, unit.module.name if uses_file else "")

        classes = _numbered({u: initial(u) for u in units})
        while True:
            refined = _numbered({u: _signature(u, classes) for u in units})
            if len(set(refined.values())) == len(set(classes.values())):
                break
            classes = refined
        first: dict[int, _Definition] = {}
        return {u: first.setdefault(classes[u], u) for u in units}

    def _in_order(
        self, representative: Mapping[_Definition, _Definition]
    ) -> list[_Definition]:
        """Grouped by module, helpers' modules first, each in its source order.

        A statement that needs another one when it runs (a base class, a
        decorator, a constant in a constant) always comes after it.
        """
        units: list[_Definition] = []
        needs: dict[str, list[str]] = {}

        def visit(unit: _Definition) -> None:
            if unit in units:
                return
            units.append(unit)
            for target in unit.deps.values():
                if target is not None and isinstance(target[0], _Definition):
                    dep = representative[target[0]]
                    needs.setdefault(unit.module.name, []).append(dep.module.name)
                    visit(dep)

        for root in self._roots:
            visit(representative[root])
        modules: list[str] = []

        def visit_module(name: str) -> None:
            if name in modules:
                return
            modules.append(name)  # placeholder, moved behind what it needs below
            for other in needs.get(name, []):
                visit_module(other)
            modules.remove(name)
            modules.append(name)

        for root in self._roots:
            visit_module(representative[root].module.name)
        preferred = sorted(
            units, key=lambda u: (modules.index(u.module.name), u.first_line)
        )
        ordered: list[_Definition] = []
        placed: set[int] = set()
        while preferred:
            for unit in preferred:
                required = [representative[d] for d in unit.load_deps]
                if all(id(d) in placed or d is unit for d in required):
                    break
            else:  # pragma: no cover - statements that need each other cannot load
                unit = preferred[0]
            preferred.remove(unit)
            ordered.append(unit)
            placed.add(id(unit))
        return ordered

    def _used_imports(self, definitions: list[_Definition]) -> list[_Import]:
        found: dict[int, _Import] = {}
        for unit in definitions:
            for target in unit.deps.values():
                if target is not None and isinstance(target[0], _Import):
                    found.setdefault(id(target[0]), target[0])
        return list(found.values())

    def _choose_names(
        self,
        imports: list[_Import],
        definitions: list[_Definition],
        reserved: Mapping[str, tuple[str, ...] | None],
    ) -> dict[tuple[int, str], str]:
        claims: dict[str, list[tuple[_Unit, str]]] = {}
        units: list[_Unit] = [*imports, *definitions]
        for unit in units:
            for name in unit.names:
                claims.setdefault(name, []).append((unit, name))
        avoid = set(reserved) | self._builtins | set(keyword.kwlist) | {PLACEHOLDER}
        for unit in definitions:
            avoid.update(identifiers(unit.text))
        chosen: dict[tuple[int, str], str] = {}
        used: set[str] = set()
        renames: list[tuple[_Unit, str]] = []
        for name, claimants in claims.items():
            if name in reserved:
                keep = [
                    c
                    for c in claimants
                    if isinstance(c[0], _Import) and c[0].identity == reserved[name]
                ]
            elif name in self._builtins:
                keep = []  # another copy uses the builtin of that name
            elif len(claimants) == 1:
                keep = claimants
            else:
                keep = [
                    c
                    for c in claimants
                    if isinstance(c[0], _Import) and not c[0].renamable
                ]
            for unit, bound in keep:
                chosen[(id(unit), bound)] = name
                used.add(name)
            renames.extend(c for c in claimants if c not in keep)
        for unit, bound in renames:
            if isinstance(unit, _Import) and not unit.renamable:
                raise Refusal(
                    f"needs `import {sorted(unit.dotted)[0]}`, whose name `{bound}` "
                    "means something else in the new file"
                )
            chosen[(id(unit), bound)] = _fresh_name(bound, unit, used | avoid)
            used.add(chosen[(id(unit), bound)])
        return chosen

    def _import_lines(
        self,
        imports: list[_Import],
        names: Mapping[tuple[int, str], str],
        reserved: Mapping[str, tuple[str, ...] | None],
        existing: Collection[str],
    ) -> list[str]:
        plain: set[str] = set()
        from_lines: dict[str, list[str]] = {}
        for unit in imports:
            local = names[(id(unit), unit.preferred)]
            if unit.identity[0] == "module" and not unit.renamable:
                plain.update(f"import {dotted}" for dotted in unit.dotted)
                continue
            if reserved.get(local) == unit.identity:
                continue  # Django's own imports bind it already
            if unit.identity[0] == "module":
                dotted = unit.identity[1]
                plain.add(
                    f"import {dotted}"
                    if local == dotted
                    else f"import {dotted} as {local}"
                )
            else:
                _kind, module, attr = unit.identity
                entry = attr if local == attr else f"{attr} as {local}"
                from_lines.setdefault(module, []).append(entry)
        lines = [line for line in plain if line not in existing]
        lines += [
            f"from {module} import {', '.join(sorted(entries))}"
            for module, entries in from_lines.items()
        ]
        return sorted(
            lines, key=lambda line: (line.split()[0] == "from", line.split()[1])
        )


def _signature(
    unit: _Definition, classes: Mapping[_Definition, int]
) -> tuple[object, ...]:
    deps: list[tuple[object, ...]] = []
    for name, target in unit.deps.items():
        if target is None:
            deps.append((name, None))
        elif isinstance(target[0], _Import):
            deps.append((name, target[0].identity))
        else:
            deps.append((name, classes[target[0]], target[1]))
    return (classes[unit], tuple(deps))


def _numbered(
    values: Mapping[_Definition, tuple[object, ...]],
) -> dict[_Definition, int]:
    numbers: dict[tuple[object, ...], int] = {}
    return {
        unit: numbers.setdefault(value, len(numbers)) for unit, value in values.items()
    }


def _fresh_name(name: str, unit: _Unit, taken: set[str]) -> str:
    candidates = []
    if isinstance(unit, _Definition):
        module = unit.module.name
        candidates.append(f"{name}_{module.rpartition('.')[2]}")
        candidates.append(f"{name}_{module.replace('.', '_')}")
    for candidate in candidates:
        candidate = re.sub(r"\W", "_", candidate)
        if candidate.isidentifier() and candidate not in taken:
            return candidate
    number = 2
    while f"{name}_{number}" in taken:
        number += 1
    return f"{name}_{number}"


# -- the rest of the file --------------------------------------------------------------


def import_bindings(text: str) -> dict[str, tuple[str, ...] | None]:
    """Names a module binds or uses at top level, and what its imports bind them to.

    An import binds its name to ``("module", dotted)`` or ``("attr", module,
    name)``; every other name the module mentions maps to None. Copied code must
    not take any of these names unless it imports the same thing.
    """
    tree = ast.parse(text)
    found: dict[str, tuple[str, ...] | None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.setdefault(node.id, None)
        elif isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            found.setdefault(node.name, None)
    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    found[alias.asname] = ("module", alias.name)
                else:
                    top = alias.name.split(".")[0]
                    found[top] = ("module", top)
        elif isinstance(stmt, ast.ImportFrom) and stmt.module and not stmt.level:
            for alias in stmt.names:
                found[alias.asname or alias.name] = ("attr", stmt.module, alias.name)
    return found


def replace_placeholders(text: str, names: Mapping[str, str]) -> str:
    """Put the local names where Django's writer wrote ``PLACEHOLDER.key``.

    Works on tokens, so the same characters inside a string are left alone;
    the ``import PLACEHOLDER`` line the writer added is dropped.
    """
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    lines = text.splitlines(keepends=True)
    edits = []
    for index, token in enumerate(tokens[:-2]):
        dot, key = tokens[index + 1], tokens[index + 2]
        if (
            token.type == tokenize.NAME
            and token.string == PLACEHOLDER
            and dot.string == "."
            and key.type == tokenize.NAME
            and key.string in names
            and token.start[0] == key.end[0]
        ):
            edits.append(
                (token.start[0], token.start[1], key.end[1], names[key.string])
            )
    for row, start, end, new in reversed(edits):
        line = lines[row - 1]
        lines[row - 1] = line[:start] + new + line[end:]
    return "".join(line for line in lines if line.strip() != f"import {PLACEHOLDER}")
