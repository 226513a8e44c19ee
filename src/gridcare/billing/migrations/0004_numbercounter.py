from django.db import migrations, models


def seed(apps, schema_editor):
    """Continue after the highest sequence already used (the last 8 digits of P<yyyymmdd><seq>)."""
    Payment = apps.get_model("billing", "Payment")
    NumberCounter = apps.get_model("billing", "NumberCounter")
    last = 0
    for no in Payment.objects.values_list("payment_no", flat=True).iterator(chunk_size=10000):
        tail = no[9:]
        if tail.isdigit():
            last = max(last, int(tail))
    NumberCounter.objects.create(series="payment", last=last)


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_reminders_through_delivery_prepaid_channel")]

    operations = [
        migrations.CreateModel(
            name="NumberCounter",
            fields=[
                ("series", models.CharField(max_length=20, primary_key=True, serialize=False)),
                ("last", models.BigIntegerField(default=0)),
            ],
            options={"verbose_name": "流水号计数器", "verbose_name_plural": "流水号计数器"},
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
