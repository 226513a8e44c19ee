"""PostgreSQL only: a covering index for the stage-duration queries (index-only scans over the report's
period, no visits to the table's pages). SQLite has no INCLUDE; the plain (order_type, accepted_at)
index of 0001 serves it."""
from django.db import migrations

INDEX = "an_sf_type_time_cover"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON analytics_stagefact (order_type, accepted_at) "
                              "INCLUDE (limit_key, unit_id, minutes, late, ended_at, due_at)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
