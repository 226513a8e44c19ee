from django.apps import AppConfig


class GridConfig(AppConfig):
    name = "gridcare.grid"
    label = "grid"
    verbose_name = "电网档案"
