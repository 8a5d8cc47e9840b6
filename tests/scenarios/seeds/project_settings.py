INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "geo", "shop", "django_remake"]
