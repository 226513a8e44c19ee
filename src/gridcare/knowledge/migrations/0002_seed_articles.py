"""Seed the knowledge base with the real-world topics of the domain files (data/articles.yaml)."""
from django.db import migrations


def seed(apps, schema_editor):
    from gridcare.knowledge.services import seed as seed_articles

    seed_articles(apps.get_model("knowledge", "Article"))


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
