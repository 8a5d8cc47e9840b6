from django.db import migrations

from pantry.migrations._helpers import add_item

ITEMS = {"salt": "0.80", "pepper": "3.10"}


def label(name):
    return name.upper()


def forwards(apps, schema_editor):
    for name in sorted(ITEMS):
        add_item(apps, name, ITEMS[name], label=label(name))


def backwards(apps, schema_editor):
    apps.get_model("pantry", "Item").objects.filter(name__in=ITEMS).delete()


class Migration(migrations.Migration):
    dependencies = [("pantry", "0002_seed_items")]
    operations = [
        migrations.RunPython(forwards, backwards, hints={"purpose": "seed"}, elidable=False),
    ]
