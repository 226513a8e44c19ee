"""Seed the escalation rules from data/escalation-rules.yaml: by the data migration, and again after
every `migrate`/`flush` (post_migrate) so that a flushed database is never left without rules. Rows
that exist are left as the administrator edited them."""
import yaml

from gridcare.core.taxonomy import DATA_DIR

RULES_FILE = DATA_DIR / "escalation-rules.yaml"


def seed_rules(rule_model=None, using="default"):
    if rule_model is None:
        from .models import EscalationRule as rule_model
    data = yaml.safe_load(RULES_FILE.read_text("utf-8"))
    existing = set(rule_model.objects.using(using).values_list("code", flat=True))
    rule_model.objects.using(using).bulk_create([
        rule_model(code=code, name=spec["name"], params=spec.get("params", {}))
        for code, spec in data["rules"].items() if code not in existing])


def seed_after_migrate(sender, using="default", apps=None, **kwargs):
    from django.apps import apps as global_apps

    try:
        model = (apps or global_apps).get_model("workorders", "EscalationRule")
    except LookupError:
        return
    seed_rules(model, using)
