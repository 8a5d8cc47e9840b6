INSTALLED_APPS = ["alpha", "beta", "django_remake"]
