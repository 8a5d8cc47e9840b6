from django.db import models


class Widget(models.Model):
    code = models.CharField(max_length=10)
