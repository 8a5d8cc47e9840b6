"""The documentation stays true to the code.

- Every message the commands can print (each user-facing error built in
  ``src/``, found by reading the source with :mod:`ast`, and each system check
  id) is quoted in ``docs/faq.md``, every fixed piece of it word for word, and
  every message quoted there still exists.
- The supported Python and Django versions are stated once, in the pyproject
  classifiers; the README, the docs and the test runners agree with them.

These read files only: no database, no Django project.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "django_remake"
DOCS = ROOT / "docs"

# Exceptions whose message reaches the user: the commands turn RemakeError into
# CommandError; ImproperlyConfigured comes from the settings (system check
# E002); a Refusal is the reason inside "cannot be copied" (NotCarryable).
USER_FACING = {"RemakeError", "CommandError", "ImproperlyConfigured", "Refusal"}
GAP = "…"  # stands for a value filled in at run time
SHORTEST_KEY = 12


@dataclass(frozen=True)
class Message:
    where: str  # file:line of the raise
    template: str  # the message with every run-time value written as GAP

    @property
    def key(self) -> str:
        """What the FAQ must quote: the message's longest fixed piece of one line.

        When every piece is short, the whole template on one line; empty when
        the fixed text is shorter still: such a message only joins others
        (``f"{name} {reason}"``), which are listed themselves."""
        pieces = [p.strip() for p in re.split(f"{GAP}|\n", self.template)]
        longest = max(pieces, key=len)
        if len(longest) >= SHORTEST_KEY:
            return longest
        if sum(map(len, pieces)) >= SHORTEST_KEY:
            return " ".join(self.template.split())
        return ""

    @property
    def quoted(self) -> list[str]:
        """Every fixed piece the FAQ must hold word for word: the key, and each
        other piece of one line at least as long as the shortest key."""
        pieces = [p.strip() for p in re.split(f"{GAP}|\n", self.template)]
        return [self.key, *(p for p in pieces if len(p) >= SHORTEST_KEY)]


def _trees() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text()) for path in sorted(SRC.rglob("*.py"))}


def _user_facing(trees: dict[Path, ast.Module]) -> set[str]:
    names = set(USER_FACING)
    grown = True
    while grown:
        grown = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names:
                    bases = {
                        getattr(b, "id", getattr(b, "attr", "")) for b in node.bases
                    }
                    if bases & names:
                        names.add(node.name)
                        grown = True
    return names


def _name(node: ast.expr) -> str:
    return getattr(node, "id", getattr(node, "attr", ""))


class _Resolver:
    """Turn the expression a message is built from into templates."""

    def __init__(self, trees: dict[Path, ast.Module], facing: set[str]) -> None:
        self.facing = facing
        self.functions: dict[str, list[ast.FunctionDef]] = {}
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef):
                    self.functions.setdefault(node.name, []).append(node)

    def templates(
        self, node: ast.expr, scope: ast.FunctionDef | None, depth: int = 0
    ) -> list[str] | None:
        """Every form the message can take; None for a message passed through
        from another exception (``str(exc)``), which is listed where it is raised."""
        if depth > 6:
            return [GAP]
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                v.value
                if isinstance(v, ast.Constant) and isinstance(v.value, str)
                else GAP
                for v in node.values
            )
            return [text]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self.templates(node.left, scope, depth + 1) or [GAP]
            right = self.templates(node.right, scope, depth + 1) or [GAP]
            return [a + b for a in left for b in right]
        if isinstance(node, ast.IfExp):
            return [
                *(self.templates(node.body, scope, depth + 1) or []),
                *(self.templates(node.orelse, scope, depth + 1) or []),
            ]
        if isinstance(node, (ast.List, ast.Tuple)):
            found: list[str] = []
            for element in node.elts:
                found += self.templates(element, scope, depth + 1) or []
            return found
        if isinstance(node, (ast.ListComp, ast.GeneratorExp)):
            return self.templates(node.elt, scope, depth + 1)
        if isinstance(node, ast.Name):
            return self._variable(node.id, scope, depth)
        if isinstance(node, ast.Call):
            func = _name(node.func)
            if func == "str":
                return None  # str(exc): the original raise is listed itself
            if func in self.facing and node.args:  # a helper returns the error
                return self.templates(node.args[0], scope, depth + 1)
            if func == "join" and node.args:
                return self.templates(node.args[0], scope, depth + 1)
            if func in self.functions:
                found = []
                for definition in self.functions[func]:
                    for ret in ast.walk(definition):
                        if isinstance(ret, ast.Return) and ret.value is not None:
                            found += (
                                self.templates(ret.value, definition, depth + 1) or []
                            )
                return found
        return [GAP]

    def _variable(
        self, name: str, scope: ast.FunctionDef | None, depth: int
    ) -> list[str] | None:
        if scope is None:
            return [GAP]
        values: list[ast.expr] = []
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets
            ):
                values.append(node.value)
            elif (
                isinstance(node, (ast.AugAssign, ast.AnnAssign))
                and isinstance(node.target, ast.Name)
                and node.target.id == name
            ):
                if node.value is not None:
                    values.append(node.value)
            elif (
                isinstance(node, ast.Call)
                and _name(node.func) in {"append", "extend"}
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == name
                and node.args
            ):
                values.append(node.args[0])
        if not values:
            return [GAP]  # a parameter: its callers' raises are listed
        found: list[str] = []
        for value in values:
            found += self.templates(value, scope, depth + 1) or []
        return found


def _enclosing(tree: ast.Module) -> Iterator[tuple[ast.AST, ast.FunctionDef | None]]:
    def visit(
        node: ast.AST, scope: ast.FunctionDef | None
    ) -> Iterator[tuple[ast.AST, ast.FunctionDef | None]]:
        for child in ast.iter_child_nodes(node):
            inner = child if isinstance(child, ast.FunctionDef) else scope
            yield child, inner
            yield from visit(child, inner)

    yield from visit(tree, None)


def collect_messages() -> list[Message]:
    """Every message a user-facing error built in src/ can carry, as templates.

    Every construction counts, raised where it is built or returned by a helper
    (``conf._fail``, ``apply._stopped``) and raised by its caller."""
    trees = _trees()
    facing = _user_facing(trees)
    resolver = _Resolver(trees, facing)
    messages: list[Message] = []
    for path, tree in trees.items():
        for node, scope in _enclosing(tree):
            if not (
                isinstance(node, ast.Call) and _name(node.func) in facing and node.args
            ):
                continue
            forms = resolver.templates(node.args[0], scope)
            if forms is None:
                continue  # str(exc): the message was built, and is listed, elsewhere
            where = f"{path.relative_to(SRC)}:{node.lineno}"
            for form in forms:
                message = Message(where, re.sub(f"{GAP}+", GAP, form))
                if message.key:
                    messages.append(message)
    return messages


def check_ids() -> set[str]:
    """The ids of django-remake's system checks (``django_remake.E001``...)."""
    found = set()
    for tree in _trees().values():
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "id":
                value = node.value
                if (
                    isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                    and value.value.startswith("django_remake.")
                ):
                    found.add(value.value)
    return found


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_messages_are_found() -> None:
    """The collector sees the messages it is meant to (not a vacuous pass)."""
    keys = {m.key for m in collect_messages()}
    assert any("Every database must be fully migrated" in k for k in keys)
    assert any("must be" in k and "got" in k for k in keys)  # conf._fail
    assert any("is not defined at module level" in k for k in keys)  # a Refusal
    assert len(keys) > 60
    assert {"django_remake.E001", "django_remake.E002", "django_remake.W001"} <= (
        check_ids()
    )


def test_every_message_has_a_faq_entry() -> None:
    faq = _flat((DOCS / "faq.md").read_text())
    missing = sorted(
        {
            f"{m.where}: {piece}"
            for m in collect_messages()
            if m.key
            for piece in m.quoted
            if _flat(piece) not in faq
        }
    )
    missing += sorted(f"check id {i}" for i in check_ids() if i not in faq)
    assert not missing, (
        "These messages have no entry in docs/faq.md (quote the text shown, with "
        f"{GAP} for values filled in at run time):\n" + "\n".join(missing)
    )


def test_every_quoted_message_still_exists() -> None:
    """The other way round: a message quoted in the FAQ (a ```text block) that
    the code no longer prints is a stale entry."""
    faq = (DOCS / "faq.md").read_text()
    keys = {_flat(m.key) for m in collect_messages()}
    blocks = re.findall(r"^```text\n(.*?)^```$", faq, re.MULTILINE | re.DOTALL)
    assert len(blocks) > 50
    stale = [b for b in blocks if not any(key in _flat(b) for key in keys)]
    assert not stale, "docs/faq.md quotes messages the code no longer has:\n" + (
        "\n".join(stale)
    )


# --- supported versions: stated once, in the classifiers -------------------


def _classifiers() -> tuple[list[str], list[str]]:
    # Python 3.10 has no tomllib; the classifiers are one string per line.
    text = (ROOT / "pyproject.toml").read_text()
    pythons = re.findall(r'"Programming Language :: Python :: (3\.\d+)"', text)
    djangos = re.findall(r'"Framework :: Django :: (\d+\.\d+)"', text)
    return pythons, djangos


def _sentence(pythons: list[str], djangos: list[str]) -> str:
    return (
        f"Python {pythons[0]}–{pythons[-1]} and Django "
        + ", ".join(djangos[:-1])
        + f" or {djangos[-1]}"
    )


def test_classifiers_match_requires_python() -> None:
    pythons, djangos = _classifiers()
    text = (ROOT / "pyproject.toml").read_text()
    assert f'requires-python = ">={pythons[0]}"' in text
    assert f'dependencies = [ "django>={djangos[0]}" ]' in text


@pytest.mark.parametrize(
    "document", ["README.md", "docs/index.md", "docs/installation.md"]
)
def test_documents_state_the_classifiers_versions(document: str) -> None:
    pythons, djangos = _classifiers()
    text = _flat((ROOT / document).read_text())
    assert _sentence(pythons, djangos) in text, (
        f"{document} must say: {_sentence(pythons, djangos)}"
    )


def test_test_runners_take_the_classifiers_versions() -> None:
    pythons, djangos = _classifiers()
    runtests = _runtests()
    assert tuple(djangos) == runtests.SUPPORTED
    assert tuple(pythons) == runtests.PYTHONS
    noxfile = (ROOT / "noxfile.py").read_text()
    assert "from runtests import" in noxfile and "SUPPORTED" in noxfile
    hooks = (ROOT / ".pre-commit-config.yaml").read_text()
    assert f"django-upgrade --target-version {djangos[0]}\n" in hooks


def _runtests() -> Any:
    spec = importlib.util.spec_from_file_location("runtests", ROOT / "runtests.py")
    assert spec is not None and spec.loader is not None
    runtests = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runtests)
    return runtests


def test_ci_runs_every_supported_django() -> None:
    """The oldest and the newest on all three databases, the oldest on the
    oldest Python; every other version at least on SQLite."""
    pythons, djangos = _classifiers()
    ci = (ROOT / ".ci" / "run").read_text().replace("\\\n", " ")
    runs = re.findall(r"python3 runtests\.py (--django .*?) \|\|", ci)
    everywhere = {"sqlite", "postgresql", "mariadb"}
    covered: dict[str, set[str]] = {}
    for run in runs:
        (django,) = re.findall(r"--django (\S+)", run)
        (backends,) = re.findall(r"--backends (\S+)", run)
        covered.setdefault(django, set()).update(backends.split(","))
        if django == djangos[0]:
            assert f"--python {pythons[0]}" in run, run
    assert covered[djangos[0]] == everywhere, covered
    assert covered[djangos[-1]] == everywhere, covered
    assert all("sqlite" in covered.get(d, set()) for d in djangos), covered


def test_runtests_finds_an_exact_python() -> None:
    runtests = _runtests()
    here = sys.version_info[:2]
    found = runtests.find_python(here, exact=True)
    assert found is not None and runtests.python_version(found) == here
    assert runtests.find_python((3, 99), exact=True) is None


def test_every_setting_the_code_names_is_in_the_registry() -> None:
    """docs/settings.md is generated from conf.SETTINGS: a setting read or
    named anywhere in src/ must be there."""
    from django_remake import conf

    named = set()
    for path in SRC.rglob("*.py"):
        named |= set(
            re.findall(r"REMAKE_MIGRATIONS_([A-Z][A-Z_]*[A-Z])", path.read_text())
        )
    assert named - {"OPERATIONS"} <= {s.name for s in conf.SETTINGS}
    assert len(named) > 10
