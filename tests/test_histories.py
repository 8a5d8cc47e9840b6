"""Remake histories of awkward shapes, then deploy them to every kind of database.

Each ``hist_*`` scenario was made by editing models and running
``makemigrations``, ``squashmigrations`` and ``makemigrations --merge``:

    hist_threecycle   venues.0001 <- teams.0001 <- people.0001 <- people.0002
                      venues.0002_venue_manager (FK to people: the cycle closes)
    hist_moved        legacy.0001 (Thing, Widget) <- shopfront.0001
                      core.0001 (Thing) <- shopfront.0002 <- legacy.0002 (drop Thing)
                      core.0002 + legacy.0003 (Widget moves); legacy has no models left
    hist_grown        members.0001 <- library.0001 <- members.0002 (FK back) <- 0003;
                      the remade library needs two migrations for one old one
    hist_merge        articles.0001 <- 0002_article_slug, 0002_article_summary
                      <- 0003_merge <- reviews.0001, articles.0004
    hist_squashsquash stock 0001..0003 squashed into A, then 0004, 0005, then A..0005
                      squashed into B; sales.0001 needs stock.0002 (Django 6+ only)
    hist_squashgone   alpha.0001 <- beta.0001_squashed_0002 (its originals deleted,
                      as Django's docs say to) ; alpha.0002
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pytest

from .backends import Database
from .conftest import REMAKED
from .harness import (
    DJANGO_6,
    Project,
    deploy,
    histories,
    needs_django_6,
    new_migration_names,
    schema_diff,
)
from .test_states import CHECK_EACH, MIGRATE_EACH, build_states, remade_names

# scenario -> {app label: migrations folder}
FOLDERS: dict[str, dict[str, str]] = {
    "hist_threecycle": {
        "people": "people/migrations",
        "teams": "teams/migrations",
        "venues": "venues/migrations",
    },
    "hist_moved": {
        "legacy": "legacy/migrations",
        "core": "core/migrations",
        "shopfront": "shopfront/migrations",
    },
    "hist_grown": {"library": "library/migrations", "members": "members/migrations"},
    "hist_merge": {"articles": "articles/migrations", "reviews": "reviews/migrations"},
    "hist_squashsquash": {"stock": "stock/migrations", "sales": "sales/migrations"},
    "hist_squashgone": {"alpha": "alpha/migrations", "beta": "beta/migrations"},
    "squashed": {"ledger": "ledger/migrations"},
    "shop": {"shop": "shop/migrations"},
    "crossapp": {
        "accounts": "accounts/migrations",
        "catalog": "catalog/migrations",
        "orders": "orders/migrations",
    },
}


ALL_HISTORIES = histories(
    "hist_grown", "hist_merge", "hist_moved", "hist_squashsquash", "hist_threecycle"
)

# -- helpers -------------------------------------------------------------


def remake(project: Project, *args: str) -> str:
    return project.manage("remakemigrations", "--no-input", *args).stdout


def remade(project: Project, folders: Mapping[str, str]) -> set[tuple[str, str]]:
    return {
        (app, name)
        for app, folder in folders.items()
        for name in new_migration_names(project, folder)
    }


def assert_deployed(project: Project, folders: Mapping[str, str]) -> None:
    """Applies nothing, records every remade name, and has no model changes."""
    report = deploy(project)
    assert "No migrations to apply." in report["migrate"]["out"], report["migrate"]
    assert report["makemigrations"] == {
        "out": "No changes detected\n",
        "err": "",
        "code": 0,
    }
    assert "[ ]" not in report["showmigrations"]["out"]
    missing = remade(project, folders) - report["applied"]
    assert not missing, f"not recorded as applied: {missing}"


def assert_fresh_database_runs_new_history(
    project: Project, folders: Mapping[str, str], old_db: Database
) -> None:
    fresh = project.new_database()
    project.use_databases(default=fresh)
    plan = project.migrate_plan()
    planned = {
        tuple(line.split(" ")[0].split(".", 1))
        for line in plan
        if line.split(".")[0] in folders
    }
    assert planned == remade(project, folders), plan
    project.manage("migrate")
    assert schema_diff(project, old_db, fresh) == []
    assert_deployed(project, folders)
    project.use_databases(default=old_db)


def replaces_on_disk(project: Project, labels: Iterable[str]) -> dict[str, list[str]]:
    """``app.name`` of every first-party migration on disk -> its ``replaces``,
    read from the files (each app's migrations are in ``<label>/migrations``)."""
    found: dict[str, list[str]] = {}
    for label in labels:
        for path in sorted((project.root / label / "migrations").glob("[!_~]*.py")):
            replaces: list[str] = []
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ClassDef) and node.name == "Migration":
                    for statement in node.body:
                        if (
                            isinstance(statement, ast.Assign)
                            and ast.unparse(statement.targets[0]) == "replaces"
                        ):
                            pairs = ast.literal_eval(statement.value)
                            replaces = [f"{a}.{n}" for a, n in pairs]
            found[f"{label}.{path.stem}"] = replaces
    return found


def replaced_by_remade(project: Project, labels: Iterable[str]) -> list[str]:
    """Every name the remade migrations replace, once per listing."""
    return [
        name
        for key, names in replaces_on_disk(project, labels).items()
        if "_remaked_" in key
        for name in names
    ]


def add_model(project: Project, models_py: str, source: str) -> None:
    path = project.root / models_py
    path.write_text(path.read_text() + "\n" + source.strip("\n") + "\n")


# -- fully migrated and fresh databases ------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("keep_old", [False, True], ids=["deleted", "kept"])
@pytest.mark.parametrize("history", ALL_HISTORIES)
def test_remake_then_deploy(
    make_project: Callable[[str], Project], history: str, keep_old: bool
) -> None:
    folders = FOLDERS[history]
    project = make_project(history)
    project.manage("migrate")
    old_db = project.databases[0]
    before = replaces_on_disk(project, folders)
    plain = {key for key, names in before.items() if not names}
    files_before = project.tree_hashes()

    remake(project, *(["--keep-old-migrations"] if keep_old else []))

    if keep_old:
        files_after = project.tree_hashes()
        assert {
            k: v for k, v in files_after.items() if k in files_before
        } == files_before
        added = set(files_after) - set(files_before)
        assert added and all(REMAKED.match(Path(name).name) for name in added), added
    else:
        for folder in folders.values():
            names = project.migration_files(folder)
            assert all(REMAKED.match(name) for name in names), names
    replaced = replaced_by_remade(project, folders)
    assert len(replaced) == len(set(replaced)), sorted(replaced)  # disjoint sets
    assert plain <= set(replaced) <= set(before)
    if not keep_old:
        # Squashed names are left out: a fully migrated database is only sure
        # to hold the names of the migrations they replace.
        assert set(replaced) == plain
    assert_deployed(project, folders)
    assert_fresh_database_runs_new_history(project, folders, old_db)


def test_three_app_cycle_splits_one_app(make_project: Callable[[str], Project]) -> None:
    """people -> teams -> venues -> people: one app needs a second migration."""
    folders = FOLDERS["hist_threecycle"]
    project = make_project("hist_threecycle")
    project.manage("migrate")
    remake(project)
    counts = {
        app: len(project.migration_files(folder)) for app, folder in folders.items()
    }
    assert sorted(counts.values()) == [1, 1, 2], counts
    assert sorted(replaced_by_remade(project, folders)) == [
        "people.0001_initial", "people.0002_person_email", "teams.0001_initial",
        "venues.0001_initial", "venues.0002_venue_manager",
    ]  # fmt: skip


def test_app_without_models_keeps_no_migration(
    make_project: Callable[[str], Project],
) -> None:
    """legacy's models moved to core; its three old migrations go to other apps."""
    folders = FOLDERS["hist_moved"]
    project = make_project("hist_moved")
    project.manage("migrate")
    remake(project)
    assert project.migration_files("legacy/migrations") == []
    replaces = replaces_on_disk(project, folders)
    legacy = sorted(
        n for names in replaces.values() for n in names if n.startswith("legacy.")
    )
    assert legacy == [
        "legacy.0001_initial",
        "legacy.0002_move_thing",
        "legacy.0003_move_widget",
    ]
    assert re.search(
        r"legacy\n \(no migrations\)", project.manage("showmigrations").stdout
    )
    assert_deployed(project, folders)


def test_app_with_one_migration_grows_to_two(
    make_project: Callable[[str], Project],
) -> None:
    """library had one migration; the cycle with members splits it in two."""
    folders = FOLDERS["hist_grown"]
    project = make_project("hist_grown")
    project.manage("migrate")
    remake(project)
    assert len(project.migration_files("library/migrations")) == 2
    replaces = replaces_on_disk(project, folders)
    assert all(replaces.values()), replaces  # every new migration replaces something
    assert_deployed(project, folders)


def test_merge_migration_and_both_branches_are_replaced(
    make_project: Callable[[str], Project],
) -> None:
    project = make_project("hist_merge")
    project.manage("migrate")
    remake(project)
    replaced = replaced_by_remade(project, FOLDERS["hist_merge"])
    for name in ("0002_article_slug", "0002_article_summary", "0003_merge"):
        assert f"articles.{name}" in replaced


@needs_django_6
def test_squash_of_a_squash_replaces_the_recorded_names(
    make_project: Callable[[str], Project],
) -> None:
    project = make_project("hist_squashsquash")
    project.manage("migrate")
    remake(project)
    (stock,) = replaces_on_disk(project, ["stock"]).values()
    assert stock == [
        "stock.0001_initial", "stock.0002_item_price", "stock.0003_item_sku",
        "stock.0004_item_weight", "stock.0005_warehouse",
    ]  # fmt: skip


# -- databases part-way through the old history ------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("history", ALL_HISTORIES)
def test_every_state_with_old_files_kept(
    make_project: Callable[[str], Project], history: str
) -> None:
    project = make_project(history)
    project.manage("migrate")
    order, prefixes = build_states(project, tuple(FOLDERS[history]))
    assert len(prefixes) == len(order) + 1 >= 2

    remake(project, "--keep-old-migrations")

    assert_every_state_finishes(project, prefixes)


@pytest.mark.slow
@pytest.mark.parametrize("history", ALL_HISTORIES)
def test_every_state_with_old_files_deleted(
    make_project: Callable[[str], Project], history: str
) -> None:
    project = make_project(history)
    project.manage("migrate")
    order, prefixes = build_states(project, tuple(FOLDERS[history]))

    remake(project)

    assert_part_way_states_are_refused(project, prefixes)


@pytest.mark.skipif(
    not DJANGO_6,
    reason="Django < 6.0: --keep-old-migrations refuses first-party squashes",
)
def test_part_way_beside_a_squash_whose_originals_are_gone(
    make_project: Callable[[str], Project],
) -> None:
    """The project deleted beta's squashed originals long before the remake.

    A database that ran alpha.0001 but not beta's squash is part-way, and with
    --keep-old-migrations every file it needs is on disk: the squash, which
    records beta.0001_initial and beta.0002_book_author when it runs. Found by
    tests/test_random_histories.py (seed 4).
    """
    project = make_project("hist_squashgone")
    project.manage("migrate")
    order, prefixes = build_states(project, tuple(FOLDERS["hist_squashgone"]))
    assert order[0] == ("alpha", "0001_initial")

    remake(project, "--keep-old-migrations")

    project.use_databases(default=prefixes["p1"])
    finished = project.manage("migrate")
    assert "beta.0001_squashed_0002_book_author" in finished.stdout
    assert project.migrate_plan() == []
    assert schema_diff(project, project.databases[0], prefixes["p1"]) == []
    project.use_databases(default=project.databases[0])
    assert_every_state_finishes(project, prefixes)


def assert_every_state_finishes(
    project: Project, prefixes: dict[str, Database]
) -> None:
    remade_keys = remade_names(project)
    project.use_databases(default=project.databases[0], **prefixes)
    results = json.loads(project.python(MIGRATE_EACH.format(count=len(prefixes))))
    project.use_databases(default=project.databases[0])
    for alias, result in results.items():
        assert result["error"] == "", f"{alias}: {result['error']}"
        assert result["diff"] == [], f"{alias}: {result['diff']}"
        applied = {tuple(row) for row in result["applied"]}
        assert remade_keys <= applied, f"{alias}: not recorded {remade_keys - applied}"


def assert_part_way_states_are_refused(
    project: Project, prefixes: dict[str, Database]
) -> None:
    project.use_databases(default=project.databases[0], **prefixes)
    results = json.loads(project.python(CHECK_EACH.format(count=len(prefixes))))
    project.use_databases(default=project.databases[0])
    last = f"p{len(prefixes) - 1}"
    for alias, error in results.items():
        if alias in ("p0", last):
            assert error == "", f"{alias} is fresh or complete: {error}"
        else:
            assert "django_remake.E001" in error, alias
            assert f"Database '{alias}' is part-way through" in error


# A squash stands for its originals only on databases that never ran them. These
# states are the ones a database migrated before the squash existed can be in:
# every prefix of the history with every squash left out, each reached the way
# Django reaches it (one `migrate` per target, so a partly applied squash falls
# back to its originals and a complete one is recorded).
BUILD_UNSQUASHED_PREFIXES = """
import json
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

FIRST_PARTY = {first_party!r}
loader = MigrationLoader(None, ignore_no_migrations=True, replace_migrations=False)
squashes = {{key: m for key, m in loader.disk_migrations.items() if m.replaces}}
while squashes:  # outer squashes first, as Django does for a partly applied one
    inner = {{tuple(r) for m in squashes.values() for r in m.replaces}}
    key = min(k for k in squashes if k not in inner)
    loader.graph.remove_replacement_node(key, squashes.pop(key).replaces)
order = []
for leaf in sorted(loader.graph.leaf_nodes()):
    for key in loader.graph.forwards_plan(leaf):
        if key[0] in FIRST_PARTY and key not in order:
            order.append(key)
for count in range(len(order) + 1):
    connection = connections[f"p{{count}}"]
    for target in order[:count]:
        executor = MigrationExecutor(connection)
        if target not in executor.loader.graph.nodes:
            # replaced by a squash; Django 6 falls back like this by itself
            executor.loader = MigrationLoader(connection, replace_migrations=False)
        executor.migrate([target])
print(json.dumps(order))
"""

COUNT_UNSQUASHED = """
from django.db.migrations.loader import MigrationLoader
loader = MigrationLoader(None, ignore_no_migrations=True, replace_migrations=False)
print(sum(1 for k, m in loader.disk_migrations.items() if k[0] in {labels!r} and not m.replaces))
"""


def build_unsquashed_states(
    project: Project, first_party: tuple[str, ...]
) -> tuple[list[tuple[str, str]], dict[str, Database]]:
    full = project.databases[0]
    count = int(project.python(COUNT_UNSQUASHED.format(labels=first_party))) + 1
    prefixes = {f"p{i}": project.new_database() for i in range(count)}
    project.use_databases(default=full, **prefixes)
    out = project.python(BUILD_UNSQUASHED_PREFIXES.format(first_party=first_party))
    project.use_databases(default=full)
    order = [(str(a), str(n)) for a, n in json.loads(out)]
    assert len(order) == count - 1
    return order, prefixes


@pytest.mark.slow
@pytest.mark.parametrize("keep_old", [False, True], ids=["deleted", "kept"])
@pytest.mark.parametrize("history", histories("hist_squashsquash", "squashed"))
def test_every_state_before_the_squash(
    make_project: Callable[[str], Project], history: str, keep_old: bool
) -> None:
    if keep_old and not DJANGO_6:
        pytest.skip("Django < 6.0: --keep-old-migrations refuses first-party squashes")
    project = make_project(history)
    project.manage("migrate")
    order, prefixes = build_unsquashed_states(project, tuple(FOLDERS[history]))
    assert not any(
        replaces_on_disk(project, FOLDERS[history])[f"{a}.{n}"] for a, n in order
    )

    remake(project, *(["--keep-old-migrations"] if keep_old else []))

    if keep_old:
        assert_every_state_finishes(project, prefixes)
    else:
        assert_part_way_states_are_refused(project, prefixes)


# -- squashed migrations and --keep-old-migrations --------------------------------


def test_keep_old_migrations_beside_a_squash(
    make_project: Callable[[str], Project],
) -> None:
    """tests/scenarios/squashed: 0001_squashed_0003 with its originals on disk."""
    project = make_project("squashed")
    project.manage("migrate")
    old_db = project.databases[0]
    before = project.tree_hashes()

    result = project.manage(
        "remakemigrations", "--no-input", "--keep-old-migrations", ok=DJANGO_6
    )

    if not DJANGO_6:
        assert result.returncode != 0
        assert "--keep-old-migrations" in result.stderr
        assert "squashed" in result.stderr
        assert project.tree_hashes() == before
        return
    after = project.tree_hashes()
    assert {k: v for k, v in after.items() if k in before} == before
    assert all("_remaked_" in name for name in set(after) - set(before))
    assert_deployed(project, FOLDERS["squashed"])
    assert_fresh_database_runs_new_history(project, FOLDERS["squashed"], old_db)


# -- a second remake on top of a first one -------------------------------------

NEW_MODEL = {
    "shop": (
        "shop/models.py",
        """
class Supplier(models.Model):
    name = models.CharField(max_length=30)
    items = models.ManyToManyField(Item, blank=True)
""",
    ),
    "crossapp": (
        "orders/models.py",
        """
class Refund(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)
    category = models.ForeignKey("catalog.Category", null=True, on_delete=models.SET_NULL)
""",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize(
    "cleaned_up", [True, False], ids=["cleaned-up", "not-cleaned-up"]
)
@pytest.mark.parametrize("scenario", ["shop", "crossapp"])
def test_second_remake(
    make_project: Callable[[str], Project], scenario: str, cleaned_up: bool
) -> None:
    folders = FOLDERS[scenario]
    project = make_project(scenario)
    project.manage("migrate")
    old_db = project.databases[0]

    remake(project)
    assert_deployed(project, folders)
    first = remade(project, folders)
    assert_fresh_database_runs_new_history(project, folders, old_db)
    databases = [old_db, project.databases[1]]  # an old one, one made by the remake
    if cleaned_up:
        project.manage("delete_remaked_migrations", "--remove-replaced")
        assert not replaced_by_remade(project, folders)
        for db in databases:
            project.use_databases(default=db)
            # Django prunes one app at a time ("Migrations can be pruned only
            # when an app is specified"), whatever the clean-up message says.
            for app in folders:
                project.manage("migrate", app, "--prune")
            assert all(
                "_remaked_" in n for app, n in project.applied() if app in folders
            )
    add_model(project, *NEW_MODEL[scenario])
    project.manage("makemigrations", "--name", "after_remake")
    for db in databases:
        project.use_databases(default=db)
        project.manage("migrate")
    assert any("after_remake" in n for _app, n in project.applied())

    remake(project)

    second = remade(project, folders)
    assert second and not second & first
    assert all(re.search(r"_remaked_\d{8}_2$", name) for _app, name in second), second
    replaced = replaced_by_remade(project, folders)
    assert len(replaced) == len(set(replaced))
    if cleaned_up:
        # the first remake's names are all that databases hold of it now
        assert {tuple(n.split(".", 1)) for n in replaced} >= first
    for db in databases:
        project.use_databases(default=db)
        assert_deployed(project, folders)
    assert_fresh_database_runs_new_history(project, folders, old_db)
