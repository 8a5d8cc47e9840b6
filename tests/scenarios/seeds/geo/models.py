from django.db import models


class Country(models.Model):
    code = models.CharField(max_length=2, unique=True)
    title = models.CharField(max_length=60)


class City(models.Model):
    country = models.ForeignKey(Country, on_delete=models.CASCADE)
    name = models.CharField(max_length=60)
    slug = models.CharField(max_length=60, default="")
