from django.apps import AppConfig


class IntelligenceConfig(AppConfig):
    name = "gridcare.intelligence"
    label = "intelligence"
    verbose_name = "智能分析"

    def ready(self):
        from . import tasks  # noqa: F401 - registers the after-intake sweep with the scheduler
