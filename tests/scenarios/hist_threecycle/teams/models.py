from django.db import models
class Team(models.Model):
    name = models.CharField(max_length=50)
    venue = models.ForeignKey("venues.Venue", on_delete=models.PROTECT)
