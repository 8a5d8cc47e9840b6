from django.db import migrations


def forwards(apps, schema_editor):
    # Reads the countries that geo seeded.
    Country = apps.get_model("geo", "Country")
    Carrier = apps.get_model("shop", "Carrier")
    Carrier.objects.create(name="DHL", country=Country.objects.get(code="DE"))


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial"), ("geo", "0002_seed_countries")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
