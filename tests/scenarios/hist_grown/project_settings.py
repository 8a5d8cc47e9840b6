INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "library", "members", "django_remake"]
