"""Read a Python module's source: what binds each name, and where code uses them.

:mod:`django_remake.copycode` copies statements out of old migration modules.
For that it needs, per module, which top-level statements bind each name (once,
unconditionally, or not), each statement's exact text, and, inside a
statement, every place where a *module-level* name is read or bound. Scopes
come from :mod:`symtable`, paired with the syntax tree, so a local variable,
an attribute, a keyword argument or a string that happens to spell the same
name is never taken for it; renaming edits exactly those places and then
checks the result by analysing it again.
"""

from __future__ import annotations

import ast
import importlib.util
import io
import symtable
import sys
import tokenize
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

_COMPREHENSIONS: dict[type[ast.AST], str] = {
    ast.ListComp: "listcomp",
    ast.SetComp: "setcomp",
    ast.DictComp: "dictcomp",
    ast.GeneratorExp: "genexpr",
}


class Refusal(Exception):
    """Why some code cannot be copied faithfully.

    ``predicate`` completes a sentence whose subject is the object the caller
    asked for (``"is a lambda (...)"``, ``"uses `ITEMS`, which ..."``).
    """

    def __init__(self, predicate: str) -> None:
        super().__init__(predicate)
        self.predicate = predicate


# -- reading a module -----------------------------------------------------------


@dataclass
class SourceModule:
    name: str
    package: str
    lines: list[str]
    #: name -> the module-level statements that bind it, and whether conditionally
    bindings: dict[str, list[tuple[ast.stmt, bool]]]
    #: name -> line of a module-level statement that changes the object in place
    changed: dict[str, int]
    star_import: bool
    future_annotations: bool
    has_migration_class: bool

    def at(self, line: int) -> str:
        return f"{self.name}, line {line}"


def read_module(name: str) -> SourceModule:
    module = sys.modules.get(name)
    filename = getattr(module, "__file__", None)
    if filename is None:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        filename = spec.origin if spec is not None else None
    if not filename or not filename.endswith(".py") or not Path(filename).is_file():
        raise Refusal(f"has no source file to copy from (module {name})")
    with tokenize.open(filename) as handle:
        source = handle.read()
    tree = ast.parse(source, filename)
    if module is not None and module.__package__ is not None:
        package = module.__package__
    elif Path(filename).name == "__init__.py":
        package = name
    else:
        package = name.rpartition(".")[0]
    collector = _BindingCollector()
    collector.block(tree.body, conditional=False)
    return SourceModule(
        name=name,
        package=package,
        lines=source.splitlines(keepends=True),
        bindings=collector.bindings,
        changed=collector.changed,
        star_import=collector.star_import,
        future_annotations=collector.future_annotations,
        has_migration_class=any(
            isinstance(stmt, ast.ClassDef) and stmt.name == "Migration"
            for stmt in tree.body
        ),
    )


def target_names(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from target_names(element)
    elif isinstance(target, ast.Starred):
        yield from target_names(target.value)


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


class _BindingCollector:
    """Which statements bind each module-level name (not looking into functions)."""

    def __init__(self) -> None:
        self.bindings: dict[str, list[tuple[ast.stmt, bool]]] = {}
        self.changed: dict[str, int] = {}
        self.star_import = False
        self.future_annotations = False

    def bind(self, name: str, stmt: ast.stmt, conditional: bool) -> None:
        self.bindings.setdefault(name, []).append((stmt, conditional))

    def change(self, target: ast.expr, stmt: ast.stmt) -> None:
        root = _root_name(target)
        if root is not None:
            self.changed.setdefault(root, stmt.lineno)

    def targets(self, targets: list[ast.expr], stmt: ast.stmt, cond: bool) -> None:
        for target in targets:
            if isinstance(target, (ast.Attribute, ast.Subscript)):
                self.change(target, stmt)
            for name in target_names(target):
                self.bind(name, stmt, cond)

    def block(self, body: list[ast.stmt], conditional: bool) -> None:
        for stmt in body:
            self.statement(stmt, conditional)

    def statement(self, stmt: ast.stmt, cond: bool) -> None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.bind(stmt.name, stmt, cond)
        elif isinstance(stmt, ast.Assign):
            self.targets(stmt.targets, stmt, cond)
        elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
            if isinstance(stmt, ast.AnnAssign) and stmt.value is None:
                return  # `x: int` binds nothing
            self.targets([stmt.target], stmt, cond)
        elif isinstance(stmt, ast.Delete):
            self.targets(stmt.targets, stmt, cond)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                self.bind(alias.asname or alias.name.split(".")[0], stmt, cond)
        elif isinstance(stmt, ast.ImportFrom):
            for alias in stmt.names:
                if stmt.module == "__future__":
                    self.future_annotations |= alias.name == "annotations"
                elif alias.name == "*":
                    self.star_import = True
                else:
                    self.bind(alias.asname or alias.name, stmt, cond)
        elif isinstance(stmt, ast.Expr):
            # `ITEMS.append(...)`: a call on something the module built itself
            call = stmt.value
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
                self.change(call.func, stmt)
        else:
            self.compound(stmt)

    def compound(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, (ast.For, ast.AsyncFor)):
            self.targets([stmt.target], stmt, True)
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                if item.optional_vars is not None:
                    self.targets([item.optional_vars], stmt, True)
        for handler in getattr(stmt, "handlers", []):
            if handler.name:
                self.bind(handler.name, stmt, True)
            self.block(handler.body, True)
        for case in getattr(stmt, "cases", []):
            self.block(case.body, True)
        for name in ("body", "orelse", "finalbody"):
            self.block(getattr(stmt, name, []), True)


def statement_text(module: SourceModule, stmt: ast.stmt) -> tuple[str, int]:
    """The statement as written, with decorators and the comment lines just above.

    Returns the text and the module line it starts on.
    """
    lines = module.lines
    decorators: list[ast.expr] = getattr(stmt, "decorator_list", [])
    first = min([stmt.lineno, *(d.lineno for d in decorators)])
    last = stmt.end_lineno or stmt.lineno
    if decorators:
        start = lines[first - 1].index("@")
    else:
        start = char_offset(lines[first - 1], stmt.col_offset)
    end = char_offset(lines[last - 1], stmt.end_col_offset or 0)
    rest = lines[last - 1][end:]
    if not rest.strip() or rest.lstrip().startswith("#"):
        end = len(lines[last - 1].rstrip("\r\n"))  # keep a trailing comment
    chunk = lines[first - 1 : last]
    chunk[-1] = chunk[-1][:end]
    alone = not chunk[0][:start].strip()  # not after `x = 1;` on the same line
    chunk[0] = chunk[0][start:]
    while alone and first > 1 and lines[first - 2].startswith("#"):
        first -= 1
        chunk.insert(0, lines[first - 1])
    return "".join(chunk).rstrip() + "\n", first


def char_offset(line: str, byte_offset: int) -> int:
    """A column of :mod:`ast` (UTF-8 bytes) as an index into the line."""
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8", errors="replace"))


# -- where a copied statement uses module-level names ----------------------------


@dataclass(frozen=True)
class Use:
    """One place where a statement reads or binds a module-level name."""

    name: str
    line: int  # 1-based, in the statement's text
    start: int
    end: int
    load_time: bool  # evaluated when the statement runs (not inside a function)
    soft: bool  # only in an annotation that is never evaluated


@dataclass
class Analysis:
    tree: ast.Module
    uses: list[Use]
    #: module-level names bound where renaming cannot reach (an import in a function)
    unrenamable: set[str]
    annotated: bool


#: The scopes around a node, innermost last. A frozenset stands for a
#: comprehension that Python 3.12+ inlines into its function (symtable then has
#: no table for it): the names its ``for`` targets bind are local to it.
Scopes = tuple[symtable.SymbolTable | frozenset[str], ...]


def _innermost(scopes: Scopes) -> symtable.SymbolTable:
    return next(s for s in reversed(scopes) if isinstance(s, symtable.SymbolTable))


class _ScopeWalker:
    """Pair the syntax tree with :mod:`symtable`'s scopes to find module-level names."""

    def __init__(self, text: str, future_annotations: bool) -> None:
        self.lines = text.splitlines(keepends=True)
        self.tree = ast.parse(text)
        self.top = symtable.symtable(text, "<copied>", "exec")
        self.tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
        self.future = future_annotations
        self.uses: list[Use] = []
        self.unrenamable: set[str] = set()
        self.annotated = False
        self.taken: set[int] = set()

    def run(self) -> Analysis:
        for stmt in self.tree.body:
            self.visit(stmt, (self.top,), load=True, soft=False)
        self.uses.sort(key=lambda use: (use.line, use.start))
        return Analysis(self.tree, self.uses, self.unrenamable, self.annotated)

    # scopes
    def child(
        self, table: symtable.SymbolTable, name: str, line: int
    ) -> symtable.SymbolTable | None:
        for candidate in table.get_children():
            if (
                candidate.get_id() not in self.taken
                and candidate.get_name() == name
                and candidate.get_lineno() == line
            ):
                self.taken.add(candidate.get_id())
                return candidate
        return None

    def is_global(self, name: str, scopes: Scopes) -> bool:
        for scope in reversed(scopes):
            if not isinstance(scope, frozenset):
                break
            if name in scope:
                return False
        table = _innermost(scopes)
        if table.get_type() == "module":
            return True
        try:
            return table.lookup(name).is_global()
        except KeyError:  # a scope symtable does not list (annotations on 3.14)
            return not any(
                isinstance(t, symtable.SymbolTable)
                and t.get_type() == "function"
                and name in t.get_identifiers()
                for t in scopes
            )

    # recording
    def add(
        self, name: str, line: int, start: int, end: int, load: bool, soft: bool
    ) -> None:
        self.uses.append(Use(name, line, start, end, load, soft))

    def add_name(self, node: ast.Name, load: bool, soft: bool) -> None:
        line = self.lines[node.lineno - 1]
        start = char_offset(line, node.col_offset)
        end = char_offset(line, node.end_col_offset or 0)
        self.add(node.id, node.lineno, start, end, load, soft)

    def add_keyword_name(
        self, node: ast.stmt, keywords: tuple[str, ...], load: bool
    ) -> None:
        """The name after ``def``/``class`` in a definition at ``node.lineno``."""
        after_keyword = False
        for token in self.tokens:
            if token.start[0] < node.lineno or token.type != tokenize.NAME:
                continue
            if after_keyword:
                self.add(
                    token.string,
                    token.start[0],
                    token.start[1],
                    token.end[1],
                    load,
                    False,
                )
                return
            after_keyword = token.string in keywords

    def add_global_statement(self, node: ast.Global) -> None:
        line = self.lines[node.lineno - 1]
        start = char_offset(line, node.col_offset)
        end = char_offset(line, node.end_col_offset or 0)
        for token in self.tokens:
            if (
                token.type == tokenize.NAME
                and token.start[0] == node.lineno
                and start < token.start[1] < end
                and token.string in node.names
            ):
                self.add(
                    token.string,
                    node.lineno,
                    token.start[1],
                    token.end[1],
                    False,
                    False,
                )

    # walking
    def visit_all(
        self,
        nodes: list[ast.AST] | list[ast.expr] | list[ast.stmt],
        scopes: Scopes,
        load: bool,
        soft: bool,
    ) -> None:
        for node in nodes:
            self.visit(node, scopes, load, soft)

    def visit_annotations(
        self,
        args: ast.arguments,
        returns: ast.expr | None,
        scopes: Scopes,
        load: bool,
        soft: bool,
    ) -> None:
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        every += [a for a in (args.vararg, args.kwarg) if a is not None]
        annotations = [a.annotation for a in every if a.annotation is not None]
        if returns is not None:
            annotations.append(returns)
        if annotations:
            self.annotated = True
        self.visit_all(annotations, scopes, load, soft or self.future)

    def visit_definition(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef,
        scopes: Scopes,
        load: bool,
        soft: bool,
    ) -> None:
        table = _innermost(scopes)
        if getattr(node, "type_params", None):
            raise Refusal(
                f"uses type parameters (`{node.name}[...]`), which are not supported"
            )
        self.visit_all(node.decorator_list, scopes, load, soft)
        if isinstance(node, ast.ClassDef):
            self.visit_all([*node.bases, *node.keywords], scopes, load, soft)
            words: tuple[str, ...] = ("class",)
        else:
            self.visit_all([*node.args.defaults], scopes, load, soft)
            self.visit_all(
                [d for d in node.args.kw_defaults if d is not None], scopes, load, soft
            )
            self.visit_annotations(node.args, node.returns, scopes, load, soft)
            words = ("def",)
        if self.is_global(node.name, scopes):
            self.add_keyword_name(node, words, load)
        inner = self.child(table, node.name, node.lineno)
        if inner is None:  # pragma: no cover - symtable always has a table for these
            raise Refusal(f"could not be analysed (no scope found for `{node.name}`)")
        body_load = load and isinstance(node, ast.ClassDef)
        self.visit_all(node.body, (*scopes, inner), body_load, soft)

    def visit(self, node: ast.AST, scopes: Scopes, load: bool, soft: bool) -> None:
        table = _innermost(scopes)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.visit_definition(node, scopes, load, soft)
        elif isinstance(node, ast.Lambda):
            self.visit_all([*node.args.defaults], scopes, load, soft)
            self.visit_all(
                [d for d in node.args.kw_defaults if d is not None], scopes, load, soft
            )
            inner = self.child(table, "lambda", node.lineno)
            self.visit(node.body, (*scopes, inner) if inner else scopes, False, soft)
        elif type(node) in _COMPREHENSIONS:
            assert isinstance(
                node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
            )
            generators = node.generators
            self.visit(generators[0].iter, scopes, load, soft)
            inner = self.child(table, _COMPREHENSIONS[type(node)], node.lineno)
            if inner is not None:
                inside: Scopes = (*scopes, inner)
            else:  # inlined into the enclosing scope since Python 3.12
                bound = {
                    n.id
                    for g in generators
                    for n in ast.walk(g.target)
                    if isinstance(n, ast.Name)
                }
                inside = (*scopes, frozenset(bound))
            for index, generator in enumerate(generators):
                self.visit(generator.target, inside, load, soft)
                if index:
                    self.visit(generator.iter, inside, load, soft)
                self.visit_all(generator.ifs, inside, load, soft)
            if isinstance(node, ast.DictComp):
                self.visit_all([node.key, node.value], inside, load, soft)
            else:
                self.visit(node.elt, inside, load, soft)
        elif isinstance(node, ast.Name):
            if self.is_global(node.id, scopes):
                self.add_name(node, load, soft)
        elif isinstance(node, ast.Global):
            self.add_global_statement(node)
        elif isinstance(node, ast.AnnAssign):
            in_function = table.get_type() == "function"
            self.visit(node.target, scopes, load, soft)
            self.annotated = True
            self.visit(
                node.annotation, scopes, load, soft or self.future or in_function
            )
            if node.value is not None:
                self.visit(node.value, scopes, load, soft)
        else:
            for name in _names_bound_without_node(node):
                if table.get_type() != "module" and self.is_global(name, scopes):
                    self.unrenamable.add(name)
            for child in ast.iter_child_nodes(node):
                self.visit(child, scopes, load, soft)


def _names_bound_without_node(node: ast.AST) -> list[str]:
    """Names an AST node binds that have no Name node of their own."""
    if isinstance(node, ast.Import):
        return [a.asname or a.name.split(".")[0] for a in node.names]
    if isinstance(node, ast.ImportFrom):
        return [a.asname or a.name for a in node.names]
    if isinstance(node, ast.ExceptHandler) and node.name:
        return [node.name]
    name = getattr(node, "name", None) or getattr(node, "rest", None)
    match_types = tuple(
        getattr(ast, kind)
        for kind in ("MatchAs", "MatchStar", "MatchMapping")
        if hasattr(ast, kind)
    )
    if isinstance(node, match_types) and isinstance(name, str):
        return [name]
    return []


def analyse(text: str, future_annotations: bool) -> Analysis:
    return _ScopeWalker(text, future_annotations).run()


def rename(
    text: str, analysis: Analysis, mapping: Mapping[str, str], future: bool
) -> str:
    """``text`` with each module-level name in ``mapping`` renamed where it is used."""
    wanted = {n for n, new in mapping.items() if new != n}
    if not wanted:
        return text
    blocked = sorted(wanted & analysis.unrenamable)
    if blocked:
        raise Refusal(
            f"binds the module-level name `{blocked[0]}` inside a function, which "
            "cannot be renamed to avoid a clash in the new file"
        )
    lines = text.splitlines(keepends=True)
    for use in sorted(analysis.uses, key=lambda u: (u.line, u.start), reverse=True):
        if use.name not in wanted:
            continue
        line = lines[use.line - 1]
        if (
            line[use.start : use.end] != use.name
        ):  # pragma: no cover - positions from ast
            raise Refusal(f"cannot be renamed safely (`{use.name}`, line {use.line})")
        lines[use.line - 1] = line[: use.start] + mapping[use.name] + line[use.end :]
    renamed = "".join(lines)
    # Prove it: the new text must use the new names exactly where the old one used the old.
    again = analyse(renamed, future)
    expected = [mapping.get(use.name, use.name) for use in analysis.uses]
    if [use.name for use in again.uses] != expected:
        raise Refusal("cannot be renamed safely: a local name would hide the new name")
    return renamed


def bound_names(stmt: ast.stmt) -> tuple[str, ...]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return (stmt.name,)
    targets: list[ast.expr] = []
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        targets = [stmt.target]
    return tuple(dict.fromkeys(n for t in targets for n in target_names(t)))


def absolute_module(stmt: ast.ImportFrom, package: str) -> str:
    if not stmt.level:
        return stmt.module or ""
    return importlib.util.resolve_name("." * stmt.level + (stmt.module or ""), package)


def identifiers(text: str) -> set[str]:
    return {
        token.string
        for token in tokenize.generate_tokens(io.StringIO(text).readline)
        if token.type == tokenize.NAME
    }
