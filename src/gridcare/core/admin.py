from django.contrib import admin

from .models import AuditLog


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_username", "source", "action", "content_type", "object_repr")
    list_filter = ("action", "source", "content_type")
    search_fields = ("object_repr", "actor_username", "object_pk")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Working-day calendar ---------------------------------------------------------------------------
from django import forms  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.forms.models import BaseInlineFormSet  # noqa: E402

from .models import CalendarDay, CalendarYear  # noqa: E402


class CalendarDayFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        year = getattr(self.instance, "year", None)
        for form in self.forms:
            day = form.cleaned_data.get("date") if hasattr(form, "cleaned_data") else None
            if day and year and day.year != year and not form.cleaned_data.get("DELETE"):
                form.add_error("date", f"日期不在{year}年内")
        if any(form.errors for form in self.forms):
            raise forms.ValidationError("请修正标出的日期")


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    formset = CalendarDayFormSet
    fields = ("date", "is_workday", "name")
    extra = 3
    ordering = ("date",)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    """An administrator adds next year here when the State Council publishes it: the year, the notice's
    date, then every holiday (不勾选“上班”) and every swapped working day (勾选“上班”). Ordinary weekends
    need not be listed. From then on working-day clocks may run in that year.
    (`gridcare calendar import FILE` does the same from a CSV file.)"""

    list_display = ("year", "source", "published_on", "holiday_count", "workday_count", "updated_at")
    search_fields = ("year", "source", "note")
    readonly_fields = ("updated_at",)
    inlines = [CalendarDayInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            n_holidays=Count("days", filter=Q(days__is_workday=False)),
            n_workdays=Count("days", filter=Q(days__is_workday=True)))

    @admin.display(description="放假日数", ordering="n_holidays")
    def holiday_count(self, obj):
        return obj.n_holidays

    @admin.display(description="调休上班日数", ordering="n_workdays")
    def workday_count(self, obj):
        return obj.n_workdays


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "is_workday", "name", "calendar_year")
    list_filter = ("is_workday", "calendar_year")
    search_fields = ("name", "date")
    date_hierarchy = "date"
    list_select_related = ("calendar_year",)


# --- Scheduler: when each periodic task was last enqueued, and the operator's changes to it -----------
# (`gridcare scheduler --list` / `--set` do the same from the command line)
from django.utils import timezone  # noqa: E402

from . import scheduler  # noqa: E402
from .models import ScheduledRun  # noqa: E402


class ScheduledRunForm(forms.ModelForm):
    class Meta:
        model = ScheduledRun
        fields = ("enabled", "at", "every_seconds")

    def clean(self):
        data = super().clean()
        entry = scheduler.find(self.instance.name)
        if entry is None:
            raise forms.ValidationError("该定时任务已不在系统登记之列，修改不会生效")
        for field, message in scheduler.check_override(entry, data.get("at") or "", data.get("every_seconds")).items():
            self.add_error(field, message)
        return data


@admin.register(ScheduledRun)
class ScheduledRunAdmin(admin.ModelAdmin):
    """The registered periodic tasks: when each was last put on the queue, and this installation's
    changes (off, another time of day, another interval). Rows come from the code's registrations; the
    history is the scheduler's and cannot be edited."""

    form = ScheduledRunForm
    list_display = ("name", "period", "enabled", "last_enqueued_at", "changed_by", "changed_at")
    list_filter = ("enabled",)
    ordering = ("name",)
    fields = ("name", "default_period", "enabled", "at", "every_seconds", "last_enqueued_at", "last_task_id",
              "changed_by", "changed_at")
    readonly_fields = ("name", "default_period", "last_enqueued_at", "last_task_id", "changed_by", "changed_at")

    @admin.display(description="执行周期（现行）")
    def period(self, obj):
        entry = scheduler.find(obj.name)
        if entry is None:
            return "（已不在登记之列）"
        now_entry = scheduler.effective(entry, obj.enabled, obj.at, obj.every_seconds)
        return "已停用" if now_entry is None else scheduler.describe(now_entry)

    @admin.display(description="系统默认")
    def default_period(self, obj):
        entry = scheduler.find(obj.name)
        return scheduler.describe(entry) if entry else "（已不在登记之列）"

    def changelist_view(self, request, extra_context=None):
        scheduler.ensure_rows()  # every registered task is listed, also one never run yet
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        # only the operator's fields: a pass of the scheduler may have stamped a newer last run meanwhile
        obj.changed_by, obj.changed_at = request.user.get_username()[:150], timezone.now()
        obj.save(update_fields=["enabled", "at", "every_seconds", "changed_by", "changed_at"])

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
