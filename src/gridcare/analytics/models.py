"""The reporting store: narrow fact tables derived from the work orders and their history, kept up to
date by the task queue (`facts.refresh`, every minute, incremental on StageEvent ids), so that reports
are a few SQL aggregations over small rows instead of scans of the wide order table.

* `ComplaintFact`  one row per complaint order: its dimensions pre-computed in local time (day, hour,
                   weekday, month) and its segmented text (for the top terms).
* `StageFact`      one row per order and time-limited stage (first pass): clock start, end, deadline,
                   duration, who moved it on. Durations, percentiles and over-limit counts come from it.
* `OrderDaily`     orders per day × unit × order type × channel (all types), for the order-type split
                   and the dashboards.
* `ReportRun`      a report run in the background (too large to wait for): progress and the result.
"""
from django.conf import settings
from django.db import models

from gridcare.accounts.models import OrgUnit
from gridcare.workorders.models import WorkOrder


class ComplaintFact(models.Model):
    order = models.OneToOneField(WorkOrder, on_delete=models.CASCADE, primary_key=True, related_name="+",
                                 db_constraint=False, verbose_name="工单")
    accepted_at = models.DateTimeField("受理时间")
    day = models.DateField("受理日期")
    month = models.PositiveIntegerField("受理月份")      # yyyymm, local
    hour = models.PositiveSmallIntegerField("受理时段")  # 0–23, local
    weekday = models.PositiveSmallIntegerField("星期")   # 1 = Monday … 7 = Sunday
    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+", db_constraint=False,
                             verbose_name="责任单位")
    category_l1 = models.CharField("一级分类", max_length=30)
    category_l2 = models.CharField("二级分类", max_length=30)
    channel = models.CharField("渠道", max_length=10)
    area_kind = models.CharField("区域类型", max_length=10)
    taiqu_id = models.IntegerField("台区", null=True)
    customer_id = models.IntegerField("客户", null=True)
    repeat = models.BooleanField("重复来电", default=False)
    satisfaction = models.CharField("满意度", max_length=15, blank=True)
    terms = models.TextField("分词", blank=True)
    # The complaint's stages (first pass), so that the complaint report's stage section is one scan of
    # this table: minutes from clock start to leaving the stage (NULL: not left, or never entered), over
    # the limit when left; the stage it is still in and that stage's deadline.
    dispatch_minutes = models.FloatField("派单用时", null=True)
    dispatch_late = models.BooleanField("派单超时", default=False)
    receive_minutes = models.FloatField("接单用时", null=True)
    receive_late = models.BooleanField("接单超时", default=False)
    contact_minutes = models.FloatField("联系客户用时", null=True)
    contact_late = models.BooleanField("联系客户超时", default=False)
    handle_minutes = models.FloatField("处理用时", null=True)
    handle_late = models.BooleanField("处理超时", default=False)
    audit_minutes = models.FloatField("审核用时", null=True)
    audit_late = models.BooleanField("审核超时", default=False)
    visit_minutes = models.FloatField("回访用时", null=True)
    visit_late = models.BooleanField("回访超时", default=False)
    open_limit_key = models.CharField("所处时限环节", max_length=40, blank=True)
    open_due_at = models.DateTimeField("所处环节时限", null=True)

    class Meta:
        verbose_name = verbose_name_plural = "投诉事实"
        indexes = [models.Index(fields=["accepted_at", "unit"], name="an_cf_time_unit")]


COMPLAINT_STAGE_KEYS = ("dispatch", "receive", "contact", "handle", "audit", "visit")


class StageFact(models.Model):
    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="+", db_constraint=False,
                              verbose_name="工单")
    order_type = models.CharField("业务类型", max_length=20)
    accepted_at = models.DateTimeField("受理时间")
    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+", db_constraint=False,
                             verbose_name="责任单位")
    area_kind = models.CharField("区域类型", max_length=10)
    limit_key = models.CharField("时限", max_length=40)
    started_at = models.DateTimeField("计时开始")
    ended_at = models.DateTimeField("环节结束", null=True)
    due_at = models.DateTimeField("时限", null=True)
    minutes = models.FloatField("用时（分钟）", null=True)
    late = models.BooleanField("超时", default=False)   # ended after its deadline
    actor_id = models.IntegerField("办理人", null=True)

    class Meta:
        verbose_name = verbose_name_plural = "环节时长事实"
        indexes = [models.Index(fields=["order_type", "accepted_at"], name="an_sf_type_time"),
                   models.Index(fields=["order"], name="an_sf_order")]


class OrderDaily(models.Model):
    day = models.DateField("日期")
    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    order_type = models.CharField("业务类型", max_length=20)
    channel = models.CharField("渠道", max_length=10)
    orders = models.PositiveIntegerField("工单数")

    class Meta:
        verbose_name = verbose_name_plural = "工单日汇总"
        constraints = [models.UniqueConstraint(fields=["day", "unit", "order_type", "channel"], name="an_daily_key")]


class FactWatermark(models.Model):
    """How far the facts have been brought up to date (the last StageEvent id processed), and the ids below
    it that were not there yet when it moved on (facts.refresh looks for them again for a while)."""

    name = models.CharField(max_length=40, primary_key=True)
    last_event_id = models.BigIntegerField(default=0)
    # [[first id, last id, seen at (Unix seconds)], ...]: ranges of missing ids, by facts.refresh
    pending_gaps = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class ReportRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "计算中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    kind = models.CharField("报表", max_length=30, default="complaints")
    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+", verbose_name="单位")
    date_from = models.DateField("开始日期")
    date_to = models.DateField("结束日期")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name="发起人")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField("进度", default=0)
    step = models.CharField("当前步骤", max_length=100, blank=True)
    result = models.JSONField("结果", null=True, blank=True)
    error = models.TextField("错误", blank=True)
    created_at = models.DateTimeField("发起时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "后台报表"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display() if hasattr(self, 'get_kind_display') else self.kind} #{self.pk}"
