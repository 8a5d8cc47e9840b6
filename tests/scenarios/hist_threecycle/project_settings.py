INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "people", "teams", "venues", "django_remake"]
