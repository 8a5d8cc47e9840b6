"""Small random migration histories, grown the way a project grows.

:func:`grow` takes a seed and an empty :class:`~tests.harness.Project` and
writes 2 to 4 apps into it step by step: each step edits the apps'
``models.py`` and runs Django's own ``makemigrations`` (renames are answered
``y`` on its prompt), ``makemigrations --merge`` (two leaves of one app) or
``squashmigrations`` (its originals then kept or deleted). Foreign keys go
between any two apps, so app-level cycles happen; one history in three has a
custom user model (``AUTH_USER_MODEL``) that other models point at.

Everything random comes from ``random.Random(seed)``, so a seed names one
history: the returned log says what each step did, for a failure report.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field

from .harness import Project
from .runs import run

APP_LABELS = ("alpha", "beta", "gamma", "delta")
MODEL_WORDS = (
    "Item", "Shelf", "Note", "Tag", "Box", "Event", "Place", "Owner",
    "Batch", "Label", "Route", "Slot",
)  # fmt: skip
USER = "user"  # an FK target: settings.AUTH_USER_MODEL
USER_APP = APP_LABELS[0]

# kind -> field name prefix
PREFIX = {"char": "title", "int": "size", "bool": "flag", "fk": "ref", "m2m": "tags"}


@dataclass
class Field:
    kind: str  # char, int, bool, fk, m2m
    target: str = ""  # fk, m2m: "app.Model" or USER
    length: int = 20  # char

    def render(self) -> str:
        if self.kind == "char":
            return f'models.CharField(max_length={self.length}, default="")'
        if self.kind == "int":
            return "models.IntegerField(null=True)"
        if self.kind == "bool":
            return "models.BooleanField(default=False)"
        to = "settings.AUTH_USER_MODEL" if self.target == USER else f'"{self.target}"'
        if self.kind == "fk":
            return (
                f'models.ForeignKey({to}, models.CASCADE, null=True, related_name="+")'
            )
        return f'models.ManyToManyField({to}, blank=True, related_name="+")'


# app -> model -> field -> Field; the custom user model is ("alpha", "User")
State = dict[str, dict[str, dict[str, Field]]]


@dataclass
class History:
    seed: int
    rng: random.Random
    apps: list[str]
    custom_user: bool
    state: State
    log: list[str] = field(default_factory=list)
    counter: int = 0

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def note(self, line: str) -> None:
        self.log.append(line)


def grow(project: Project, seed: int, log: list[str]) -> list[str]:
    """Write a random history into ``project``; return its apps.

    ``log`` gets a line per step, as it happens (for a failure report)."""
    rng = random.Random(seed)
    apps = list(APP_LABELS[: rng.randint(2, 4)])
    history = History(seed, rng, apps, rng.random() < 0.35, {a: {} for a in apps}, log)
    installed = ["django.contrib.contenttypes", "django.contrib.auth"]
    settings = f"INSTALLED_APPS = {(installed if history.custom_user else []) + apps + ['django_remake']!r}\n"
    if history.custom_user:
        settings += f'AUTH_USER_MODEL = "{USER_APP}.User"\n'
        history.state[USER_APP]["User"] = {}
    project.write("project_settings.py", settings)
    for app in apps:
        project.write(f"{app}/__init__.py", "")
        project.write(f"{app}/migrations/__init__.py", "")
    history.note(f"seed {seed}: apps {apps}, custom user model: {history.custom_user}")

    # the first migrations: a model or two in each app, pointing at earlier apps
    for app in apps:
        for _ in range(rng.randint(1, 2)):
            add_model(history, app, earlier_only=True)
    makemigrations(project, history, "initial models")

    squashes = 0
    for _ in range(rng.randint(3, 6)):
        kind = rng.choices(
            ["change", "rename_field", "rename_model", "merge", "squash"],
            weights=[5, 2, 1.5, 1.5, 1.5 if squashes < 2 else 0],
        )[0]
        if kind == "change":
            descriptions = [
                d for d in (change(history) for _ in range(rng.randint(1, 3))) if d
            ]
            if descriptions:
                makemigrations(project, history, "; ".join(descriptions))
        elif kind == "rename_field":
            described = rename_field(history)
            if described:
                makemigrations(project, history, described, answers=True)
        elif kind == "rename_model":
            described = rename_model(history)
            if described:
                makemigrations(project, history, described, answers=True)
        elif kind == "merge":
            merge(project, history)
        else:
            squashes += squash(project, history)
    history.note("files: " + ", ".join(
        f"{app}/{name}" for app in apps for name in project.migration_files(f"{app}/migrations")
    ))  # fmt: skip
    return apps


# -- what a step can do to the models --------------------------------------------


def models_of(history: History, app: str | None = None) -> list[tuple[str, str]]:
    return [
        (a, m)
        for a in history.apps
        if app is None or a == app
        for m in sorted(history.state[a])
    ]


def targets(history: History, limit_to: list[str] | None = None) -> list[str]:
    found = [f"{a}.{m}" for a, m in models_of(history) if m != "User"]
    if limit_to is not None:
        found = [t for t in found if t.split(".")[0] in limit_to]
    if history.custom_user:
        found.append(USER)
    return found


def new_field(
    history: History, kinds: tuple[str, ...], to: list[str]
) -> tuple[str, Field]:
    rng = history.rng
    choices = [k for k in kinds if k not in ("fk", "m2m") or to]
    kind = rng.choice(choices)
    spec = Field(
        kind, rng.choice(to) if kind in ("fk", "m2m") else "", rng.choice([10, 20, 40])
    )
    return history.fresh(PREFIX[kind]), spec


def add_model(history: History, app: str, earlier_only: bool = False) -> str | None:
    rng = history.rng
    free = [w for w in MODEL_WORDS if w not in history.state[app]]
    if not free:
        return None
    name = rng.choice(free)
    limit = history.apps[: history.apps.index(app)] if earlier_only else None
    to = targets(history, limit)
    fields = dict(
        new_field(history, ("char", "int", "bool", "fk", "fk", "m2m"), to)
        for _ in range(rng.randint(1, 3))
    )
    history.state[app][name] = fields
    return f"add model {app}.{name}({describe(fields)})"


def describe(fields: dict[str, Field]) -> str:
    return ", ".join(
        f"{n}:{f.kind}" + (f"->{f.target}" if f.target else "")
        for n, f in fields.items()
    )


def add_field(history: History, app: str | None = None) -> str | None:
    rng = history.rng
    candidates = models_of(history, app)
    if not candidates:
        return None
    a, m = rng.choice(candidates)
    to = targets(history)
    name, spec = new_field(history, ("char", "int", "bool", "fk", "fk", "m2m"), to)
    history.state[a][m][name] = spec
    return f"add field {a}.{m}.{name}:{spec.kind}" + (
        f"->{spec.target}" if spec.target else ""
    )


def remove_field(history: History) -> str | None:
    fields = [(a, m, f) for a, m in models_of(history) for f in history.state[a][m]]
    if not fields:
        return None
    a, m, f = history.rng.choice(fields)
    del history.state[a][m][f]
    return f"remove field {a}.{m}.{f}"


def alter_field(history: History) -> str | None:
    fields = [
        (a, m, f)
        for a, m in models_of(history)
        for f, spec in history.state[a][m].items()
        if spec.kind == "char"
    ]
    if not fields:
        return None
    a, m, f = history.rng.choice(fields)
    spec = history.state[a][m][f]
    spec.length = history.rng.choice([n for n in (10, 20, 40, 80) if n != spec.length])
    return f"alter field {a}.{m}.{f} max_length={spec.length}"


def delete_model(history: History) -> str | None:
    candidates = [(a, m) for a, m in models_of(history) if m != "User"]
    if len(candidates) < 2:
        return None
    a, m = history.rng.choice(candidates)
    del history.state[a][m]
    dropped = []
    for oa, om in models_of(history):
        for f, spec in list(history.state[oa][om].items()):
            if spec.target == f"{a}.{m}":
                del history.state[oa][om][f]
                dropped.append(f"{oa}.{om}.{f}")
    return f"delete model {a}.{m}" + (f" and fields {dropped}" if dropped else "")


def change(history: History) -> str | None:
    rng = history.rng
    what = rng.choices(
        ["add_model", "add_field", "remove_field", "alter_field", "delete_model"],
        weights=[2, 4, 2, 1.5, 1],
    )[0]
    if what == "add_model":
        return add_model(history, rng.choice(history.apps))
    if what == "add_field":
        return add_field(history)
    if what == "remove_field":
        return remove_field(history)
    if what == "alter_field":
        return alter_field(history)
    return delete_model(history)


def rename_field(history: History) -> str | None:
    fields = [(a, m, f) for a, m in models_of(history) for f in history.state[a][m]]
    if not fields:
        return None
    a, m, f = history.rng.choice(fields)
    spec = history.state[a][m].pop(f)
    new = history.fresh("renamed")
    history.state[a][m][new] = spec
    return f"rename field {a}.{m}.{f} -> {new}"


def rename_model(history: History) -> str | None:
    candidates = [(a, m) for a, m in models_of(history) if m != "User"]
    if not candidates:
        return None
    a, m = history.rng.choice(candidates)
    free = [w for w in MODEL_WORDS if w not in history.state[a]]
    if not free:
        return None
    new = history.rng.choice(free)
    history.state[a][new] = history.state[a].pop(m)
    for oa, om in models_of(history):
        for spec in history.state[oa][om].values():
            if spec.target == f"{a}.{m}":
                spec.target = f"{a}.{new}"
    return f"rename model {a}.{m} -> {new}"


# -- writing and running ---------------------------------------------------------


def render(history: History, app: str) -> str:
    lines = ["from django.conf import settings"]
    if history.custom_user and app == USER_APP:
        lines.append("from django.contrib.auth.models import AbstractUser")
    lines += ["from django.db import models", ""]
    for model, fields in sorted(history.state[app].items()):
        base = "AbstractUser" if model == "User" else "models.Model"
        lines += ["", f"class {model}({base}):"]
        lines += [f"    {name} = {spec.render()}" for name, spec in fields.items()]
        lines += ["    pass"] if not fields else []
    return "\n".join(lines) + "\n"


def write_models(project: Project, history: History) -> None:
    for app in history.apps:
        (project.root / app / "models.py").write_text(render(history, app))


def makemigrations(
    project: Project,
    history: History,
    described: str,
    *args: str,
    answers: bool = False,
) -> None:
    """Write the models and run ``makemigrations``; ``answers`` says yes to renames."""
    write_models(project, history)
    before = all_files(project, history)
    if answers:
        project.manage("makemigrations", *args, stdin="y\n" * 20)
    else:
        project.manage("makemigrations", "--noinput", *args)
    made = sorted(all_files(project, history) - before)
    history.note(f"{described}: makemigrations -> {', '.join(made) or 'no changes'}")


def all_files(project: Project, history: History) -> set[str]:
    return {
        f"{app}/migrations/{name}"
        for app in history.apps
        for name in project.migration_files(f"{app}/migrations")
    }


def merge(project: Project, history: History) -> None:
    """Two migrations made from the same parent in one app, then merged."""
    rng = history.rng
    app = rng.choice([a for a in history.apps if history.state[a]])
    start = copy.deepcopy(history.state)
    left = add_field(history, app) if rng.random() < 0.7 else add_model(history, app)
    if not left:
        return
    before = all_files(project, history)
    makemigrations(project, history, f"branch 1: {left}", app, "--name", "left")
    left_files = {
        path: (project.root / path).read_text()
        for path in sorted(all_files(project, history) - before)
    }
    with_left, history.state = history.state, copy.deepcopy(start)
    for path in left_files:
        (project.root / path).unlink()
    # the other branch, from the same parent: one more field in the same app
    right = add_field(history, app)
    assert right, "the app has a model: start had one"
    (a, m, f), spec = next(
        ((a, m, f), spec)
        for a in history.state
        for m, fields in history.state[a].items()
        for f, spec in fields.items()
        if f not in start[a].get(m, {})
    )
    makemigrations(project, history, f"branch 2: {right}", app, "--name", "right")
    for path, text in left_files.items():
        (project.root / path).write_text(text)
    with_left[a][m][f] = spec
    history.state = with_left
    write_models(project, history)
    before = all_files(project, history)
    project.manage("makemigrations", "--merge", "--noinput", "--name", "merge")
    history.note(f"merge -> {', '.join(sorted(all_files(project, history) - before))}")


def squash(project: Project, history: History) -> int:
    """Squash a stretch of one app's history; keep or delete the originals."""
    rng = history.rng
    apps = []
    for app in history.apps:
        names = [n[:-3] for n in project.migration_files(f"{app}/migrations")]
        if len(names) >= 2 and not any("_squashed_" in n for n in names):
            apps.append((app, names))
    if not apps:
        return 0
    app, names = rng.choice(apps)
    first = 0 if rng.random() < 0.7 else 1
    if first + 1 >= len(names):
        first = 0
    last = rng.randint(first + 1, len(names) - 1)
    before = all_files(project, history)
    done = run(project, "squashmigrations", "--noinput", app, names[first], names[last])
    if done.returncode != 0:
        # e.g. the stretch crosses a merge; Django refuses, a user picks another
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        history.note(
            f"squash {app} {names[first]}..{names[last]}: refused by Django ({reason})"
        )
        return 0
    (made,) = sorted(all_files(project, history) - before)
    if not check_loads(project):
        (project.root / made).unlink()
        history.note(
            f"squash {app} {names[first]}..{names[last]}: graph does not load, dropped"
        )
        return 0
    replaced = load_replaces(project, made)
    keep = rng.random() < 0.5
    note = f"squash {app} {names[first]}..{names[last]} -> {made}, originals "
    if keep:
        history.note(note + "kept")
        return 1
    saved = {p: (project.root / p).read_text() for p in replaced}
    for path in saved:
        (project.root / path).unlink()
    if not check_loads(project):
        for path, text in saved.items():
            (project.root / path).write_text(text)
        history.note(note + "kept (the graph does not load without them)")
        return 1
    history.note(note + f"deleted ({', '.join(sorted(saved))})")
    return 1


def check_loads(project: Project) -> bool:
    """Django loads the graph and finds no model changes."""
    return run(project, "makemigrations", "--check", "--dry-run").returncode == 0


def load_replaces(project: Project, path: str) -> list[str]:
    app = path.split("/")[0]
    name = path.split("/")[-1][:-3]
    out = project.python(
        f"""
        # the module itself: a graph without replacements may not load (an
        # earlier squash whose originals were deleted)
        from importlib import import_module
        m = import_module({app!r} + ".migrations." + {name!r}).Migration
        print("\\n".join(f"{{a}}/migrations/{{n}}.py" for a, n in m.replaces))
        """
    )
    return out.split()
