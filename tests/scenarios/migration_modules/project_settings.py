
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "notes", "django_remake"]
MIGRATION_MODULES = {"notes": "notes_history"}
