INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "pantry", "django_remake"]
