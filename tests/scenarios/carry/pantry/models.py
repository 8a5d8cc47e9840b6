from django.db import models


class Item(models.Model):
    name = models.CharField(max_length=50, unique=True)
    price = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    note = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["note"], name="item_note_idx")]
