
from django.db import models
class Account(models.Model):
    name = models.CharField(max_length=60)
    opened = models.DateField(null=True)
class Entry(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE)
    amount = models.IntegerField()
    memo = models.CharField(max_length=100, blank=True, default="")
