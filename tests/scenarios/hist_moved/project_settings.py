INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "legacy", "core", "shopfront", "django_remake"]
