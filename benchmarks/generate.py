#!/usr/bin/env python
"""Write a synthetic, realistic Django project with a long migration history.

The project has ``--apps`` apps, each with ``--migrations`` migrations. Running
``makemigrations`` once per step would be far too slow for big projects, so the
history is made directly: operations (CreateModel, AddField, AlterField,
RenameField, RemoveField, AddIndex, AddConstraint, AlterModelOptions,
DeleteModel, ...) are built in memory, applied to a ``ProjectState`` to keep
track of the models, and written with Django's own ``MigrationWriter``. Each
app's ``models.py`` is rendered from the final state, so ``makemigrations
--check`` finds no changes.

The history has what real projects have:

* a custom user model in the first app (``AUTH_USER_MODEL``), which
  ``django.contrib.admin`` and several apps point at (swappable dependencies);
* foreign keys from every app to one or two earlier apps, and, late in the
  history, a few back-references from an earlier app to a later one, so that
  pairs of apps form foreign-key cycles;
* a few hand-written ``RunPython`` data migrations.

The output is deterministic for a given ``--seed``.

Usage::

    python benchmarks/generate.py --apps 20 --migrations 25 --out /tmp/bench
    cd /tmp/bench && python manage.py migrate && python manage.py makemigrations --check
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import django
from django.conf import settings

USER_APP = "accounts"
USER_MODEL = "User"
PROJECT_PACKAGE = "bench_project"

APP_NAMES = [
    "catalog",
    "orders",
    "billing",
    "shipping",
    "inventory",
    "support",
    "marketing",
    "reports",
    "crm",
    "projects",
    "hr",
    "payments",
    "content",
    "events",
    "reviews",
    "search",
    "notifications",
    "analytics",
    "booking",
    "media",
]
MODEL_NAMES = [
    "Article",
    "Invoice",
    "Customer",
    "Product",
    "Order",
    "Ticket",
    "Project",
    "Task",
    "Payment",
    "Shipment",
    "Review",
    "Category",
    "Tag",
    "Event",
    "Location",
    "Document",
    "Contract",
    "Supplier",
    "Report",
    "Comment",
    "Subscription",
    "Plan",
    "Team",
    "Asset",
    "Budget",
    "Voucher",
    "Warehouse",
    "Batch",
    "Campaign",
    "Lead",
]
FIELD_NAMES = [
    "title",
    "name",
    "code",
    "status",
    "amount",
    "quantity",
    "price",
    "note",
    "description",
    "priority",
    "created_at",
    "updated_at",
    "rank",
    "score",
    "label",
    "kind",
    "weight",
    "color",
    "reference",
    "position",
    "level",
    "budget",
    "region",
    "channel",
    "is_enabled",
    "external_id",
    "starts_on",
    "summary",
]

SETTINGS = '''\
"""Settings of a synthetic project written by benchmarks/generate.py."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "benchmark-only-not-secret"
DEBUG = False
ALLOWED_HOSTS: list[str] = []

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
{apps}
    "django_remake",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "{package}.urls"

TEMPLATES = [
    {{
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {{
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        }},
    }},
]

DATABASES = {{
    "default": {{
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("BENCH_DATABASE_PATH") or BASE_DIR / "db.sqlite3",
    }}
}}

AUTH_USER_MODEL = "{user_app}.{user_model}"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
'''

URLS = """\
from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
"""

MANAGE = """\
#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{package}.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""

DATA_MIGRATION = """\
from django.db import migrations


def forwards(apps, schema_editor):
    {model} = apps.get_model("{app}", "{model}")
{body}


class Migration(migrations.Migration):

    dependencies = [
        ("{app}", "{previous}"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
"""


def _setup_django() -> None:
    """A minimal Django, just enough to build fields and serialize operations.

    ``AUTH_USER_MODEL`` is switched to the generated user model only after
    setup (auth's ``ready()`` looks the user model up), so that foreign keys to
    it deconstruct to ``settings.AUTH_USER_MODEL`` as in a real project.
    """
    if not settings.configured:
        settings.configure(
            INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
            DATABASES={},
            USE_TZ=True,
            DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        )
    django.setup()
    from django.apps import apps

    settings.AUTH_USER_MODEL = f"{USER_APP}.{USER_MODEL}"
    for model in apps.get_models(include_auto_created=True, include_swapped=True):
        model._meta.__dict__.pop("swapped", None)
    apps.clear_cache()


# Imported after settings exist (see main()).
models: Any = None
migrations: Any = None
ProjectState: Any = None
MigrationWriter: Any = None


def _import_django_parts() -> None:
    global models, migrations, ProjectState, MigrationWriter
    from django.db import migrations as django_migrations
    from django.db import models as django_models
    from django.db.migrations.state import ProjectState as DjangoProjectState
    from django.db.migrations.writer import MigrationWriter as DjangoMigrationWriter

    models = django_models
    migrations = django_migrations
    ProjectState = DjangoProjectState
    MigrationWriter = DjangoMigrationWriter


@dataclass
class App:
    index: int
    label: str
    #: earlier apps this app points at
    targets: list[str] = field(default_factory=list)
    #: migration names, in order
    names: list[str] = field(default_factory=list)
    #: models that may be deleted again and are never pointed at
    scratch: set[str] = field(default_factory=set)
    #: per model, fields an index, constraint or the base class depends on
    pinned: dict[str, set[str]] = field(default_factory=dict)
    data_step: int | None = None


@dataclass
class Step:
    """The migration being built for one app."""

    app: App
    operations: list[Any] = field(default_factory=list)
    dependencies: set[tuple[str, str]] = field(default_factory=set)
    #: (model, field) pairs added or changed by this migration
    touched: set[tuple[str, str]] = field(default_factory=set)
    #: models created by this migration
    created: set[str] = field(default_factory=set)


class Generator:
    def __init__(self, n_apps: int, n_migrations: int, seed: int) -> None:
        if n_apps < 1 or n_migrations < 2:
            raise SystemExit("need --apps >= 1 and --migrations >= 2")
        self.rng = random.Random(seed)
        self.n_migrations = n_migrations
        self.state = ProjectState()
        self.counter = 0
        self.apps: list[App] = [App(0, USER_APP)]
        for i in range(1, n_apps):
            label = f"{APP_NAMES[(i - 1) % len(APP_NAMES)]}{i:02d}"
            self.apps.append(App(i, label))
        self.by_label = {app.label: app for app in self.apps}
        for app in self.apps[1:]:
            earlier = self.apps[: app.index]
            count = min(len(earlier), self.rng.choice([1, 1, 2]))
            app.targets = [a.label for a in self.rng.sample(earlier, count)]
        for app in self.apps:
            if app.index % 3 == 1 and n_migrations >= 4:
                app.data_step = self.rng.randint(2, n_migrations - 1)
        # Late back-references: an earlier app gets a foreign key to a later
        # app that already points at it, so the two apps form a cycle.
        self.back_refs: dict[tuple[str, int], str] = {}
        candidates = [app for app in self.apps[1:] if app.targets]
        for app in self.rng.sample(
            candidates, min(len(candidates), max(1, len(self.apps) // 5))
        ):
            pointed_at = self.rng.choice(app.targets)
            step = self.rng.randint(max(1, n_migrations // 2), n_migrations - 1)
            self.back_refs[(pointed_at, step)] = app.label

    # -- helpers -----------------------------------------------------------
    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def _model_names(self, label: str) -> list[str]:
        return [ms.name for (app, _), ms in self.state.models.items() if app == label]

    def _model_state(self, label: str, model: str) -> Any:
        return self.state.models[(label, model.lower())]

    def _targets(self, label: str) -> list[str]:
        """Models of an app that others may point at (never deleted)."""
        app = self.by_label[label]
        return [m for m in self._model_names(label) if m not in app.scratch]

    def _free_name(self, existing: Iterable[str], pool: list[str]) -> str:
        taken = {name.lower() for name in existing}
        choices = [name for name in pool if name.lower() not in taken]
        if choices:
            return self.rng.choice(choices)
        base = self.rng.choice(pool)
        n = 2
        while f"{base}_{n}".lower() in taken:
            n += 1
        return f"{base}_{n}"

    def _free_model_name(self, label: str) -> str:
        # Deleted names are not reused: a new model of the same name would
        # inherit the old one's content types and confuse a reader.
        used = set(self._model_names(label)) | self.by_label[label].scratch
        return self._free_name(used, MODEL_NAMES)

    def _plain_field(self) -> Any:
        kind = self.rng.randrange(9)
        if kind == 0:
            return models.CharField(
                max_length=self.rng.choice([50, 100, 200]), default=""
            )
        if kind == 1:
            return models.CharField(max_length=self.rng.choice([32, 64]), blank=True)
        if kind == 2:
            return models.IntegerField(default=0)
        if kind == 3:
            return models.PositiveIntegerField(default=0)
        if kind == 4:
            return models.BooleanField(default=False)
        if kind == 5:
            return models.DateTimeField(blank=True, null=True)
        if kind == 6:
            return models.DecimalField(decimal_places=2, default=0, max_digits=10)
        if kind == 7:
            return models.TextField(blank=True, default="")
        return models.SlugField(blank=True, max_length=80)

    def _fk(self, step: Step, source: str, name: str, target: tuple[str, str]) -> Any:
        """A foreign key to ``target`` (app, model), with its dependency."""
        app_label, model = target
        related = f"{step.app.label}_{source.lower()}_{name}_set"
        on_delete = self.rng.choice([models.CASCADE, models.PROTECT, models.SET_NULL])
        kwargs: dict[str, Any] = {"on_delete": on_delete, "related_name": related}
        if on_delete is models.SET_NULL or step.app.label != app_label:
            kwargs.update(null=True, blank=True)
        if (app_label, model) == (USER_APP, USER_MODEL):
            to = settings.AUTH_USER_MODEL
            if step.app.label != USER_APP:
                step.dependencies.add(("__setting__", "AUTH_USER_MODEL"))
        else:
            to = f"{app_label}.{model}"
            self._depend(step, app_label)
        return models.ForeignKey(to, **kwargs)

    def _depend(self, step: Step, app_label: str) -> None:
        if app_label != step.app.label:
            step.dependencies.add((app_label, self.by_label[app_label].names[-1]))

    def _apply(self, step: Step, operation: Any) -> None:
        operation.state_forwards(step.app.label, self.state)
        step.operations.append(operation)

    def _pick_target(
        self, step: Step, allow_own: bool = True
    ) -> tuple[str, str] | None:
        """A model to point a foreign key at: own app, an earlier app, or the user."""
        choices: list[tuple[str, str]] = []
        if allow_own:
            own = [m for m in self._targets(step.app.label) if m not in step.created]
            choices += [(step.app.label, m) for m in own]
        for label in step.app.targets:
            choices += [(label, m) for m in self._targets(label)]
        if step.app.label != USER_APP and self.rng.random() < 0.2:
            return (USER_APP, USER_MODEL)
        return self.rng.choice(choices) if choices else None

    def _sources(self, step: Step) -> list[str]:
        """Models that may get a new relation: not scratch, not the user model."""
        label = step.app.label
        return [
            m
            for m in self._model_names(label)
            if m not in step.app.scratch and (label, m) != (USER_APP, USER_MODEL)
        ]

    def _changeable_fields(
        self, step: Step, relational: bool = False
    ) -> list[tuple[str, str]]:
        app = step.app
        result = []
        for model in self._model_names(app.label):
            if model in step.created:
                continue
            pinned = app.pinned.get(model, set())
            for name, f in self._model_state(app.label, model).fields.items():
                if name == "id" or name in pinned or (model, name) in step.touched:
                    continue
                if f.many_to_many or bool(f.is_relation) != relational:
                    continue
                result.append((model, name))
        return result

    # -- operations --------------------------------------------------------
    def create_model(
        self, step: Step, scratch: bool = False, target: tuple[str, str] | None = None
    ) -> bool:
        label = step.app.label
        name = self._free_model_name(label)
        fields: list[tuple[str, Any]] = [
            (
                "id",
                models.BigAutoField(
                    auto_created=True,
                    primary_key=True,
                    serialize=False,
                    verbose_name="ID",
                ),
            )
        ]
        names: list[str] = []
        for _ in range(self.rng.randint(2, 4)):
            fname = self._free_name(names, FIELD_NAMES)
            names.append(fname)
            fields.append((fname, self._plain_field()))
        target = target or self._pick_target(step)
        if target is not None and (not scratch or target[0] == label):
            fname = (
                target[1].lower()
                if target[1].lower() not in names
                else f"{target[1].lower()}_ref"
            )
            fields.append((fname, self._fk(step, name, fname, target)))
        options: dict[str, Any] = {}
        if self.rng.random() < 0.3:
            options["ordering"] = ["-id"]
        if self.rng.random() < 0.2:
            options["verbose_name_plural"] = f"{name.lower()} entries"
        self._apply(
            step, migrations.CreateModel(name=name, fields=fields, options=options)
        )
        step.created.add(name)
        if scratch:
            step.app.scratch.add(name)
        return True

    def delete_model(self, step: Step) -> bool:
        names = set(self._model_names(step.app.label))
        choices = sorted(
            m for m in step.app.scratch if m in names and m not in step.created
        )
        if not choices:
            return False
        self._apply(step, migrations.DeleteModel(name=self.rng.choice(choices)))
        return True

    def add_field(self, step: Step) -> bool:
        label = step.app.label
        model = self.rng.choice(self._model_names(label))
        existing = self._model_state(label, model).fields
        name = self._free_name(existing, FIELD_NAMES)
        self._apply(
            step,
            migrations.AddField(
                model_name=model.lower(), name=name, field=self._plain_field()
            ),
        )
        step.touched.add((model, name))
        return True

    def add_fk(self, step: Step, target: tuple[str, str] | None = None) -> bool:
        label = step.app.label
        sources = self._sources(step)
        target = target or self._pick_target(step)
        if not sources or target is None:
            return False
        model = self.rng.choice(sources)
        existing = self._model_state(label, model).fields
        name = self._free_name(
            existing,
            [
                target[1].lower(),
                f"{target[1].lower()}_ref",
                "parent",
                "owner",
                "source",
            ],
        )
        fk = self._fk(step, model, name, target)
        fk.null, fk.blank = True, True
        self._apply(
            step, migrations.AddField(model_name=model.lower(), name=name, field=fk)
        )
        step.touched.add((model, name))
        return True

    def add_m2m(self, step: Step) -> bool:
        label = step.app.label
        sources = self._sources(step)
        target = self._pick_target(step)
        if (
            not sources
            or target is None
            or target[0] == USER_APP
            and target[1] == USER_MODEL
        ):
            return False
        model = self.rng.choice(sources)
        existing = self._model_state(label, model).fields
        name = self._free_name(
            existing, [f"{target[1].lower()}s", "related", "members", "links"]
        )
        self._depend(step, target[0])
        m2m = models.ManyToManyField(
            f"{target[0]}.{target[1]}",
            blank=True,
            related_name=f"{label}_{model.lower()}_{name}_set",
        )
        self._apply(
            step, migrations.AddField(model_name=model.lower(), name=name, field=m2m)
        )
        step.touched.add((model, name))
        return True

    def alter_field(self, step: Step) -> bool:
        choices = self._changeable_fields(step)
        if not choices:
            return False
        model, name = self.rng.choice(choices)
        old = self._model_state(step.app.label, model).fields[name]
        _name, path, args, kwargs = old.deconstruct()
        change = self.rng.randrange(3)
        if change == 0 and "max_length" in kwargs:
            kwargs["max_length"] += 50
        elif change == 1:
            kwargs["help_text"] = (
                f"{name.replace('_', ' ').capitalize()} ({self._next()})."
            )
        else:
            kwargs["verbose_name"] = f"{name.replace('_', ' ')} {self._next()}"
        self._apply(
            step,
            migrations.AlterField(
                model_name=model.lower(), name=name, field=type(old)(*args, **kwargs)
            ),
        )
        step.touched.add((model, name))
        return True

    def rename_field(self, step: Step) -> bool:
        choices = self._changeable_fields(step)
        if not choices:
            return False
        model, name = self.rng.choice(choices)
        existing = self._model_state(step.app.label, model).fields
        new_name = self._free_name(existing, FIELD_NAMES)
        self._apply(
            step,
            migrations.RenameField(
                model_name=model.lower(), old_name=name, new_name=new_name
            ),
        )
        step.touched.add((model, new_name))
        return True

    def remove_field(self, step: Step) -> bool:
        choices = self._changeable_fields(step, relational=self.rng.random() < 0.3)
        choices = [
            (model, name)
            for model, name in choices
            if len(self._model_state(step.app.label, model).fields) > 3
        ]
        if not choices:
            return False
        model, name = self.rng.choice(choices)
        self._apply(step, migrations.RemoveField(model_name=model.lower(), name=name))
        return True

    def _indexable(self, step: Step) -> list[tuple[str, str]]:
        label = step.app.label
        result = []
        for model in self._model_names(label):
            if model in step.created or (label, model) == (USER_APP, USER_MODEL):
                continue
            for name, f in self._model_state(label, model).fields.items():
                if (
                    name != "id"
                    and not f.many_to_many
                    and not isinstance(f, models.TextField)
                ):
                    result.append((model, name))
        return result

    def add_index(self, step: Step) -> bool:
        choices = self._indexable(step)
        if not choices:
            return False
        model, name = self.rng.choice(choices)
        index = models.Index(fields=[name], name=f"{step.app.label}_{self._next()}_idx")
        self._apply(step, migrations.AddIndex(model_name=model.lower(), index=index))
        step.app.pinned.setdefault(model, set()).add(name)
        return True

    def add_constraint(self, step: Step) -> bool:
        choices = self._indexable(step)
        numeric = [
            (model, name)
            for model, name in choices
            if isinstance(
                self._model_state(step.app.label, model).fields[name],
                models.IntegerField | models.DecimalField,
            )
        ]
        constraint: Any
        if numeric and self.rng.random() < 0.5:
            model, name = self.rng.choice(numeric)
            constraint = models.CheckConstraint(
                condition=models.Q(**{f"{name}__gte": 0}),
                name=f"{step.app.label}_{self._next()}_{name}_gte_0",
            )
        elif choices:
            model, name = self.rng.choice(choices)
            constraint = models.UniqueConstraint(
                fields=[name], name=f"{step.app.label}_{self._next()}_unique_{name}"
            )
        else:
            return False
        self._apply(
            step,
            migrations.AddConstraint(model_name=model.lower(), constraint=constraint),
        )
        step.app.pinned.setdefault(model, set()).add(name)
        return True

    def alter_options(self, step: Step) -> bool:
        label = step.app.label
        choices = [
            m
            for m in self._model_names(label)
            if m not in step.created and (label, m) != (USER_APP, USER_MODEL)
        ]
        if not choices:
            return False
        model = self.rng.choice(choices)
        current = self._model_state(label, model).options
        options = {
            k: v
            for k, v in current.items()
            if k in migrations.AlterModelOptions.ALTER_OPTION_KEYS
        }
        if self.rng.random() < 0.5:
            options["ordering"] = self.rng.choice([["id"], ["-id"]])
        else:
            options["verbose_name"] = f"{model.lower()} record {self._next()}"
        self._apply(
            step, migrations.AlterModelOptions(name=model.lower(), options=options)
        )
        return True

    # -- migrations --------------------------------------------------------
    def initial(self, step: Step) -> None:
        if step.app.label == USER_APP:
            self._user_model(step)
            profile = "Profile"
            fields = [
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("bio", models.TextField(blank=True, default="")),
                (
                    "user",
                    models.OneToOneField(
                        settings.AUTH_USER_MODEL,
                        on_delete=models.CASCADE,
                        related_name="profile",
                    ),
                ),
            ]
            self._apply(step, migrations.CreateModel(name=profile, fields=fields))
            step.created.add(profile)
            self.create_model(step)
            return
        first_target = step.app.targets[0]
        self.create_model(
            step, target=(first_target, self.rng.choice(self._targets(first_target)))
        )
        for _ in range(self.rng.randint(1, 2)):
            self.create_model(step)

    def _user_model(self, step: Step) -> None:
        from django.contrib.auth.models import AbstractUser, UserManager
        from django.db.migrations.loader import MigrationLoader

        base = AbstractUser._meta
        fields: list[tuple[str, Any]] = [
            (
                "id",
                models.BigAutoField(
                    auto_created=True,
                    primary_key=True,
                    serialize=False,
                    verbose_name="ID",
                ),
            )
        ]
        for f in [*base.local_fields, *base.local_many_to_many]:
            fields.append((f.name, f.clone()))
        self._apply(
            step,
            migrations.CreateModel(
                name=USER_MODEL,
                fields=fields,
                options={
                    "verbose_name": "user",
                    "verbose_name_plural": "users",
                    "abstract": False,
                },
                managers=[("objects", UserManager())],
            ),
        )
        step.created.add(USER_MODEL)
        step.app.pinned[USER_MODEL] = {name for name, _ in fields}
        leaf = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes(
            "auth"
        )[0]
        step.dependencies.add(leaf)

    def schema_step(self, step: Step, number: int) -> None:
        back_ref = self.back_refs.get((step.app.label, number))
        if back_ref is not None:
            self.add_fk(step, (back_ref, self.rng.choice(self._targets(back_ref))))
        actions: list[tuple[Callable[[Step], bool], int]] = [
            (self.add_field, 20),
            (self.add_fk, 8),
            (self.add_m2m, 2),
            (self.create_model, 6),
            (lambda s: self.create_model(s, scratch=True), 4),
            (self.delete_model, 6),
            (self.alter_field, 15),
            (self.rename_field, 8),
            (self.remove_field, 7),
            (self.add_index, 8),
            (self.add_constraint, 6),
            (self.alter_options, 5),
        ]
        wanted = self.rng.choices([1, 2, 3], weights=[6, 3, 1])[0]
        done = len(step.operations)
        while done < wanted:
            action = self.rng.choices(
                [a for a, _ in actions], weights=[w for _, w in actions]
            )[0]
            if action(step):
                done += 1

    def write_schema_migration(self, step: Step, number: int, directory: Path) -> None:
        app = step.app
        migration = migrations.Migration("placeholder", app.label)
        migration.operations = step.operations
        migration.initial = number == 1
        name = f"{number:04d}_{migration.suggest_name()}"
        own = [(app.label, app.names[-1])] if app.names else []
        migration.dependencies = own + sorted(step.dependencies - set(own))
        migration.name = name
        text = MigrationWriter(migration, include_header=False).as_string()
        (directory / f"{name}.py").write_text(text)
        app.names.append(name)

    def write_data_migration(self, app: App, number: int, directory: Path) -> None:
        choices = [m for m in self._model_names(app.label) if m not in app.scratch]
        model = self.rng.choice(choices)
        chars = [
            name
            for name, f in self._model_state(app.label, model).fields.items()
            if isinstance(f, models.CharField) and not f.choices
        ]
        if chars:
            body = f'    {model}.objects.filter({chars[0]}="").update({chars[0]}="n/a")'
        else:
            body = f"    for obj in {model}.objects.all():\n        obj.save()"
        name = f"{number:04d}_populate_{model.lower()}"
        text = DATA_MIGRATION.format(
            app=app.label, model=model, body=body, previous=app.names[-1]
        )
        (directory / f"{name}.py").write_text(text)
        app.names.append(name)

    def generate(self, out: Path) -> None:
        for app in self.apps:
            directory = out / app.label / "migrations"
            directory.mkdir(parents=True)
            (directory / "__init__.py").write_text("")
            (out / app.label / "__init__.py").write_text("")
        for number in range(1, self.n_migrations + 1):
            for app in self.apps:
                directory = out / app.label / "migrations"
                if number == app.data_step:
                    self.write_data_migration(app, number, directory)
                    continue
                step = Step(app)
                if number == 1:
                    self.initial(step)
                else:
                    self.schema_step(step, number)
                self.write_schema_migration(step, number, directory)
        for app in self.apps:
            (out / app.label / "models.py").write_text(self.render_models(app))
        self.write_project(out)

    # -- models.py ---------------------------------------------------------
    def render_models(self, app: App) -> str:
        imports = {"from django.db import models"}
        classes = []
        for model in self._model_names(app.label):
            state = self._model_state(app.label, model)
            is_user = (app.label, model) == (USER_APP, USER_MODEL)
            lines = [f"class {model}({'AbstractUser' if is_user else 'models.Model'}):"]
            if is_user:
                imports.add("from django.contrib.auth.models import AbstractUser")
            user_fields = app.pinned.get(model, set()) if is_user else set()
            for name, f in state.fields.items():
                if name == "id" or name in user_fields:
                    continue
                text, needed = MigrationWriter.serialize(f)
                imports.update(needed)
                lines.append(f"    {name} = {text}")
            meta = []
            if not is_user:
                for key in (
                    "ordering",
                    "verbose_name",
                    "verbose_name_plural",
                    "indexes",
                    "constraints",
                ):
                    value = state.options.get(key)
                    if value:
                        text, needed = MigrationWriter.serialize(value)
                        imports.update(needed)
                        meta.append(f"        {key} = {text}")
            if meta:
                lines += ["", "    class Meta:", *meta]
            if len(lines) == 1:
                lines.append("    pass")
            classes.append("\n".join(lines))
        body = "\n\n\n".join(classes)
        # Read like hand-written code: models.CASCADE, not the module path.
        if "import django.db.models.deletion" in imports:
            imports.discard("import django.db.models.deletion")
            body = body.replace("django.db.models.deletion.", "models.")
        header = "\n".join(sorted(imports, key=lambda line: line.split()[1]))
        return f"{header}\n\n\n{body}\n"

    def write_project(self, out: Path) -> None:
        package = out / PROJECT_PACKAGE
        package.mkdir()
        (package / "__init__.py").write_text("")
        apps_lines = "\n".join(f'    "{app.label}",' for app in self.apps)
        (package / "settings.py").write_text(
            SETTINGS.format(
                apps=apps_lines,
                package=PROJECT_PACKAGE,
                user_app=USER_APP,
                user_model=USER_MODEL,
            )
        )
        (package / "urls.py").write_text(URLS)
        (out / "manage.py").write_text(MANAGE.format(package=PROJECT_PACKAGE))


def generate(
    out: Path, n_apps: int = 20, n_migrations: int = 25, seed: int = 0
) -> None:
    """Write the project into ``out`` (which must not exist or be empty)."""
    _setup_django()
    _import_django_parts()
    Generator(n_apps, n_migrations, seed).generate(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--apps", type=int, default=20, help="number of apps (default 20)"
    )
    parser.add_argument(
        "--migrations", type=int, default=25, help="migrations per app (default 25)"
    )
    parser.add_argument("--out", type=Path, required=True, help="directory to write")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--force", action="store_true", help="replace --out if it exists"
    )
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    if out.exists() and any(out.iterdir()):
        if not args.force:
            parser.error(f"{out} exists and is not empty (use --force to replace it)")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    generate(out, args.apps, args.migrations, args.seed)
    total = args.apps * args.migrations
    print(
        textwrap.dedent(
            f"""\
            Wrote {args.apps} apps x {args.migrations} migrations = {total} migrations to {out}
            Try: cd {out} && {Path(sys.executable).name} manage.py migrate"""
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
