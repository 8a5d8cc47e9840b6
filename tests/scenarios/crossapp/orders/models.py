
from django.conf import settings
from django.db import models
class Order(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT)
    note = models.TextField(blank=True, default='')
    created = models.DateTimeField(auto_now_add=True, null=True)

class Promotion(models.Model):
    code = models.CharField(max_length=20, unique=True)
