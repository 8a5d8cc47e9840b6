import django.contrib.postgres.indexes
from django.contrib.postgres.operations import CreateCollation, TrigramExtension
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
    ]

    operations = [
        TrigramExtension(),
        CreateCollation(
            "case_insensitive",
            provider="icu",
            locale="und-u-ks-level2",
            deterministic=False,
        ),
        migrations.CreateModel(
            name='Doc',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('title', models.CharField(db_collation='case_insensitive', max_length=100)),
                ('body', models.TextField()),
            ],
            options={
                'indexes': [django.contrib.postgres.indexes.GinIndex(fields=['body'], name='doc_body_trgm', opclasses=['gin_trgm_ops'])],
            },
        ),
    ]
