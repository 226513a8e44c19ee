from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "gridcare.billing"
    label = "billing"
    verbose_name = "电费账务"

    def ready(self):
        from . import hooks, tasks, timeline  # noqa: F401 - scheduled sweeps, bills and payments on the customer page

        hooks.register()  # home-page card, the agent's call context
