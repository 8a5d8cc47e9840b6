from django.db import migrations


def backfill(apps, schema_editor):
    # Existing cities got an empty slug; a new database has no city yet.
    City = apps.get_model("geo", "City")
    for city in City.objects.filter(slug=""):
        city.slug = city.name.lower()
        city.save(update_fields=["slug"])


class Migration(migrations.Migration):
    dependencies = [("geo", "0003_city")]
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
