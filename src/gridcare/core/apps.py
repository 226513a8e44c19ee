from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "gridcare.core"
    label = "core"
    verbose_name = "基础"

    def ready(self):
        import logging
        import warnings

        warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
        try:  # jieba logs its dictionary loading at DEBUG to stderr; keep command output clean
            import jieba

            jieba.setLogLevel(logging.WARNING)
        except ImportError:  # pragma: no cover
            pass
        from . import checks  # noqa: F401 - registers the deployment checks
        from .calendar_services import seed_after_migrate

        # A fresh `migrate` (and a flushed test database) gets the working-day calendar of every year
        # the chinese-calendar package covers; years already stored are left alone.
        post_migrate.connect(seed_after_migrate, sender=self, dispatch_uid="gridcare.core.seed_calendar")
