from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models


class AuditLog(models.Model):
    ACTIONS = [("create", "新建"), ("update", "修改"), ("delete", "删除"), ("event", "操作")]

    # no index of its own: the (content_type, object_pk, at) index below leads with it
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, verbose_name="对象类型", db_index=False)
    object_pk = models.CharField("对象主键", max_length=64)
    object_repr = models.CharField("对象", max_length=200)
    action = models.CharField("动作", max_length=10, choices=ACTIONS)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name="操作人")
    actor_username = models.CharField("操作人账号", max_length=150, blank=True)
    source = models.CharField("来源", max_length=20, default="system")  # web | api | cli | import | system
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    changes = models.JSONField("变更内容", default=dict)

    class Meta:
        verbose_name = verbose_name_plural = "审计日志"
        indexes = [models.Index(fields=["content_type", "object_pk", "at"])]
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username or self.source} {self.get_action_display()} {self.object_repr}"


# --- Working-day calendar (China's official schedule of holidays and swapped working days) ---------
# Only the exceptions to the Monday–Friday rule are stored, per covered year; a year without a
# CalendarYear row is "not covered" and working-day clocks refuse to run in it (see workcalendar.py).

from .audit import AuditedModel  # noqa: E402 - kept beside the calendar models it serves


class CalendarYear(AuditedModel):
    year = models.PositiveSmallIntegerField("年份", unique=True)
    source = models.CharField("来源", max_length=100,
                              help_text="如 chinese-calendar 1.11.0，或 管理员录入（国务院办公厅通知）")
    published_on = models.DateField("发布日期", null=True, blank=True, help_text="国务院办公厅通知的发布日期")
    note = models.TextField("说明", blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "节假日安排年度"
        ordering = ["-year"]

    def __str__(self):
        return f"{self.year}年（{self.source}）"


class CalendarDay(AuditedModel):
    calendar_year = models.ForeignKey(CalendarYear, on_delete=models.CASCADE, related_name="days",
                                      verbose_name="年度")
    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("上班", help_text="勾选：调休上班的周末；不勾选：放假的日子")
    name = models.CharField("名称", max_length=60, blank=True, help_text="如 国庆节、春节、调休上班（国庆节）")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "节假日与调休"
        ordering = ["date"]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {'上班' if self.is_workday else '放假'} {self.name}".rstrip()

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.date and self.calendar_year_id and self.date.year != self.calendar_year.year:
            raise ValidationError({"date": f"日期不在{self.calendar_year.year}年内"})


class ScheduledRun(models.Model):
    """When each periodic task (core.scheduler) was last put on the queue. Kept in the database, not in
    the scheduler's memory, so a restart neither re-runs a weekly scan nor postpones it by a week, and
    two schedulers never enqueue the same due run twice (a run is claimed by one conditional UPDATE)."""

    name = models.CharField("定时任务", max_length=100, primary_key=True)
    last_enqueued_at = models.DateTimeField("上次投递时间", null=True, blank=True)
    last_task_id = models.CharField("上次任务编号", max_length=64, blank=True)
    # An operator's changes to the registered schedule (`gridcare scheduler --set`, or the admin): empty
    # fields keep what the code registered. Read by every scheduler pass, so no restart is needed.
    enabled = models.BooleanField("启用", default=True)
    at = models.CharField("执行时间（HH:MM）", max_length=5, blank=True,
                          help_text="每天或每周的任务在当地时间几点执行；留空按系统默认")
    every_seconds = models.PositiveIntegerField("间隔（秒）", null=True, blank=True,
                                                help_text="按间隔执行的任务每隔多少秒投递一次；留空按系统默认")
    changed_by = models.CharField("最后修改人", max_length=150, blank=True)
    changed_at = models.DateTimeField("最后修改时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "定时任务投递记录"

    def __str__(self):
        return self.name
