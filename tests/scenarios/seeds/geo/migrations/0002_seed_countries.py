import string

from django.db import migrations

# The countries every installation starts with.
COUNTRIES = [("DE", "germany"), ("FR", "france"), ("NL", "netherlands")]


def _title(name):
    return string.capwords(name)


def seed_countries(apps, schema_editor):
    Country = apps.get_model("geo", "Country")
    for code, name in COUNTRIES:
        Country.objects.create(code=code, title=_title(name))


class Migration(migrations.Migration):
    dependencies = [("geo", "0001_initial")]
    operations = [migrations.RunPython(seed_countries, migrations.RunPython.noop)]
