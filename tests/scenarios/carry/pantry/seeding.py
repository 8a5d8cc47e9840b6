def add_defaults(apps, schema_editor):
    """A data migration helper in a normal module of the app: imported, not copied."""
    Item = apps.get_model("pantry", "Item")
    Item.objects.get_or_create(name="water", defaults={"price": 0})
