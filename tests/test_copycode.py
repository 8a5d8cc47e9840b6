"""Carried operations keep their code: it is copied into the new migration file.

The ``carry`` scenario's app ``pantry`` has data migrations with module-level
helpers, constants and imports (two of them use the same names, both use a
helper module in the migrations package), RunSQL in its forms, a custom
operation defined in its migration, a ``functools.partial``, a classmethod and a
SeparateDatabaseAndState. Each test renders a new migration from chosen old
operations in a subprocess (as the remake does), writes it, deletes the old
files, and then loads and runs the new file on a fresh database.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import django
import pytest

from .harness import Project

NEW = "0001_remaked_20261201"

#: Runs in the project: render each requested migration; print the results.
RENDER = """
import json, sys
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.migration import Migration
from django_remake.errors import NotCarryable
from django_remake.plan import NewMigration, Plan
from django_remake.writer import migration_module_names, render, render_migration

SHAPE

loader = MigrationLoader(None, ignore_no_migrations=True)
old = sorted(key for key in loader.disk_migrations if key[0] == "pantry")

def build(spec):
    operations = []
    for name, index in spec["picks"]:
        found = loader.disk_migrations[("pantry", name)].operations
        operations += found if index is None else [found[index]]
    new = Migration(spec.get("name", "NEW"), "pantry")
    new.initial = True
    new.replaces = old
    new.dependencies = [tuple(d) for d in spec.get("dependencies", [])]
    new.operations = operations
    return new

modules = migration_module_names(["pantry"])
for path in SPEC.get("delete_before", []):
    import os; os.remove(path)
results = []
for spec in SPEC["renders"]:
    new = build(spec)
    try:
        text = render_migration(new, include_header=False, migration_modules=modules)
    except NotCarryable as exc:
        results.append({"error": str(exc)})
    else:
        results.append({"text": text, "shapes": shape(new.operations)})
if "plan" in SPEC:
    plan = Plan(
        new=[NewMigration(build(spec), None) for spec in SPEC["plan"]],
        delete=[], keep_old=False, old_count=0, old_operation_count=0, suffix="",
    )
    try:
        render(plan, include_header=False, migration_modules=modules)
    except NotCarryable as exc:
        results.append({"error": str(exc), "problems": exc.problems})
print(json.dumps(results))
"""

#: A comparable form of operations: functions by their bytecode and constants,
#: so a copy that was renamed still compares equal to its original.
SHAPE = """
import functools, inspect, re, types
from django.db.migrations.operations.base import Operation

def const_shape(value):
    if isinstance(value, types.CodeType):
        return code_shape(value)
    # Python 3.10 keeps a nested function's qualified name among the outer
    # code's constants ("outer.<locals>.<listcomp>"; 3.11+ has co_qualname):
    # the outer function's own name, which a copy renames, is left out.
    if isinstance(value, str) and ".<locals>." in value:
        return repr(re.sub(r"^.*?\\.<locals>\\.", "<outer>.<locals>.", value))
    return repr(value)

def code_shape(code):
    consts = [const_shape(c) for c in code.co_consts]
    return [code.co_code.hex(), list(code.co_varnames), consts]

def shape(value):
    if isinstance(value, Operation):
        # Django's writer writes every argument by keyword: compare them so.
        name, args, kwargs = value.deconstruct()
        bound = inspect.signature(type(value).__init__).bind(None, *args, **kwargs)
        arguments = dict(list(bound.arguments.items())[1:])
        elidable = getattr(value, "elidable", None)
        return ["operation", name, shape(arguments), elidable]
    if isinstance(value, types.FunctionType):
        return ["function", code_shape(value.__code__)]
    if isinstance(value, types.MethodType):
        return ["method", shape(value.__func__), shape(value.__self__)]
    if isinstance(value, type):
        methods = {
            name: shape(getattr(member, "__func__", member))
            for name, member in vars(value).items()
            if isinstance(member, (types.FunctionType, classmethod))
        }
        return ["class", value.__name__, methods]
    if isinstance(value, functools.partial):
        return ["partial", shape(value.func), shape(list(value.args)), shape(value.keywords)]
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, [shape(item) for item in value]]
    if isinstance(value, dict):
        return ["dict", sorted([repr(key), shape(item)] for key, item in value.items())]
    if hasattr(value, "deconstruct"):
        return ["deconstructible", shape(list(value.deconstruct()))]
    return repr(value)
"""

LOADED = """
import json
from django.db.migrations.loader import MigrationLoader

SHAPE

loader = MigrationLoader(None, ignore_no_migrations=True)
print(json.dumps(shape(loader.disk_migrations[("pantry", NAME)].operations)))
"""

ROWS = """
import json
from pantry.models import Item
print(json.dumps([[i.name, str(i.price), i.note] for i in Item.objects.order_by("name")]))
"""


def render_new(project: Project, spec: dict[str, Any]) -> list[dict[str, Any]]:
    code = RENDER.replace("SHAPE", SHAPE).replace("SPEC", repr(spec))
    result: list[dict[str, Any]] = json.loads(project.python(code))
    return result


def carry(project: Project, picks: list[tuple[str, int | None]], **spec: Any) -> str:
    """The new migration's text; it must render."""
    [result] = render_new(project, {"renders": [{"picks": picks, **spec}]})
    assert "error" not in result, result["error"]
    text: str = result["text"]
    return text


def replace_history(project: Project, text: str) -> None:
    """Delete every old file of the migrations package; write the new one."""
    folder = project.root / "pantry" / "migrations"
    for path in folder.glob("*.py"):
        if path.name != "__init__.py":
            path.unlink()
    (folder / f"{NEW}.py").write_text(text)


def loaded_shapes(project: Project) -> list[Any]:
    code = LOADED.replace("SHAPE", SHAPE).replace("NAME", repr(NEW))
    result: list[Any] = json.loads(project.python(code))
    return result


def rows(project: Project) -> list[list[str]]:
    result: list[list[str]] = json.loads(project.python(ROWS))
    return result


def fresh_migrate(project: Project) -> None:
    project.use_databases(default=project.new_database())
    project.manage("migrate")


@pytest.fixture
def sqlite_project(tmp_path: Path) -> Iterator[Callable[[str], Project]]:
    """The scenario on SQLite only, for tests where the backend does not matter."""
    made: list[Project] = []

    def make(scenario: str) -> Project:
        project = Project.from_scenario(scenario, tmp_path / f"p{len(made)}", "sqlite")
        made.append(project)
        project.use_databases(default=project.new_database())
        return project

    yield make
    for project in made:
        project.close()


ALL = [
    ("0001_initial", None),
    ("0002_seed_items", None),
    ("0003_more_items", None),
    ("0004_sql", None),
    ("0005_custom", None),
    ("0006_separate", None),
]


def partial(func: str, **keywords: str) -> str:
    """How this Django version writes ``functools.partial(func, **keywords)``."""
    if django.VERSION >= (6, 0):
        arguments = "".join(f", {key}={value}" for key, value in keywords.items())
        return f"functools.partial({func}{arguments})"
    arguments = ", ".join(f"'{key}': {value}" for key, value in keywords.items())
    return f"functools.partial({func}, *(), **{{{arguments}}})"


#: The whole new file for ALL; Django's writer output plus the copied block.
EXPECTED_ALL = '''\
import django.db.migrations.operations.special
import functools
import pantry.seeding
from decimal import Decimal
from django.db import migrations, models

import decimal
from django.db.migrations.operations.base import Operation


# Copied from pantry.migrations._helpers.
CENT = Decimal("0.01")


def add_item(apps, name, price, label=""):
    Item = apps.get_model("pantry", "Item")
    # one row per name; the price is rounded to the cent
    Item.objects.create(name=name, price=Decimal(price).quantize(CENT), note=label)


# Copied from pantry.migrations.0002_seed_items.
# What every new pantry starts with.
ITEMS_0002_seed_items = [("flour", "1.50"), ("sugar", "2.25")]


MARKUP = decimal.Decimal("1.10")


def label_0002_seed_items(name):
    return f"{name} (starter)"


def forwards_0002_seed_items(apps, schema_editor):
    for name, price in ITEMS_0002_seed_items:
        # the keyword, this comment and the string "label" keep their name
        add_item(apps, name, decimal.Decimal(price) * MARKUP, label=label_0002_seed_items(name))


def backwards_0002_seed_items(apps, schema_editor):
    Item = apps.get_model("pantry", "Item")
    Item.objects.filter(name__in=[name for name, _price in ITEMS_0002_seed_items]).delete()


# Copied from pantry.migrations.0003_more_items.
ITEMS_0003_more_items = {"salt": "0.80", "pepper": "3.10"}


def label_0003_more_items(name):
    return name.upper()


def forwards_0003_more_items(apps, schema_editor):
    for name in sorted(ITEMS_0003_more_items):
        add_item(apps, name, ITEMS_0003_more_items[name], label=label_0003_more_items(name))


def backwards_0003_more_items(apps, schema_editor):
    apps.get_model("pantry", "Item").objects.filter(name__in=ITEMS_0003_more_items).delete()


# Copied from pantry.migrations.0005_custom.
def rows_for(prefix):
    return [(f"{prefix}-{number}", number) for number in (1, 2)]


class InsertRows(Operation):
    """Insert the rows that ``make_rows(prefix)`` returns."""

    reversible = False

    def __init__(self, make_rows, prefix):
        self.make_rows = make_rows
        self.prefix = prefix

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        Item = to_state.apps.get_model(app_label, "Item")
        for name, price in self.make_rows(self.prefix):
            Item.objects.using(schema_editor.connection.alias).create(name=name, price=price)

    def describe(self):
        return f"Insert rows for {self.prefix}"


def add_named(apps, schema_editor, name, price):
    apps.get_model("pantry", "Item").objects.create(name=name, price=price)


# Copied from pantry.migrations.0006_separate.
def mark_notes(apps, schema_editor):
    Item = apps.get_model("pantry", "Item")
    Item.objects.filter(note="").update(note="plain")


class Fill:
    SUFFIX = "!"

    @classmethod
    def shout(cls, apps, schema_editor):
        for item in apps.get_model("pantry", "Item").objects.filter(name="honey"):
            item.note = item.name + cls.SUFFIX
            item.save()


class Migration(migrations.Migration):

    replaces = [('pantry', '0001_initial'), ('pantry', '0002_seed_items'), ('pantry', '0003_more_items'), ('pantry', '0004_sql'), ('pantry', '0005_custom'), ('pantry', '0006_separate')]

    initial = True

    dependencies = [
    ]

    operations = [
        migrations.CreateModel(
            name='Item',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=50, unique=True)),
                ('price', models.DecimalField(decimal_places=2, default=0, max_digits=8)),
                ('note', models.CharField(blank=True, default='', max_length=100)),
            ],
        ),
        migrations.RunPython(
            code=forwards_0002_seed_items,
            reverse_code=backwards_0002_seed_items,
        ),
        migrations.RunPython(
            code=forwards_0003_more_items,
            reverse_code=backwards_0003_more_items,
            hints={'purpose': 'seed'},
        ),
        migrations.RunSQL(
            sql="INSERT INTO pantry_item (name, price, note) VALUES ('rice', 4.00, 'sql')",
            reverse_sql="DELETE FROM pantry_item WHERE name = 'rice'",
        ),
        migrations.RunSQL(
            sql=[('INSERT INTO pantry_item (name, price, note) VALUES (%s, %s, %s)', ['oats', Decimal('2.10'), 'params']), "UPDATE pantry_item SET note = 'listed' WHERE name = 'oats'"],
            reverse_sql=[('DELETE FROM pantry_item WHERE name = %s', ['oats'])],
            hints={'target': 'default'},
        ),
        migrations.RunSQL(
            sql='CREATE INDEX item_note_idx ON pantry_item (note)',
            reverse_sql='',
            state_operations=[migrations.AddIndex(
                model_name='item',
                index=models.Index(fields=['note'], name='item_note_idx'),
            )],
        ),
        InsertRows(
            make_rows=rows_for,
            prefix='box',
        ),
        migrations.RunPython(
            code=PARTIAL_HONEY,
            reverse_code=django.db.migrations.operations.special.RunPython.noop,
            atomic=False,
        ),
        migrations.RunPython(
            code=pantry.seeding.add_defaults,
            elidable=True,
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql="UPDATE pantry_item SET price = price + 1 WHERE name = 'water'",
                ),
                migrations.RunPython(
                    code=mark_notes,
                ),
            ],
            state_operations=[
                migrations.AlterModelOptions(
                    name='item',
                    options={'ordering': ['name']},
                ),
            ],
        ),
        migrations.RunPython(
            code=Fill.shout,
        ),
    ]
'''.replace("PARTIAL_HONEY", partial("add_named", name="'honey'", price="7"))

EXPECTED_ROWS = [
    ["box-1", "1.00", "plain"],
    ["box-2", "2.00", "plain"],
    ["flour", "1.65", "flour (starter)"],
    ["honey", "7.00", "honey!"],
    ["oats", "2.10", "listed"],
    ["pepper", "3.10", "PEPPER"],
    ["rice", "4.00", "sql"],
    ["salt", "0.80", "SALT"],
    ["sugar", "2.48", "sugar (starter)"],
    ["water", "1.00", "plain"],
]


def test_carried_code_runs_without_the_old_files(
    make_project: Callable[[str], Project],
) -> None:
    """Every kind of carried operation, written, loaded and run on a fresh database.

    The old history fills one database; the new file alone fills another, after
    every old file (and the helper module beside them) is deleted. The rows are
    the same, and the loaded operations are the originals (functions compared
    by their bytecode, so the renamed copies count as equal).
    """
    project = make_project("carry")
    project.manage("migrate")
    old_rows = rows(project)
    [result] = render_new(project, {"renders": [{"picks": ALL, "name": NEW}]})

    assert result["text"] == EXPECTED_ALL
    compile(result["text"], NEW, "exec")
    replace_history(project, result["text"])
    assert project.migration_files("pantry/migrations") == [f"{NEW}.py"]
    fresh_migrate(project)

    assert old_rows == EXPECTED_ROWS
    assert rows(project) == EXPECTED_ROWS
    assert loaded_shapes(project) == result["shapes"]
    project.manage("makemigrations", "--check", "--dry-run")


# -- refusals -----------------------------------------------------------------------

HEAD = """\
from django.db import migrations


"""

#: Old migrations (added to ``pantry``) whose code cannot be copied faithfully.
REFUSED = {
    "0101_lambda": """\
        class Migration(migrations.Migration):
            dependencies = [("pantry", "0001_initial")]
            operations = [migrations.RunPython(lambda apps, schema_editor: None)]
        """,
    "0102_closure": """\
        def make(name):
            def forwards(apps, schema_editor):
                apps.get_model("pantry", "Item").objects.create(name=name)

            return forwards


        class Migration(migrations.Migration):
            dependencies = [("pantry", "0001_initial")]
            operations = [migrations.RunPython(make("tea"))]
        """,
    "0103_built": """\
        def make_forwards():
            def forwards(apps, schema_editor):
                pass

            return forwards


        forwards = make_forwards()


        class Migration(migrations.Migration):
            dependencies = [("pantry", "0001_initial")]
            operations = [migrations.RunPython(forwards)]
        """,
    "0104_globals": """\
        def helper(apps):
            pass


        def forwards(apps, schema_editor):
            globals()["helper"](apps)


        class Migration(migrations.Migration):
            dependencies = [("pantry", "0001_initial")]
            operations = [migrations.RunPython(forwards)]
        """,
    "0105_import_module": """\
        from importlib import import_module

        seed = import_module("pantry.migrations.0002_seed_items")


        def forwards(apps, schema_editor):
            seed.forwards(apps, schema_editor)


        class Migration(migrations.Migration):
            dependencies = [("pantry", "0001_initial")]
            operations = [migrations.RunPython(forwards)]
        """,
    "0106_partial": """\
        import functools


        class Migration(migrations.Migration):
            dependencies = [("pantry", "0001_initial")]
            operations = [
                migrations.RunPython(
                    functools.partial(lambda apps, schema_editor, name: None, name="tea")
                )
            ]
        """,
    "0107_conditional": """\
        from django.conf import settings

        if settings.DEBUG:
            EXTRA = ["debug tea"]
        else:
            EXTRA = []


        def forwards(apps, schema_editor):
            for name in EXTRA:
                apps.get_model("pantry", "Item").objects.create(name=name)


        class Migration(migrations.Migration):
            dependencies = [("pantry", "0001_initial")]
            operations = [migrations.RunPython(forwards)]
        """,
    "0108_changed": """\
        NAMES = ["tea"]
        NAMES.append("coffee")


        def forwards(apps, schema_editor):
            for name in NAMES:
                apps.get_model("pantry", "Item").objects.create(name=name)


        class Migration(migrations.Migration):
            dependencies = [("pantry", "0001_initial")]
            operations = [migrations.RunPython(forwards)]
        """,
    "0109_star": """\
        from pantry.seeding import *


        def forwards(apps, schema_editor):
            add_defaults(apps, schema_editor)


        class Migration(migrations.Migration):
            dependencies = [("pantry", "0001_initial")]
            operations = [migrations.RunPython(forwards)]
        """,
    "0110_module": """\
        from pantry.migrations import _helpers


        def forwards(apps, schema_editor):
            _helpers.add_item(apps, "tea", 1)


        class Migration(migrations.Migration):
            dependencies = [("pantry", "0001_initial")]
            operations = [migrations.RunPython(forwards)]
        """,
    "0111_class": """\
        from django.db.migrations.operations.base import Operation

        Nothing = type("Nothing", (Operation,), {"state_forwards": lambda *args: None})


        class Migration(migrations.Migration):
            dependencies = [("pantry", "0001_initial")]
            operations = [Nothing()]
        """,
    "0112_gone": """\
        def forwards(apps, schema_editor):
            pass


        class Migration(migrations.Migration):
            dependencies = [("pantry", "0001_initial")]
            operations = [migrations.RunPython(forwards)]
        """,
    "0113_old_migration": """\
        def forwards(apps, schema_editor):
            for operation in Migration.operations:
                pass


        class Migration(migrations.Migration):
            dependencies = [("pantry", "0001_initial")]
            operations = [migrations.RunPython(forwards)]
        """,
    "0115_positional": """\
        import pantry.ops


        class Migration(migrations.Migration):
            dependencies = [("pantry", "0001_initial")]
            operations = [pantry.ops.CallWith(lambda apps: None)]
        """,
    "0114_nested": """\
        class Migration(migrations.Migration):
            dependencies = [("pantry", "0001_initial")]
            operations = [
                migrations.RunSQL("SELECT 1"),
                migrations.SeparateDatabaseAndState(
                    database_operations=[
                        migrations.RunSQL("SELECT 2"),
                        migrations.RunPython(migrations.RunPython.noop, lambda apps, se: None),
                    ]
                ),
                migrations.RunPython(lambda apps, schema_editor: None),
            ]
        """,
}

WAYS_OUT = (
    "Mark the operation elidable=True if new databases do not need it, list it in "
    "REMAKE_MIGRATIONS_DROP_OPERATIONS, or move the code into a module of the app "
    "(e.g. pantry/migration_helpers.py) and use it from there in the old migration."
)


@pytest.fixture(scope="module")
def refusals(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Render each refused migration (and a plan of two) in one subprocess."""
    project = Project.from_scenario(
        "carry", tmp_path_factory.mktemp("refused"), "sqlite"
    )
    project.use_databases(default=project.new_database())
    for name, body in REFUSED.items():
        project.write(f"pantry/migrations/{name}.py", HEAD + textwrap.dedent(body))
    gone = project.root / "pantry" / "migrations" / "0112_gone.py"
    names = list(REFUSED)
    spec = {
        "renders": [{"picks": [(name, None)], "name": NEW} for name in names],
        "delete_before": [str(gone)],
        "plan": [
            {"picks": [("0101_lambda", None)], "name": NEW},
            {"picks": [("0104_globals", None)], "name": "0002_remaked_20261201"},
        ],
    }
    results = render_new(project, spec)
    yield {**dict(zip(names, results, strict=False)), "plan": results[-1]}
    project.close()


def refused(name: str, position: int, kind: str, detail: str) -> str:
    return (
        f"Operation {position} ({kind}) of migration 'pantry.{name}' cannot be "
        f"carried into 'pantry.{NEW}': {detail}. {WAYS_OUT}"
    )


M = "pantry.migrations"


@pytest.mark.parametrize(
    ("name", "kind", "detail"),
    [
        (
            "0101_lambda",
            "RunPython",
            f"its code is a lambda ({M}.0101_lambda, line 6), whose source cannot "
            "be copied faithfully",
        ),
        (
            "0102_closure",
            "RunPython",
            "its code `forwards` is defined inside another function "
            f"(`make.<locals>.forwards`, {M}.0102_closure, line 5), so it may depend "
            "on that function's variables",
        ),
        (
            "0103_built",
            "RunPython",
            "its code `forwards` is built at import time (`forwards = make_forwards()`, "
            f"{M}.0103_built, line 11), so it has no source of its own",
        ),
        (
            "0104_globals",
            "RunPython",
            f"its code `forwards` calls globals() ({M}.0104_globals, line 9), which "
            "looks names up at run time",
        ),
        (
            "0105_import_module",
            "RunPython",
            "its code `forwards` uses `seed`, which imports the old migration module "
            f"{M}.0002_seed_items at run time ({M}.0105_import_module, line 6)",
        ),
        (
            "0106_partial",
            "RunPython",
            "the function that its code wraps in functools.partial is a lambda "
            f"({M}.0106_partial, line 11), whose source cannot be copied faithfully",
        ),
        (
            "0107_conditional",
            "RunPython",
            "its code `forwards` uses `EXTRA`, which is defined inside an if, try, for "
            f"or with block ({M}.0107_conditional, line 7), so what it holds depends "
            "on how the module ran",
        ),
        (
            "0108_changed",
            "RunPython",
            "its code `forwards` uses `NAMES`, which is changed at module level after "
            f"it is defined ({M}.0108_changed, line 5); only its definition would be "
            "copied",
        ),
        (
            "0109_star",
            "RunPython",
            "its code `forwards` uses `add_defaults`, which is not defined in "
            f"{M}.0109_star; it may come from a star import",
        ),
        (
            "0110_module",
            "RunPython",
            "its code `forwards` uses `_helpers`, which is the old migration module "
            f"{M}._helpers itself (imported at {M}.0110_module, line 4); only "
            "functions, classes and constants can be copied out of it",
        ),
        (
            "0111_class",
            "Nothing",
            'its class `Nothing` is built at import time (`Nothing = type("Nothing", '
            '(Operation,), {"state_forwards": lambda *args: None})`, '
            f"{M}.0111_class, line 6), so it has no source of its own",
        ),
        (
            "0112_gone",
            "RunPython",
            "its code `forwards` has no source file to copy from (module "
            f"{M}.0112_gone)",
        ),
        (
            "0113_old_migration",
            "RunPython",
            "its code `forwards` uses `Migration`, which is the old Migration class "
            f"of {M}.0113_old_migration",
        ),
        (
            "0115_positional",
            "CallWith",
            f"its func is a lambda ({M}.0115_positional, line 9), whose source "
            "cannot be copied faithfully",
        ),
    ],
)
def test_refusal_names_the_operation_and_the_ways_out(
    refusals: dict[str, Any], name: str, kind: str, detail: str
) -> None:
    assert refusals[name] == {"error": refused(name, 1, kind, detail)}


def test_every_refused_operation_is_named_at_once(refusals: dict[str, Any]) -> None:
    """Nested operations by their place; a plan's problems in one error."""
    assert refusals["0114_nested"] == {
        "error": refused(
            "0114_nested",
            2,
            "SeparateDatabaseAndState",
            "its database_operations[1] reverse_code is a lambda "
            f"({M}.0114_nested, line 11), whose source cannot be copied faithfully",
        )
        + "\n"
        + refused(
            "0114_nested",
            3,
            "RunPython",
            f"its code is a lambda ({M}.0114_nested, line 14), whose source cannot "
            "be copied faithfully",
        )
    }
    second = refused(
        "0104_globals",
        1,
        "RunPython",
        f"its code `forwards` calls globals() ({M}.0104_globals, line 9), which "
        "looks names up at run time",
    ).replace(NEW, "0002_remaked_20261201")
    assert refusals["plan"]["problems"] == [refusals["0101_lambda"]["error"], second]


# -- names --------------------------------------------------------------------------

NAMES = """\
import functools

from django.db import migrations
from django.utils.deconstruct import deconstructible

settings = {"greeting": "hello"}


@deconstructible
class Greeting:
    def __init__(self, word):
        self.word = word


def models(apps, schema_editor, greeting):
    \"\"\"Named like the module Django's writer imports as `models`.\"\"\"
    Item = apps.get_model("pantry", "Item")
    Item.objects.create(name=greeting.word, note=settings["greeting"])


class Migration(migrations.Migration):
    dependencies = [("pantry", "0001_initial")]
    operations = [
        migrations.RunPython(functools.partial(models, greeting=Greeting("tea"))),
    ]
"""


def test_copied_names_never_shadow_what_django_writes(
    sqlite_project: Callable[[str], Project],
) -> None:
    """`models` and `settings` are Django's in the new file; the copies are renamed.

    The instance of a class from the old migration is written as a call of the
    copied class.
    """
    project = sqlite_project("carry")
    project.write("pantry/migrations/0201_names.py", NAMES)
    text = carry(
        project,
        [("0001_initial", None), ("0201_names", None)],
        dependencies=[("__setting__", "AUTH_USER_MODEL")],
    )

    head = text[: text.index("class Migration")]
    assert head == textwrap.dedent(
        '''\
        import functools
        from django.conf import settings
        from django.db import migrations, models

        from django.utils.deconstruct import deconstructible


        # Copied from pantry.migrations.0201_names.
        settings_0201_names = {"greeting": "hello"}


        @deconstructible
        class Greeting:
            def __init__(self, word):
                self.word = word


        def models_0201_names(apps, schema_editor, greeting):
            """Named like the module Django's writer imports as `models`."""
            Item = apps.get_model("pantry", "Item")
            Item.objects.create(name=greeting.word, note=settings_0201_names["greeting"])


        '''
    )
    assert "migrations.swappable_dependency(settings.AUTH_USER_MODEL)," in text
    greet = partial("models_0201_names", greeting="Greeting('tea')")
    assert f"code={greet}," in text
    replace_history(project, text)
    fresh_migrate(project)
    assert rows(project) == [["tea", "0.00", "hello"]]


SHARED = """\
from django.db import migrations

BATCH = {batch}


def names(prefix):
    return [f"{{prefix}}{{number}}" for number in range(BATCH)]


def forwards(apps, schema_editor):
    Item = apps.get_model("pantry", "Item")
    Item.objects.bulk_create([Item(name=name) for name in names("{prefix}")])


class Migration(migrations.Migration):
    dependencies = [("pantry", "0001_initial")]
    operations = [migrations.RunPython(forwards)]
"""


def test_identical_definitions_are_copied_once(
    sqlite_project: Callable[[str], Project],
) -> None:
    """0202 and 0203 share BATCH and names() word for word: one copy serves both.

    0204's names() reads the same but its BATCH differs, so it keeps its own.
    """
    project = sqlite_project("carry")
    project.write("pantry/migrations/0202_a.py", SHARED.format(batch=2, prefix="a"))
    project.write("pantry/migrations/0203_b.py", SHARED.format(batch=2, prefix="b"))
    project.write("pantry/migrations/0204_c.py", SHARED.format(batch=3, prefix="c"))
    picks: list[tuple[str, int | None]] = [
        ("0001_initial", None),
        ("0202_a", None),
        ("0203_b", None),
        ("0204_c", None),
    ]
    text = carry(project, picks)

    copied = text[text.index("# Copied") : text.index("class Migration")]
    assert copied == textwrap.dedent(
        """\
        # Copied from pantry.migrations.0202_a.
        BATCH_0202_a = 2


        def names_0202_a(prefix):
            return [f"{prefix}{number}" for number in range(BATCH_0202_a)]


        def forwards_0202_a(apps, schema_editor):
            Item = apps.get_model("pantry", "Item")
            Item.objects.bulk_create([Item(name=name) for name in names_0202_a("a")])


        # Copied from pantry.migrations.0203_b.
        def forwards_0203_b(apps, schema_editor):
            Item = apps.get_model("pantry", "Item")
            Item.objects.bulk_create([Item(name=name) for name in names_0202_a("b")])


        # Copied from pantry.migrations.0204_c.
        BATCH_0204_c = 3


        def names_0204_c(prefix):
            return [f"{prefix}{number}" for number in range(BATCH_0204_c)]


        def forwards_0204_c(apps, schema_editor):
            Item = apps.get_model("pantry", "Item")
            Item.objects.bulk_create([Item(name=name) for name in names_0204_c("c")])


        """
    )
    replace_history(project, text)
    fresh_migrate(project)
    assert [row[0] for row in rows(project)] == [
        "a0",
        "a1",
        "b0",
        "b1",
        "c0",
        "c1",
        "c2",
    ]


TYPED = """\
from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import migrations

if TYPE_CHECKING:
    from django.apps.registry import Apps

NAME: str = "typed"


def forwards(apps: Apps, schema_editor: object) -> None:
    apps.get_model("pantry", "Item").objects.create(name=NAME)


class Migration(migrations.Migration):
    dependencies = [("pantry", "0001_initial")]
    operations = [migrations.RunPython(forwards)]
"""


def test_lazy_annotations_stay_lazy(sqlite_project: Callable[[str], Project]) -> None:
    """Copied from a module with ``from __future__ import annotations``, whose
    annotations name things imported only for type checkers: the new file gets
    the same future import, and the checker-only import is not needed."""
    project = sqlite_project("carry")
    project.write("pantry/migrations/0205_typed.py", TYPED)
    text = carry(project, [("0001_initial", None), ("0205_typed", None)])

    assert text.startswith(
        "from __future__ import annotations\n\nfrom django.db import migrations, models\n\n\n"
        "# Copied from pantry.migrations.0205_typed.\n"
        'NAME: str = "typed"\n\n\n'
        "def forwards(apps: Apps, schema_editor: object) -> None:\n"
    )
    replace_history(project, text)
    fresh_migrate(project)
    assert rows(project) == [["typed", "0.00", ""]]


def test_without_copied_code_the_file_is_djangos(
    sqlite_project: Callable[[str], Project],
) -> None:
    """Operations that refer to no old migration module are written by Django's
    writer alone: fields, managers, settings references, constraints, indexes."""
    project = sqlite_project("carry")
    same = project.python(
        """
        from django.db.migrations.loader import MigrationLoader
        from django.db.migrations.migration import Migration
        from django.db.migrations.writer import MigrationWriter
        from django_remake.writer import migration_module_names, render_migration

        loader = MigrationLoader(None, ignore_no_migrations=True)
        new = Migration("0001_remaked_20261201", "pantry")
        new.initial = True
        from django.conf import settings
        from django.contrib.auth.models import UserManager
        from django.db import migrations, models
        from django.utils import timezone

        made = migrations.CreateModel(
            name="Basket",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("owner", models.ForeignKey(on_delete=models.CASCADE, to=settings.AUTH_USER_MODEL)),
                ("created", models.DateTimeField(default=timezone.now)),
                ("size", models.IntegerField(choices=[(1, "small"), (2, "big")], default=1)),
            ],
            options={"constraints": [models.CheckConstraint(condition=models.Q(size__gte=1), name="size_positive")]},
            managers=[("objects", UserManager())],
        )
        new.dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL)]
        new.operations = [
            *loader.disk_migrations[("pantry", "0001_initial")].operations,
            *loader.disk_migrations[("pantry", "0004_sql")].operations,
            made,
            migrations.AddIndex("basket", models.Index(models.F("size"), name="basket_size")),
        ]
        ours = render_migration(new, migration_modules=migration_module_names())
        print(ours == MigrationWriter(new).as_string())
        """
    )
    assert same == "True\n"


POSTGRES = """\
from django.contrib.postgres.operations import (
    BtreeGinExtension,
    CreateCollation,
    CreateExtension,
    TrigramExtension,
)
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("pantry", "0001_initial")]
    operations = [
        CreateExtension("hstore"),
        TrigramExtension(),
        BtreeGinExtension(),
        CreateCollation(
            "case_insensitive",
            provider="icu",
            locale="und-u-ks-level2",
            deterministic=False,
        ),
    ]
"""


def test_postgres_operations_round_trip(
    make_project: Callable[[str], Project], backend: str
) -> None:
    """Written as Django writes them; they load back equal, and on PostgreSQL
    a fresh database gets the extensions and the collation."""
    # django.contrib.postgres.operations imports psycopg, which a venv made
    # for SQLite alone (runtests.py --backends sqlite) does not have.
    pytest.importorskip("psycopg")
    project = make_project("carry")
    project.write("pantry/migrations/0301_postgres.py", POSTGRES)
    [result] = render_new(
        project,
        {
            "renders": [
                {
                    "picks": [("0001_initial", None), ("0301_postgres", None)],
                    "name": NEW,
                }
            ]
        },
    )
    text = result["text"]
    operations = text[
        text.index("        django.contrib.postgres.operations.CreateExtension(") :
    ]
    assert textwrap.dedent(operations) == textwrap.dedent(
        """\
                django.contrib.postgres.operations.CreateExtension(
                    name='hstore',
                ),
                django.contrib.postgres.operations.TrigramExtension(
                ),
                django.contrib.postgres.operations.BtreeGinExtension(
                ),
                django.contrib.postgres.operations.CreateCollation(
                    name='case_insensitive',
                    locale='und-u-ks-level2',
                    provider='icu',
                    deterministic=False,
                ),
            ]
        """
    )
    replace_history(project, text)
    assert loaded_shapes(project) == result["shapes"]
    if backend != "postgresql":
        return  # the operations themselves only run on PostgreSQL
    fresh_migrate(project)
    found = project.python(
        """
        from django.db import connection
        with connection.cursor() as cursor:
            cursor.execute("SELECT extname FROM pg_extension ORDER BY extname")
            print([row[0] for row in cursor.fetchall()])
            cursor.execute(
                "SELECT collname, collisdeterministic FROM pg_collation "
                "WHERE collname = 'case_insensitive'"
            )
            print(cursor.fetchall())
        """
    )
    assert found == (
        "['btree_gin', 'hstore', 'pg_trgm', 'plpgsql']\n[('case_insensitive', False)]\n"
    )


APP_OPERATION = """\
from django.db import migrations

import pantry.ops

NAME = "from-the-app"


def fill(apps):
    apps.get_model("pantry", "Item").objects.create(name=NAME)


class Migration(migrations.Migration):
    dependencies = [("pantry", "0001_initial")]
    operations = [pantry.ops.CallWith(fill)]
"""


def test_an_operation_of_the_app_gets_the_copied_function(
    sqlite_project: Callable[[str], Project],
) -> None:
    """The operation class stays imported from the app; its argument is copied."""
    project = sqlite_project("carry")
    project.write("pantry/migrations/0206_app_operation.py", APP_OPERATION)
    text = carry(project, [("0001_initial", None), ("0206_app_operation", None)])

    assert text.startswith(
        "import pantry.ops\nfrom django.db import migrations, models\n\n\n"
        "# Copied from pantry.migrations.0206_app_operation.\n"
        'NAME = "from-the-app"\n\n\n'
        "def fill(apps):\n"
    )
    assert "        pantry.ops.CallWith(\n            func=fill,\n        ),\n" in text
    replace_history(project, text)
    fresh_migrate(project)
    assert rows(project) == [["from-the-app", "0.00", ""]]
