INSTALLED_APPS = [
    "django.contrib.contenttypes", "django.contrib.auth", "django.contrib.postgres",
    "search", "django_remake",
]
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "search_cache",
    }
}
