from django.apps import AppConfig


class WorkordersConfig(AppConfig):
    name = "gridcare.workorders"
    label = "workorders"
    verbose_name = "工单"

    def ready(self):
        from django.db.models.signals import post_migrate

        from .seed import seed_after_migrate

        post_migrate.connect(seed_after_migrate, sender=self, dispatch_uid="gridcare.workorders.seed_rules")
        from . import tasks, timeline  # noqa: F401 - registers the scheduled sweeps and timeline entries
