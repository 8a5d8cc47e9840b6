INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "articles", "reviews", "django_remake"]
