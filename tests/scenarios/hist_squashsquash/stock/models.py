from django.db import models
class Item(models.Model):
    name = models.CharField(max_length=50)
    price = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    sku = models.CharField(max_length=12, unique=True, null=True)
    weight = models.PositiveIntegerField(null=True)
class Warehouse(models.Model):
    name = models.CharField(max_length=30)
    items = models.ManyToManyField(Item, blank=True)
