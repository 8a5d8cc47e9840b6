from django.db import migrations


def seed(apps, schema_editor):
    Item = apps.get_model("shop", "Item")
    Item.objects.create(name="starter", price=1)


def unseed(apps, schema_editor):
    apps.get_model("shop", "Item").objects.filter(name="starter").delete()


class Migration(migrations.Migration):
    dependencies = [("shop", "0002_item_price")]
    operations = [migrations.RunPython(seed, unseed)]
