from django.db.migrations.operations.base import Operation


class CallWith(Operation):
    """Call ``func(apps)`` when migrating forwards (an operation of the app)."""

    reduces_to_sql = False
    reversible = False

    def __init__(self, func):
        self.func = func

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self.func(to_state.apps)

    def describe(self):
        return "Call a function"
