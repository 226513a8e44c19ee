from pathlib import Path

import yaml
from django.db import migrations

RULES_FILE = Path(__file__).resolve().parents[2] / "data" / "escalation-rules.yaml"


def seed(apps, schema_editor):
    Rule = apps.get_model("workorders", "EscalationRule")
    data = yaml.safe_load(RULES_FILE.read_text("utf-8"))
    for code, spec in data["rules"].items():
        Rule.objects.get_or_create(code=code, defaults={"name": spec["name"], "params": spec.get("params", {})})


class Migration(migrations.Migration):
    dependencies = [("workorders", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
