from django.apps import AppConfig


class OutagesConfig(AppConfig):
    name = "gridcare.outages"
    label = "outages"
    verbose_name = "停电管理"

    def ready(self):
        from django.db.models.signals import post_save

        from gridcare.workorders import services as wo_services

        from . import hooks, tasks  # noqa: F401 - scheduled scans, timeline entries and home cards

        post_save.connect(hooks.on_order_saved, sender="workorders.WorkOrder", dispatch_uid="gridcare.outages.link_call")
        if hooks.agent_context not in wo_services.CONTEXT_HOOKS:
            wo_services.CONTEXT_HOOKS.append(hooks.agent_context)
