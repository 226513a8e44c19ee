"""Drop the single-column index of core_auditlog.content_type_id: the composite index that starts with that column serves
every look-up by it (the foreign key's checks and cascades included), and every intake wrote both.

Only the index is dropped. Django's own AlterField would also drop and re-add the foreign key constraint
(PostgreSQL then re-checks every row of the table under lock) or, on SQLite, copy the whole table."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('core', '0004_schedule_overrides'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='auditlog',
                    name='content_type',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, to='contenttypes.contenttype', verbose_name='对象类型'),
                ),
            ],
            database_operations=[
                migrations.RunSQL('DROP INDEX IF EXISTS "core_auditlog_content_type_id_0a26d6b4"',
                                  reverse_sql='CREATE INDEX "core_auditlog_content_type_id_0a26d6b4" ON "core_auditlog" ("content_type_id")'),
            ],
        ),
    ]
