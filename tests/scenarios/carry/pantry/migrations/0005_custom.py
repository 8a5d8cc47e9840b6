import functools

from django.db import migrations
from django.db.migrations.operations.base import Operation

import pantry.seeding


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


class Migration(migrations.Migration):
    dependencies = [("pantry", "0004_sql")]
    operations = [
        InsertRows(rows_for, prefix="box"),
        migrations.RunPython(
            functools.partial(add_named, name="honey", price=7),
            migrations.RunPython.noop,
            atomic=False,
        ),
        migrations.RunPython(pantry.seeding.add_defaults, elidable=True),
    ]
