from django.apps import AppConfig


class WorkordersConfig(AppConfig):
    name = "gridcare.workorders"
    label = "workorders"
    verbose_name = "工单"

    def ready(self):
        from . import tasks, timeline  # noqa: F401 - registers the scheduled sweeps and timeline entries
