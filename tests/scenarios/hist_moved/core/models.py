from django.db import models
class Thing(models.Model):
    name = models.CharField(max_length=50)
class Widget(models.Model):
    label = models.CharField(max_length=20)
    thing = models.ForeignKey(Thing, null=True, on_delete=models.SET_NULL)
