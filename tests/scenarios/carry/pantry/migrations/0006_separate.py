from django.db import migrations


def mark_notes(apps, schema_editor):
    Item = apps.get_model("pantry", "Item")
    Item.objects.filter(note="").update(note="plain")


class Fill:
    SUFFIX = "!"

    @classmethod
    def shout(cls, apps, schema_editor):
        for item in apps.get_model("pantry", "Item").objects.filter(name="honey"):
            item.note = item.name + cls.SUFFIX
            item.save()


class Migration(migrations.Migration):
    dependencies = [("pantry", "0005_custom")]
    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL("UPDATE pantry_item SET price = price + 1 WHERE name = 'water'"),
                migrations.RunPython(mark_notes),
            ],
            state_operations=[
                migrations.AlterModelOptions(name="item", options={"ordering": ["name"]}),
            ],
        ),
        migrations.RunPython(Fill.shout),
    ]
