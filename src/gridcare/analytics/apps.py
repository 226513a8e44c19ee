from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "gridcare.analytics"
    label = "analytics"
    verbose_name = "统计分析"

    def ready(self):
        from . import home, tasks  # noqa: F401 - registers the fact refresh on the scheduler

        home.register()
