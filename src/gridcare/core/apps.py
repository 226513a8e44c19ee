from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "gridcare.core"
    label = "core"
    verbose_name = "基础"
