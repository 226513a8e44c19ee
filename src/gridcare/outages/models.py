"""Outages on the grid registry: the outage and its scope (台区 or customers, with per-part
restoration), its timeline, the calls linked to it, feeder-fault suspicions and the frequent-outage
watch list."""
from django.conf import settings
from django.db import models

from gridcare.accounts.models import OrgUnit
from gridcare.core.audit import AuditedModel
from gridcare.customers.models import Customer
from gridcare.grid.models import Feeder, TransformerArea

from .choices import Kind, ScopeKind, State, UpdateKind, WatchKind


class Outage(AuditedModel):
    outage_no = models.CharField("停电编号", max_length=32, unique=True)
    kind = models.CharField("停电类型", max_length=10, choices=Kind.choices)
    scope_kind = models.CharField("停电范围类型", max_length=10, choices=ScopeKind.choices)
    feeder = models.ForeignKey(Feeder, null=True, blank=True, on_delete=models.PROTECT, related_name="outages",
                               verbose_name="线路")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="outages", verbose_name="责任单位")
    title = models.CharField("标题", max_length=200)
    reason = models.CharField("停电原因", max_length=300, blank=True)
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.OPEN)
    start_at = models.DateTimeField("停电开始时间")
    end_at = models.DateTimeField("计划送电时间", null=True, blank=True)
    expected_restoration_at = models.DateTimeField("预计恢复时间", null=True, blank=True)
    restored_at = models.DateTimeField("恢复送电时间", null=True, blank=True)
    cause = models.CharField("故障原因", max_length=300, blank=True)
    progress = models.CharField("最新进展", max_length=30, blank=True, choices=UpdateKind.choices)
    notice_sent_at = models.DateTimeField("通知发出时间", null=True, blank=True)
    notice_late = models.BooleanField("通知晚于时限", default=False)
    notice_late_reason = models.CharField("逾时原因", max_length=300, blank=True)
    customers_affected = models.PositiveIntegerField("影响客户数", default=0)
    critical_affected = models.PositiveIntegerField("影响重要客户数", default=0)
    call_count = models.PositiveIntegerField("来电数", default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name="登记人")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    source = models.CharField("来源", max_length=10, default="app")  # app | import | demo

    class Meta:
        verbose_name = verbose_name_plural = "停电事件"
        ordering = ["-start_at"]
        indexes = [models.Index(fields=["state", "start_at"], name="outage_state_start"),
                   models.Index(fields=["unit", "start_at"], name="outage_unit_start")]

    def __str__(self):
        return f"{self.outage_no} {self.title}"


class OutageArea(AuditedModel):
    """A 台区 inside the outage (feeder scope: every 台区 of the feeder when it was recorded);
    `restored_at` set when that 台区 is back before the rest (partial restoration)."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="areas", verbose_name="停电事件")
    transformer_area = models.ForeignKey(TransformerArea, on_delete=models.PROTECT, related_name="outage_parts",
                                         verbose_name="台区")
    restored_at = models.DateTimeField("恢复送电时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "停电台区"
        constraints = [models.UniqueConstraint(fields=["outage", "transformer_area"], name="outage_area_once")]
        indexes = [models.Index(fields=["transformer_area", "outage"], name="outage_area_tq")]

    def __str__(self):
        return f"{self.outage_id}:{self.transformer_area_id}"


class OutageCustomer(AuditedModel):
    """A customer of a customer-scoped outage."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="scoped_customers",
                               verbose_name="停电事件")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="outage_parts", verbose_name="客户")
    restored_at = models.DateTimeField("恢复送电时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "停电客户"
        constraints = [models.UniqueConstraint(fields=["outage", "customer"], name="outage_customer_once")]
        indexes = [models.Index(fields=["customer", "outage"], name="outage_customer_c")]


class OutageUpdate(models.Model):
    """The outage's timeline (append-only): creation, changes, progress, restoration, linked calls."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="updates", verbose_name="停电事件")
    kind = models.CharField("类型", max_length=20, choices=UpdateKind.choices)
    at = models.DateTimeField("时间", db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name="操作人")
    actor_name = models.CharField("操作人姓名", max_length=50, blank=True)
    note = models.TextField("说明", blank=True)
    data = models.JSONField(default=dict, blank=True)
    notified = models.PositiveIntegerField("推送客户数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "停电进展"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.outage_id} {self.get_kind_display()}"


class OutageSubscriber(models.Model):
    """Customers who asked for progress updates (they called about it, or asked through an agent)."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="subscribers")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=10, default="call")  # call | request
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "进展订阅"
        constraints = [models.UniqueConstraint(fields=["outage", "customer"], name="outage_subscriber_once")]


class OutageCall(AuditedModel):
    """A fault-repair order linked to a known outage instead of dispatching a new crew."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="calls", verbose_name="停电事件")
    work_order = models.OneToOneField("workorders.WorkOrder", on_delete=models.CASCADE, related_name="outage_call",
                                      verbose_name="工单")
    transformer_area = models.ForeignKey(TransformerArea, null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="+", verbose_name="台区")
    at = models.DateTimeField("来电时间")

    class Meta:
        verbose_name = verbose_name_plural = "停电来电"
        indexes = [models.Index(fields=["outage", "at"], name="outage_call_time")]


class FeederFaultAlert(AuditedModel):
    """Several fault calls from different 台区 of one feeder in a short window: a feeder-level fault is
    suspected (grouping rule of outage-rules.yaml). One open alert per feeder; each later call on the feeder
    joins it as a `FeederFaultCall` row, and the alert keeps the counts (calls, 台区) and times, so a call
    costs the same however many calls the fault has already brought in."""

    feeder = models.ForeignKey(Feeder, on_delete=models.CASCADE, related_name="fault_alerts", verbose_name="线路")
    first_call_at = models.DateTimeField("首次来电")
    last_call_at = models.DateTimeField("最近来电")
    calls = models.PositiveIntegerField("来电数", default=0)
    taiqu_count = models.PositiveIntegerField("涉及台区数", default=0)
    open = models.BooleanField("待处理", default=True)
    outage = models.ForeignKey(Outage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               verbose_name="确认的停电事件")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "线路故障研判"
        ordering = ["-last_call_at"]

    @property
    def order_nos(self) -> list[str]:
        """The order numbers of the calls grouped in this alert, in the order they came."""
        return list(self.members.order_by("at", "id").values_list("work_order__order_no", flat=True))

    @property
    def taiqu_ids(self) -> list[int]:
        """The 台区 the grouped calls came from (the order's own, else its customer's)."""
        return sorted(set(self.members.exclude(transformer_area=None).values_list("transformer_area_id", flat=True)))


class FeederFaultCall(models.Model):
    """One fault call grouped in a feeder-fault alert, at the 台区 it counts for. Written once per call, in
    the intake's transaction; the order's own history and audit rows say who took it."""

    alert = models.ForeignKey(FeederFaultAlert, on_delete=models.CASCADE, related_name="members",
                              verbose_name="线路故障研判")
    work_order = models.ForeignKey("workorders.WorkOrder", on_delete=models.CASCADE, related_name="+",
                                   verbose_name="工单")
    transformer_area = models.ForeignKey(TransformerArea, null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="+", verbose_name="台区")
    at = models.DateTimeField("来电时间")

    class Meta:
        verbose_name = verbose_name_plural = "线路故障研判来电"
        constraints = [models.UniqueConstraint(fields=["alert", "work_order"], name="feeder_fault_call_once")]
        indexes = [models.Index(fields=["alert", "transformer_area"], name="feeder_fault_call_taiqu")]


class WatchEntry(AuditedModel):
    """Frequent-outage watch list: a 台区 or customer with N+ sustained outages in the window."""

    kind = models.CharField("类型", max_length=10, choices=WatchKind.choices)
    key = models.CharField(max_length=40, unique=True)  # "taiqu:<code>" | "customer:<account_no>"
    transformer_area = models.ForeignKey(TransformerArea, on_delete=models.CASCADE, related_name="+",
                                         verbose_name="台区")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                 verbose_name="客户")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="单位")
    outages = models.PositiveIntegerField("窗口内停电次数", default=0)
    outage_nos = models.JSONField("停电编号", default=list)
    first_flagged_on = models.DateField("首次列入")
    last_flagged_on = models.DateField("最近一次扫描")
    active = models.BooleanField("在监控中", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "频繁停电预警"
        ordering = ["-outages", "key"]
        indexes = [models.Index(fields=["active", "unit"], name="watch_active_unit")]
