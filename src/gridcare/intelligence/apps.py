from django.apps import AppConfig


class IntelligenceConfig(AppConfig):
    name = "gridcare.intelligence"
    label = "intelligence"
    verbose_name = "智能分析"
