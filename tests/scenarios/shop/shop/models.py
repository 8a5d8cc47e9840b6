
from django.db import models
class Item(models.Model):
    name = models.CharField(max_length=80, db_index=True)
    price = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    stock = models.PositiveIntegerField(null=True)
    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(price__gte=0), name="price_not_negative")]
        indexes = [models.Index(fields=["name", "price"], name="item_name_price")]
class Tag(models.Model):
    label = models.SlugField(unique=True)
    items = models.ManyToManyField(Item, related_name="tags")
