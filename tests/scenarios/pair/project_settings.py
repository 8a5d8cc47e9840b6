INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "left", "right", "django_remake"]
