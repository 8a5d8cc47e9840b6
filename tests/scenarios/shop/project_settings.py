
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "shop", "django_remake"]
