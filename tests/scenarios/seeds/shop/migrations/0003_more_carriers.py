from django.db import migrations


def forwards(apps, schema_editor):
    Country = apps.get_model("geo", "Country")
    Carrier = apps.get_model("shop", "Carrier")
    Carrier.objects.create(name="Colissimo", country=Country.objects.get(code="FR"))


class Migration(migrations.Migration):
    dependencies = [("shop", "0002_seed_carriers")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
