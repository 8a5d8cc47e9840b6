"""Migrations outside the remake that name migrations the remake replaces.

An app the remake leaves alone (excluded, third-party, or a migration added on
another branch) may depend on an old first-party migration, or name one in
``run_before``. While the remade migrations keep ``replaces``, Django's loader
points such a dependency at the migration that replaces it; once the old files
and ``replaces`` are gone, the name points nowhere and every ``migrate``
fails. So the remake rewrites the names in files it may edit (first-party
apps it does not remake) and refuses when the file belongs to an installed
package.

:func:`find` reads (inspect); :func:`rewrite_names` is a pure text edit that
keeps the rest of the file byte for byte.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.db.migrations.loader import MigrationLoader

from .errors import PlanError

Key = tuple[str, str]


@dataclass(frozen=True)
class Reference:
    """``migration`` names ``target`` in its ``dependencies`` or ``run_before``."""

    migration: Key
    attribute: str  # "dependencies" or "run_before"
    target: Key
    path: Path | None  # the migration's file, if it has one


def find(loader: MigrationLoader, labels: Iterable[str]) -> list[Reference]:
    """References from migrations outside ``labels`` to named migrations inside.

    ``__first__`` and ``__latest__`` (and swappable dependencies, which become
    ``__first__``) still resolve after a remake, so they are not listed.
    """
    labels = set(labels)
    found = []
    for key, migration in sorted(loader.disk_migrations.items()):
        if key[0] in labels:
            continue
        for attribute in ("dependencies", "run_before"):
            for target in getattr(migration, attribute, ()) or ():
                app_label, name = str(target[0]), str(target[1])
                if app_label not in labels or name in ("__first__", "__latest__"):
                    continue
                found.append(
                    Reference(key, attribute, (app_label, name), _file_of(migration))
                )
    return found


def _file_of(migration: object) -> Path | None:
    try:
        source = inspect.getsourcefile(type(migration))
    except (TypeError, OSError):
        return None
    return Path(source).resolve() if source else None


class NotRewritable(PlanError):
    """A reference that is not a literal ``("app", "name")`` pair."""


def _literal_pairs(tree: ast.Module) -> Iterator[tuple[Key, ast.Constant]]:
    """Each literal ``("app", "name")`` pair in the ``dependencies`` and
    ``run_before`` of the module's Migration class, with the name's node."""
    for node in tree.body:
        if not (isinstance(node, ast.ClassDef) and node.name == "Migration"):
            continue
        for statement in node.body:
            if not isinstance(statement, ast.Assign | ast.AnnAssign):
                continue
            targets = (
                statement.targets
                if isinstance(statement, ast.Assign)
                else [statement.target]
            )
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            if not names & {"dependencies", "run_before"} or statement.value is None:
                continue
            for pair in ast.walk(statement.value):
                if not isinstance(pair, ast.Tuple | ast.List) or len(pair.elts) != 2:
                    continue
                app, name = pair.elts
                if not all(
                    isinstance(part, ast.Constant) and isinstance(part.value, str)
                    for part in (app, name)
                ):
                    continue
                assert isinstance(app, ast.Constant) and isinstance(name, ast.Constant)
                yield (str(app.value), str(name.value)), name


def named_migrations(text: str, filename: str) -> set[Key]:
    """The ``(app, name)`` pairs a migration module names, literally, in its
    ``dependencies`` and ``run_before``."""
    return {key for key, _node in _literal_pairs(ast.parse(text, filename=filename))}


def rewrite_names(text: str, filename: str, renames: Mapping[Key, str]) -> str:
    """``text`` with each ``("app", "old")`` pair in the ``dependencies`` and
    ``run_before`` of its Migration class naming ``renames[(app, old)]``.

    Only the name's string literal changes; its quotes are kept.
    """
    tree = ast.parse(text, filename=filename)
    lines = text.splitlines(keepends=True)
    edits: list[tuple[int, int, int, str]] = []  # (line, start col, end col, new)
    seen: set[Key] = set()
    for key, name in _literal_pairs(tree):
        if key not in renames:
            continue
        if name.lineno != name.end_lineno or name.end_col_offset is None:
            raise NotRewritable(
                f"{filename}, line {name.lineno}: the name of {key[0]}.{key[1]} "
                "spans several lines; edit it by hand."
            )
        literal = lines[name.lineno - 1].encode()[name.col_offset : name.end_col_offset]
        quote = literal[:1].decode()
        if quote not in ("'", '"') or literal.startswith(literal[:1] * 3):
            quote = '"'  # a prefixed or triple-quoted literal: plain quotes
        new = f"{quote}{renames[key]}{quote}"
        edits.append((name.lineno, name.col_offset, name.end_col_offset, new))
        seen.add(key)
    missing = sorted(set(renames) - seen)
    if missing:
        shown = ", ".join(f"('{a}', '{n}')" for a, n in missing)
        raise NotRewritable(
            f'{filename}: {shown} is not written as a literal ("app", "name") '
            "pair in 'dependencies' or 'run_before'; edit it by hand."
        )
    for line_no, start, end, new in sorted(edits, reverse=True):
        raw = lines[line_no - 1].encode()
        lines[line_no - 1] = (raw[:start] + new.encode() + raw[end:]).decode()
    return "".join(lines)
