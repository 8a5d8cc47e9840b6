from django.db import models
class Sale(models.Model):
    item = models.ForeignKey("stock.Item", on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField(default=1)
