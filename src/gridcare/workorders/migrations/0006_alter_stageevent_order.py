"""Drop the single-column index of workorders_stageevent.order_id: the composite index that starts with that column serves
every look-up by it (the foreign key's checks and cascades included), and every intake wrote both.

Only the index is dropped. Django's own AlterField would also drop and re-add the foreign key constraint
(PostgreSQL then re-checks every row of the table under lock) or, on SQLite, copy the whole table."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('workorders', '0005_time_limit_overrides'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='stageevent',
                    name='order',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='workorders.workorder', verbose_name='工单'),
                ),
            ],
            database_operations=[
                migrations.RunSQL('DROP INDEX IF EXISTS "workorders_stageevent_order_id_1b936567"',
                                  reverse_sql='CREATE INDEX "workorders_stageevent_order_id_1b936567" ON "workorders_stageevent" ("order_id")'),
            ],
        ),
    ]
