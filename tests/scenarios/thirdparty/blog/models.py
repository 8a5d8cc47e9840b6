
from django.db import models
class Post(models.Model):
    title = models.CharField(max_length=50)
    widget = models.ForeignKey("vendorapp.Widget", null=True, on_delete=models.SET_NULL)
