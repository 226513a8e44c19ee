from django.apps import AppConfig


class MeteringConfig(AppConfig):
    name = "gridcare.metering"
    label = "metering"
    verbose_name = "抄表计量"

    def ready(self):
        from . import importers  # noqa: F401 - registers `gridcare import reads`
