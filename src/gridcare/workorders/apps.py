from django.apps import AppConfig


class WorkordersConfig(AppConfig):
    name = "gridcare.workorders"
    label = "workorders"
    verbose_name = "工单"

    def ready(self):
        from django.db.models.signals import post_delete, post_migrate, post_save

        from .seed import seed_after_migrate
        from .services import rules_changed

        post_migrate.connect(seed_after_migrate, sender=self, dispatch_uid="gridcare.workorders.seed_rules")
        # the per-process copy of the escalation rules (services.rule) is dropped when they change here
        post_migrate.connect(rules_changed, dispatch_uid="gridcare.workorders.rules_changed.migrate")
        for signal in (post_save, post_delete):
            signal.connect(rules_changed, sender="workorders.EscalationRule",
                           dispatch_uid=f"gridcare.workorders.rules_changed.{signal is post_save}")
        # the per-process copy of the time limits in force (limits.current_table) likewise
        from . import limits

        for signal in (post_save, post_delete):
            signal.connect(limits.changed, sender="workorders.TimeLimitOverride",
                           dispatch_uid=f"gridcare.workorders.limits_changed.{signal is post_save}")
        post_migrate.connect(limits.changed, dispatch_uid="gridcare.workorders.limits_changed.migrate")
        from . import tasks, timeline  # noqa: F401 - registers the scheduled sweeps and timeline entries
