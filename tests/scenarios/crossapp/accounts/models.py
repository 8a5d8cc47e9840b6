
from django.contrib.auth.models import AbstractUser
from django.db import models
class User(AbstractUser):
    pass

class Profile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE)
    favourite = models.ForeignKey("catalog.Category", null=True, on_delete=models.SET_NULL)
