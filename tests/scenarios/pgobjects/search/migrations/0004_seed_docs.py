from django.db import migrations


def seed(apps, schema_editor):
    Doc = apps.get_model("search", "Doc")
    Doc.objects.create(title="  Welcome ", body="Start here.")
    Doc.objects.create(title="Help", body="Ask us anything.")


class Migration(migrations.Migration):
    dependencies = [("search", "0003_cache_table")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
