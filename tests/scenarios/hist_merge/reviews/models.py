from django.db import models
class Review(models.Model):
    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="reviews")
    stars = models.PositiveSmallIntegerField(default=3)
