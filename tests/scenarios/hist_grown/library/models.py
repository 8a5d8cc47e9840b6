from django.db import models
class Shelf(models.Model):
    name = models.CharField(max_length=20)
class Book(models.Model):
    title = models.CharField(max_length=100)
    shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE)
    borrower = models.ForeignKey("members.Member", null=True, blank=True, on_delete=models.SET_NULL)
