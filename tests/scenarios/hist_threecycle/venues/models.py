from django.db import models
class Venue(models.Model):
    name = models.CharField(max_length=50)
    manager = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_venues")
