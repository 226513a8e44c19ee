from django.contrib import admin

from django import forms

from . import limits
from .models import EscalationRule, StageEvent, TimeLimitOverride, WorkOrder


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


class TimeLimitOverrideForm(forms.ModelForm):
    class Meta:
        model = TimeLimitOverride
        fields = ("order_type", "stage", "area_kind", "unit", "amount", "reason", "enabled")

    def clean(self):
        data = super().clean()
        if all(data.get(f) not in (None, "") for f in ("order_type", "stage", "unit", "amount")):
            data["stage"] = data["stage"].strip()
            errors = limits.check_override(data["order_type"], data["stage"], data.get("area_kind") or "",
                                           data["unit"], data["amount"])
            for field, message in errors.items():
                self.add_error(field, message)
        return data


@admin.register(TimeLimitOverride)
class TimeLimitOverrideAdmin(admin.ModelAdmin):
    """本单位时限: stricter than the national ones, used for new stage clocks within seconds (every change
    is in the audit log)."""

    form = TimeLimitOverrideForm
    list_display = ("order_type", "stage", "area_kind", "limit_label", "national_label", "reason", "enabled", "updated_at")
    list_filter = ("enabled", "order_type")

    @admin.display(description="本单位时限")
    def limit_label(self, obj):
        return f"{obj.amount}{dict(TimeLimitOverride.UNIT_CHOICES)[obj.unit].split('（')[0]}"

    @admin.display(description="国家规定")
    def national_label(self, obj):
        from . import clock

        try:
            return clock.default_table().get(obj.order_type, obj.stage, obj.area_kind or None).label
        except clock.LimitNotFound:
            return "—"
