from django.apps import AppConfig


class HallConfig(AppConfig):
    name = "gridcare.hall"
    label = "hall"
    verbose_name = "营业厅"

    def ready(self):
        from . import tasks  # noqa: F401 - registers the scheduled abandon sweep
