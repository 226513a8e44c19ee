from django.db import migrations, models
from django.db.models import Max
from django.db.models.functions import Substr


def seed(apps, schema_editor):
    """Continue after the highest sequence already used (the last 8 digits of P<yyyymmdd><seq>)."""
    Payment = apps.get_model("billing", "Payment")
    NumberCounter = apps.get_model("billing", "NumberCounter")
    tail = Payment.objects.aggregate(m=Max(Substr("payment_no", 10)))["m"]
    NumberCounter.objects.create(series="payment", last=int(tail) if tail and tail.isdigit() else 0)


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
