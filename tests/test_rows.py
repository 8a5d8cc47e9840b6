"""Rows of two databases compared table by table (django_remake.rows).

Both databases of the shop project are migrated once; each case then writes
rows into both inside transactions that are rolled back, and compares them
with :func:`django_remake.rows.diff_rows`, as the proof of a remake does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

from .harness import Project

CASES = """
import json
import time
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import connections, transaction

from django_remake import rows
from django_remake.schema import read_schema
from shop.models import Item, Tag

STARTED = time.time()


def items(alias, names, prices=None):
    made = {}
    for name in names:
        price = (prices or {}).get(name, 1)
        made[name] = Item.objects.using(alias).create(name=name, price=price)
    return made


def same_rows_other_order_and_ids(old, new):
    a = items(old, "ABC")
    Item.objects.using(new).create(name="gone", price=1).delete()  # ids move on
    b = items(new, "CBA")
    Tag.objects.using(old).create(label="x").items.add(a["A"], a["C"])
    Tag.objects.using(new).create(label="y").delete()
    Tag.objects.using(new).create(label="x").items.add(b["C"], b["A"])


def a_changed_value(old, new):
    items(old, "ABC")
    items(new, "ABC", {"A": 2})


def a_missing_row(old, new):
    items(old, "ABC")
    items(new, "AB")


def a_link_to_another_row(old, new):
    a, b = items(old, "AB"), items(new, "AB")
    Tag.objects.using(old).create(label="x").items.add(a["A"])
    Tag.objects.using(new).create(label="x").items.add(b["B"])


def timestamps_of_the_build(old, new):
    User(username="ann", password="x").save(using=old)
    time.sleep(0.01)
    User(username="ann", password="x").save(using=new)


class Undo(Exception):
    pass


found = {}
for case in [
    same_rows_other_order_and_ids,
    a_changed_value,
    a_missing_row,
    a_link_to_another_row,
    timestamps_of_the_build,
]:
    for since, limit in [(STARTED, 10_000), (None, 10_000), (STARTED, 0)]:
        rows.EXAMPLE_LIMIT = limit
        try:
            with transaction.atomic(using="default"), transaction.atomic(using="other"):
                for alias in ("default", "other"):
                    Item.objects.using(alias).all().delete()
                case("default", "other")
                old, new = connections["default"], connections["other"]
                lines = rows.diff_rows(
                    old, new, read_schema(old), read_schema(new), since=since
                )
                raise Undo
        except Undo:
            pass
        key = case.__name__ + ("" if since else " (no window)") + (
            " (large)" if limit == 0 else ""
        )
        found[key] = lines
print(json.dumps(found))
"""


def test_rows_are_compared_by_content_not_by_ids(
    make_project: Callable[[str], Project], backend: str
) -> None:
    project = make_project("shop")
    first = json.loads((project.root / "databases.json").read_text())["default"]
    second = project.new_database()
    (project.root / "databases.json").write_text(
        json.dumps({"default": first, "other": second.settings})
    )
    for alias in ("default", "other"):
        project.manage("migrate", "--database", alias)
    # The shop's 0003 seeds an item where it pleases (no ``using``): each case
    # starts from no items.
    found = json.loads(project.python(CASES).strip().splitlines()[-1])

    one = "1" if backend == "sqlite" else repr(Decimal("1.00"))  # as stored
    assert found.pop("same_rows_other_order_and_ids") == []
    assert found.pop("same_rows_other_order_and_ids (large)") == []
    assert found.pop("same_rows_other_order_and_ids (no window)") == []
    changed = (
        "table 'shop_item': 3 rows in each, different content (e.g. a row only"
        f" in old: (name='A', price={one}, stock=None))"
    )
    assert found.pop("a_changed_value") == [changed]
    assert found.pop("a_changed_value (no window)") == [changed]
    assert found.pop("a_changed_value (large)") == [
        "table 'shop_item': 3 rows in each, different content"
    ]
    for key in ["a_missing_row", "a_missing_row (no window)", "a_missing_row (large)"]:
        assert found.pop(key) == ["table 'shop_item': 3 rows in old, 2 in new"]
    link = (
        "table 'shop_tag_items': 1 row in each, different content (e.g. a row only"
        f" in old: (item.name='A', item.price={one}, item.stock=None,"
        " tag.label='x'))"
    )
    assert found.pop("a_link_to_another_row") == [link]
    assert found.pop("a_link_to_another_row (no window)") == [link]
    assert found.pop("a_link_to_another_row (large)") == [
        "table 'shop_tag_items': 1 row in each, different content"
    ]
    assert found.pop("timestamps_of_the_build") == []
    assert found.pop("timestamps_of_the_build (large)") == []
    (line,) = found.pop("timestamps_of_the_build (no window)")
    assert line.startswith(
        "table 'auth_user': 1 row in each, different content (e.g. a row only in "
    )
    assert "date_joined=datetime.datetime(" in line
    assert found == {}
