from django.apps import AppConfig


class MeteringConfig(AppConfig):
    name = "gridcare.metering"
    label = "metering"
    verbose_name = "抄表计量"

    def ready(self):
        from . import hooks, importers, tasks  # noqa: F401 - `gridcare import reads`; the missed-read sweep

        hooks.register()  # the home-page card
