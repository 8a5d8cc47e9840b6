"""Helpers shared by the data migrations (not a migration: Django skips _files)."""

from decimal import Decimal

CENT = Decimal("0.01")


def add_item(apps, name, price, label=""):
    Item = apps.get_model("pantry", "Item")
    # one row per name; the price is rounded to the cent
    Item.objects.create(name=name, price=Decimal(price).quantize(CENT), note=label)
