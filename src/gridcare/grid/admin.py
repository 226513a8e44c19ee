from django.contrib import admin

from .models import Feeder, Meter, Substation, TransformerArea


@admin.register(Substation)
class SubstationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "unit")
    search_fields = ("code", "name")


@admin.register(Feeder)
class FeederAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "substation", "unit")
    search_fields = ("code", "name")


@admin.register(TransformerArea)
class TransformerAreaAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "feeder", "unit", "area_kind", "manager", "capacity_kva")
    list_filter = ("area_kind",)
    search_fields = ("code", "name")
    raw_id_fields = ("feeder", "manager")


@admin.register(Meter)
class MeterAdmin(admin.ModelAdmin):
    list_display = ("meter_no", "customer", "transformer_area", "tou")
    search_fields = ("meter_no", "customer__account_no")
    raw_id_fields = ("customer", "transformer_area")
