from django.db import models
class Order(models.Model):
    thing = models.ForeignKey("core.Thing", on_delete=models.CASCADE)
