from django.db import migrations


def fix(apps, schema_editor):
    apps.get_model("geo", "Country").objects.create(code="XX", title="Temporary")


class Migration(migrations.Migration):
    dependencies = [("geo", "0004_backfill_city_slugs")]
    operations = [migrations.RunPython(fix, migrations.RunPython.noop, elidable=True)]
