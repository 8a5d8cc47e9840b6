from django.db import migrations
from django.db.migrations.operations.base import Operation


class InsertCarrier(Operation):
    """Insert a row with plain SQL; the models' state does not change."""

    reversible = True

    def __init__(self, name, country_code):
        self.name = name
        self.country_code = country_code

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        schema_editor.execute(
            "INSERT INTO shop_carrier (name, country_id) "
            "SELECT %s, id FROM geo_country WHERE code = %s",
            [self.name, self.country_code],
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        schema_editor.execute("DELETE FROM shop_carrier WHERE name = %s", [self.name])

    def describe(self):
        return f"Insert carrier {self.name}"

    def deconstruct(self):
        return (self.__class__.__name__, [self.name, self.country_code], {})


class Migration(migrations.Migration):
    dependencies = [("shop", "0003_more_carriers")]
    operations = [InsertCarrier("PostNL", "NL")]
