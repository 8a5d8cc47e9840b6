from django.contrib.postgres.indexes import GinIndex
from django.db import models


class Doc(models.Model):
    title = models.CharField(max_length=100, db_collation="case_insensitive")
    body = models.TextField()

    class Meta:
        indexes = [
            GinIndex(fields=["body"], opclasses=["gin_trgm_ops"], name="doc_body_trgm")
        ]
