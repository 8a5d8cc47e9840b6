from django.db import migrations


class Migration(migrations.Migration):
    """The column stays in the database until every reader is gone."""

    dependencies = [("geo", "0005_fix_typo")]
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveField("country", "legacy_code")],
        )
    ]
