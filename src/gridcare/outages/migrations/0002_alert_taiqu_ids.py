from django.db import migrations, models


def fill_taiqu_ids(apps, schema_editor):
    """The 台区 of the calls an alert already holds (the order's own, else its customer's)."""
    Alert = apps.get_model("outages", "FeederFaultAlert")
    WorkOrder = apps.get_model("workorders", "WorkOrder")
    for alert in Alert.objects.exclude(order_nos=[]):
        ids = set()
        for own, customers in WorkOrder.objects.filter(order_no__in=alert.order_nos).values_list(
                "transformer_area_id", "customer__transformer_area_id"):
            if own or customers:
                ids.add(own or customers)
        alert.taiqu_ids = sorted(ids)
        alert.save(update_fields=["taiqu_ids"])


class Migration(migrations.Migration):

    dependencies = [
        ("outages", "0001_initial"),
        ("workorders", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="feederfaultalert",
            name="taiqu_ids",
            field=models.JSONField(default=list, verbose_name="涉及台区"),
        ),
        migrations.RunPython(fill_taiqu_ids, migrations.RunPython.noop),
    ]
