from django.apps import AppConfig


class HallConfig(AppConfig):
    name = "gridcare.hall"
    label = "hall"
    verbose_name = "营业厅"
