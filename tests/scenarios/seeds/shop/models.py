from django.db import models


class Carrier(models.Model):
    name = models.CharField(max_length=40)
    country = models.ForeignKey("geo.Country", on_delete=models.CASCADE)
