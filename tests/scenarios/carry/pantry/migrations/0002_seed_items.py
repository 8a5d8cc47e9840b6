import decimal

from django.db import migrations

from ._helpers import add_item

# What every new pantry starts with.
ITEMS = [("flour", "1.50"), ("sugar", "2.25")]
MARKUP = decimal.Decimal("1.10")


def label(name):
    return f"{name} (starter)"


def forwards(apps, schema_editor):
    for name, price in ITEMS:
        # the keyword, this comment and the string "label" keep their name
        add_item(apps, name, decimal.Decimal(price) * MARKUP, label=label(name))


def backwards(apps, schema_editor):
    Item = apps.get_model("pantry", "Item")
    Item.objects.filter(name__in=[name for name, _price in ITEMS]).delete()


class Migration(migrations.Migration):
    dependencies = [("pantry", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
