"""Copying code out of old migration modules, in process, without Django.

Each test writes a throwaway package (a unique name, so cached imports never
leak between tests) with a ``migrations`` subpackage, imports it, asks
:class:`CodeCopier` for some of its objects, and then runs the copied block on
its own, as the new migration file will.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from django_remake.copycode import CodeCopier, CopiedCode
from django_remake.pysource import Refusal


class Package:
    def __init__(self, root: Path) -> None:
        self.name = f"copied_{uuid.uuid4().hex[:10]}"
        self.folder = root / self.name / "migrations"
        self.folder.mkdir(parents=True)
        (self.folder.parent / "__init__.py").write_text("")
        (self.folder / "__init__.py").write_text("")
        self.migrations = f"{self.name}.migrations"

    def module(self, name: str, source: str) -> Any:
        (self.folder / f"{name}.py").write_text(textwrap.dedent(source))
        return importlib.import_module(f"{self.migrations}.{name}")

    def copier(self) -> CodeCopier:
        names = {
            f"{self.migrations}.{path.stem}"
            for path in self.folder.glob("*.py")
            if path.stem != "__init__"
        }
        return CodeCopier(names, target_package=self.migrations)


@pytest.fixture
def package(tmp_path: Path) -> Iterator[Package]:
    sys.path.insert(0, str(tmp_path))
    made = Package(tmp_path)
    yield made
    sys.path.remove(str(tmp_path))
    for name in [n for n in sys.modules if n.split(".")[0] == made.name]:
        del sys.modules[name]


def copy(
    package: Package,
    *roots: Any,
    reserved: dict[str, tuple[str, ...] | None] | None = None,
) -> tuple[list[str], CopiedCode]:
    copier = package.copier()
    keys = [
        copier.klass(r) if isinstance(r, type) else copier.function(r) for r in roots
    ]
    return keys, copier.copy(reserved or {})


def run(code: CopiedCode) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "new_migration"}
    exec(compile(code.block, "<new migration>", "exec"), namespace)
    return namespace


def local(code: CopiedCode, key: str) -> str:
    head, _, rest = key.partition(".")
    return code.names[head] + (f".{rest}" if rest else "")


def test_renames_only_where_the_module_level_name_is_used(package: Package) -> None:
    """Two modules bind ITEMS and forwards: both copies are renamed, and only
    the references to the module-level names change (not the comment, the
    string, the attribute, the keyword, the comprehension variable)."""
    first = package.module(
        "0001_first",
        """\
        import types

        ITEMS = [1]
        holder = types.SimpleNamespace(ITEMS="attribute")


        def forwards():
            # ITEMS in a comment stays
            local = [ITEMS for ITEMS in ("comprehension",)]
            return ITEMS, holder.ITEMS, dict(ITEMS="keyword"), "ITEMS", f"{ITEMS!r}", local


        def reset():
            global ITEMS
            ITEMS = [0]
            return ITEMS
        """,
    )
    second = package.module(
        "0002_second",
        """\
        ITEMS = [2]


        def forwards():
            return ITEMS
        """,
    )
    keys, code = copy(package, first.forwards, first.reset, second.forwards)

    assert [local(code, k) for k in keys] == [
        "forwards_0001_first",
        "reset",
        "forwards_0002_second",
    ]
    assert code.imports == ["import types"]
    m = package.migrations
    assert code.definitions == [
        f"# Copied from {m}.0001_first.\nITEMS_0001_first = [1]\n",
        'holder = types.SimpleNamespace(ITEMS="attribute")\n',
        textwrap.dedent(
            """\
            def forwards_0001_first():
                # ITEMS in a comment stays
                local = [ITEMS for ITEMS in ("comprehension",)]
                return ITEMS_0001_first, holder.ITEMS, dict(ITEMS="keyword"), "ITEMS", f"{ITEMS_0001_first!r}", local
            """
        ),
        textwrap.dedent(
            """\
            def reset():
                global ITEMS_0001_first
                ITEMS_0001_first = [0]
                return ITEMS_0001_first
            """
        ),
        f"# Copied from {m}.0002_second.\nITEMS_0002_second = [2]\n",
        "def forwards_0002_second():\n    return ITEMS_0002_second\n",
    ]
    namespace = run(code)
    assert namespace["forwards_0001_first"]() == (
        [1],
        "attribute",
        {"ITEMS": "keyword"},
        "ITEMS",
        "[1]",
        ["comprehension"],
    )
    assert namespace["reset"]() == [0]
    assert namespace["ITEMS_0001_first"] == [0]
    assert namespace["forwards_0002_second"]() == [2]


def test_what_a_class_needs_at_definition_comes_first(package: Package) -> None:
    """A base class from a helper module, mutual recursion, a decorator."""
    package.module(
        "_base",
        """\
        class Base:
            greeting = "hi"
        """,
    )
    module = package.module(
        "0001_ops",
        """\
        import functools

        from ._base import Base


        def is_even(n):
            return True if n == 0 else is_odd(n - 1)


        def is_odd(n):
            return False if n == 0 else is_even(n - 1)


        def logged(func):
            @functools.wraps(func)
            def wrapper(*args):
                return ("logged", func(*args))

            return wrapper


        class Op(Base):
            @logged
            def run(self):
                return is_even(4), self.greeting
        """,
    )
    keys, code = copy(package, module.Op)

    assert local(code, keys[0]) == "Op"
    order = [
        line
        for block in code.definitions
        for line in block.splitlines()
        if line[:1].isalpha()
    ]
    assert order == [
        "class Base:",
        "def is_even(n):",
        "def is_odd(n):",
        "def logged(func):",
        "class Op(Base):",
    ]
    assert run(code)["Op"]().run() == ("logged", (True, "hi"))


def test_a_decorated_function_is_copied_with_its_decorator(package: Package) -> None:
    module = package.module(
        "0001_decorated",
        """\
        import functools


        def twice(func):
            @functools.wraps(func)
            def wrapper(apps, schema_editor):
                func(apps, schema_editor)
                func(apps, schema_editor)

            return wrapper


        @twice
        def forwards(apps, schema_editor):
            apps.append(schema_editor)
        """,
    )
    keys, code = copy(package, module.forwards)

    calls: list[str] = []
    run(code)[local(code, keys[0])](calls, "editor")
    assert calls == ["editor", "editor"]
    assert "@twice\ndef forwards(apps, schema_editor):" in code.definitions[-1]


def test_one_import_serves_every_alias(package: Package) -> None:
    """`Decimal` imported under two names is imported once; `models` is Django's."""
    first = package.module(
        "0001_first",
        """\
        from decimal import Decimal as D
        from json import decoder as models


        def price():
            return D("1.5"), models.__name__
        """,
    )
    second = package.module(
        "0002_second",
        """\
        from decimal import Decimal


        def double():
            return Decimal("3")
        """,
    )
    keys, code = copy(
        package,
        first.price,
        second.double,
        reserved={
            "models": ("attr", "django.db", "models"),
            "migrations": ("attr", "django.db", "migrations"),
        },
    )

    assert code.imports == [
        "from decimal import Decimal as D",
        "from json import decoder as models_2",
    ]
    assert code.definitions[-1] == (
        f"# Copied from {package.migrations}.0002_second.\n"
        'def double():\n    return D("3")\n'
    )
    namespace = run(code)
    assert namespace["price"]() == (namespace["D"]("1.5"), "json.decoder")


REFUSED = {
    "twice": (
        """\
        def helper():
            return 1


        def helper():
            return 2


        def forwards():
            return helper()
        """,
        "uses `helper`, which is bound more than once at module level (MODULE, lines 1 and 5)",
    ),
    "relative": (
        """\
        def forwards():
            from .. import settings
        """,
        "has a relative import (MODULE, line 2), which would find another module "
        "from the new migration's package",
    ),
    "dunder_file": (
        """\
        from pathlib import Path


        def forwards():
            return Path(__file__).parent / "rows.json"
        """,
        "uses `__file__`, which is the file name of MODULE, which is in another "
        "folder than the new migration",
    ),
    "computed_import": (
        """\
        from importlib import import_module


        def forwards(name):
            return import_module(name)
        """,
        "imports a module whose name is computed at run time (MODULE, line 5)",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refusals(package: Package, case: str) -> None:
    source, predicate = REFUSED[case]
    module = package.module(f"0001_{case}", source)
    copier = package.copier()
    copier.target_package = "elsewhere.migrations"

    with pytest.raises(Refusal) as raised:
        copier.function(module.forwards)

    expected = predicate.replace("MODULE", module.__name__)
    assert raised.value.predicate == expected
