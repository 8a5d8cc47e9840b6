
from django.db import models
class Category(models.Model):
    name = models.CharField(max_length=40)
class Product(models.Model):
    category = models.ForeignKey(Category, on_delete=models.CASCADE)
    title = models.CharField(max_length=100)
    promotion = models.ForeignKey("orders.Promotion", null=True, blank=True, on_delete=models.SET_NULL)
    sku = models.CharField(max_length=12, unique=True, null=True)
    class Meta:
        indexes = [models.Index(fields=["title"], name="product_title")]
