INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "stock", "sales", "django_remake"]
