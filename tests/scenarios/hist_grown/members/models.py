from django.db import models
class Member(models.Model):
    name = models.CharField(max_length=50)
    favourite_shelf = models.ForeignKey("library.Shelf", null=True, blank=True, on_delete=models.SET_NULL)
    email = models.EmailField(blank=True, default="")
