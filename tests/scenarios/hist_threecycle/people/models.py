from django.db import models
class Person(models.Model):
    name = models.CharField(max_length=50)
    team = models.ForeignKey("teams.Team", null=True, on_delete=models.SET_NULL)
    email = models.EmailField(blank=True, default="")
