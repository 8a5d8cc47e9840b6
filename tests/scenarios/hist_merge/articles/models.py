from django.db import models
class Article(models.Model):
    title = models.CharField(max_length=100)
    summary = models.TextField(blank=True, default='')
    slug = models.SlugField(max_length=100, unique=True, null=True)
    published = models.DateTimeField(null=True, blank=True)
