from django.contrib import admin

from .models import EscalationRule, StageEvent, WorkOrder


class StageEventInline(admin.TabularInline):
    model = StageEvent
    extra = 0
    readonly_fields = ("kind", "from_stage", "to_stage", "actor_name", "at", "note")
    can_delete = False


@admin.register(WorkOrder)
class WorkOrderAdmin(admin.ModelAdmin):
    list_display = ("order_no", "order_type", "channel", "stage", "status", "unit", "accepted_at", "stage_due_at",
                    "sla_state", "escalation")
    list_filter = ("order_type", "channel", "stage", "status", "sla_state", "escalation")
    search_fields = ("order_no", "customer__account_no", "caller_phone")
    raw_id_fields = ("customer", "transformer_area", "assignee", "repeat_of", "merged_into", "created_by", "unit")
    inlines = [StageEventInline]


@admin.register(EscalationRule)
class EscalationRuleAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "enabled", "params")
    list_editable = ("enabled",)
