from django.db import migrations


def seed(apps, schema_editor):
    from gridcare.workorders.seed import seed_rules

    seed_rules(apps.get_model("workorders", "EscalationRule"))


class Migration(migrations.Migration):
    dependencies = [("workorders", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
