from decimal import Decimal

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("pantry", "0003_more_items")]
    operations = [
        migrations.RunSQL(
            "INSERT INTO pantry_item (name, price, note) VALUES ('rice', 4.00, 'sql')",
            reverse_sql="DELETE FROM pantry_item WHERE name = 'rice'",
        ),
        migrations.RunSQL(
            [
                (
                    "INSERT INTO pantry_item (name, price, note) VALUES (%s, %s, %s)",
                    ["oats", Decimal("2.10"), "params"],
                ),
                "UPDATE pantry_item SET note = 'listed' WHERE name = 'oats'",
            ],
            reverse_sql=[("DELETE FROM pantry_item WHERE name = %s", ["oats"])],
            hints={"target": "default"},
            elidable=False,
        ),
        migrations.RunSQL(
            "CREATE INDEX item_note_idx ON pantry_item (note)",
            reverse_sql=migrations.RunSQL.noop,
            state_operations=[
                migrations.AddIndex(
                    model_name="item",
                    index=models.Index(fields=["note"], name="item_note_idx"),
                ),
            ],
        ),
    ]
