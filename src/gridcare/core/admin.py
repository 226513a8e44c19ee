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


# --- Scheduler: when each periodic task was last enqueued (read-only; `gridcare scheduler --list`) ----
from .models import ScheduledRun  # noqa: E402


@admin.register(ScheduledRun)
class ScheduledRunAdmin(admin.ModelAdmin):
    list_display = ("name", "last_enqueued_at", "last_task_id")
    ordering = ("name",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
