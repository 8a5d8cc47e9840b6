
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "ledger", "django_remake"]
