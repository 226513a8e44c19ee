from django.conf import settings
from django.db import models

from gridcare.accounts.models import OrgUnit
from gridcare.core.audit import AuditedModel
from gridcare.core.taxonomy import (area_kind_choices, category_l1_choices, category_l2_choices, fault_kind_choices,
                                    order_type_choices)
from gridcare.customers.models import Customer
from gridcare.grid.models import TransformerArea

from .choices import Channel, Escalation, EventKind, Satisfaction, SlaState, Status
from .workflow import STAGE_LABELS


class WorkOrder(AuditedModel):
    """A 95598 work order. The running stage's deadline is stored on the row (`stage_due_at`,
    `stage_warn_at`, NULL once closed) and recomputed on every change, so "near breach / overdue for
    this unit" is one index range scan."""

    audit_exclude = ("stage_warn_at",)

    order_no = models.CharField("工单编号", max_length=32)  # unique: Meta.constraints
    order_type = models.CharField("业务类型", max_length=20, choices=order_type_choices())
    channel = models.CharField("受理渠道", max_length=10, choices=Channel.choices, default=Channel.HOTLINE)
    category_l1 = models.CharField("投诉一级分类", max_length=30, blank=True, choices=category_l1_choices())
    category_l2 = models.CharField("投诉二级分类", max_length=30, blank=True, choices=category_l2_choices())
    fault_kind = models.CharField("故障类型", max_length=30, blank=True, choices=fault_kind_choices())
    # no single-column index on customer, unit, transformer_area: the composite indexes below lead with them
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="work_orders",
                                 verbose_name="客户", db_index=False)
    caller_name = models.CharField("来电人", max_length=50, blank=True)
    caller_phone = models.CharField("来电号码", max_length=20, blank=True)  # index: Meta.indexes
    area_kind = models.CharField("区域类型", max_length=10, choices=area_kind_choices())
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="work_orders", verbose_name="责任单位",
                             db_index=False)
    transformer_area = models.ForeignKey(TransformerArea, null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="work_orders", verbose_name="台区", db_index=False)
    text = models.TextField("受理内容")
    reply = models.TextField("回单内容", blank=True)
    stage = models.CharField("当前环节", max_length=20, default="accepted",
                             choices=list(STAGE_LABELS.items()))
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="assigned_orders", verbose_name="处理人")
    accepted_at = models.DateTimeField("受理时间", db_index=True)
    stage_entered_at = models.DateTimeField("进入当前环节时间")
    stage_limit_key = models.CharField("当前时限", max_length=40, blank=True)
    stage_due_at = models.DateTimeField("当前环节时限", null=True, blank=True)
    stage_warn_at = models.DateTimeField("预警时间", null=True, blank=True)
    sla_state = models.PositiveSmallIntegerField("时限状态", choices=SlaState.choices, default=SlaState.OK)
    suspended = models.BooleanField("暂停计时", default=False)
    escalation = models.PositiveSmallIntegerField("升级", choices=Escalation.choices, default=Escalation.NONE)
    escalation_reason = models.CharField("升级原因", max_length=200, blank=True)
    urge_count = models.PositiveIntegerField("催办次数", default=0)
    reject_count = models.PositiveIntegerField("回退次数", default=0)
    repeat_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="repeat_calls",
                                  verbose_name="重复来电原工单")
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_orders",
                                    verbose_name="合并至")
    satisfaction = models.CharField("满意度", max_length=15, blank=True, choices=Satisfaction.choices)
    visit_count = models.PositiveSmallIntegerField("回访次数", default=0)
    quality_flags = models.JSONField("质检问题", default=list, blank=True)
    idempotency_key = models.CharField(max_length=80, null=True, blank=True)  # unique: Meta.constraints
    closed_at = models.DateTimeField("归档时间", null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name="受理人")

    class Meta:
        verbose_name = verbose_name_plural = "工单"
        ordering = ["-accepted_at"]
        # Unique constraints and plain indexes declared here rather than with unique=True/db_index=True on
        # the fields: on PostgreSQL those also build a varchar_pattern_ops "_like" index per field for
        # LIKE queries, which no query on these columns makes, and every intake would maintain them.
        constraints = [
            models.UniqueConstraint(fields=["order_no"], name="wo_order_no_uniq"),
            models.UniqueConstraint(fields=["idempotency_key"], name="wo_idempotency_key_uniq"),
        ]
        indexes = [
            models.Index(fields=["caller_phone"], name="wo_caller_phone"),
            # the feeder-fault grouping (outages.services.check_feeder_fault) counts fault calls taken
            # without a 台区 at their customer's; only those few rows are in this index
            models.Index(fields=["accepted_at"], name="wo_fault_no_taiqu",
                         condition=models.Q(order_type="fault_repair", transformer_area__isnull=True)),
            # stage_due_at in the key too: "near breach" (warned, not yet due) is then counted from the
            # index alone, without visiting a heap page per order
            models.Index(fields=["unit", "stage_warn_at", "stage_due_at"], name="wo_unit_warn"),
            models.Index(fields=["unit", "stage_due_at"], name="wo_unit_due"),
            models.Index(fields=["stage_warn_at", "sla_state"], name="wo_sweep"),
            # the sweep's overdue pass (stage_due_at <= now, not yet marked): without it, every run reads
            # the heap of every order past its deadline to find the few not marked yet
            models.Index(fields=["stage_due_at", "sla_state"], name="wo_sweep_due"),
            models.Index(fields=["customer", "accepted_at"], name="wo_customer_time"),
            models.Index(fields=["transformer_area", "accepted_at"], name="wo_taiqu_time"),
            models.Index(fields=["order_type", "accepted_at"], name="wo_type_time"),
        ]

    def __str__(self):
        return self.order_no

    @property
    def stage_label(self):
        return STAGE_LABELS.get(self.stage, self.stage)

    @property
    def is_open(self):
        return self.status == Status.OPEN


class StageEvent(models.Model):
    """The order's history: every stage change and action, who and when. Stage durations, pauses
    (suspend/resume) and the timeline are all derived from it."""

    # no index of its own: the (order, at) index below leads with it
    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="events", verbose_name="工单",
                              db_index=False)
    kind = models.CharField("动作", max_length=12, choices=EventKind.choices)
    from_stage = models.CharField("原环节", max_length=20, blank=True)
    to_stage = models.CharField("新环节", max_length=20, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name="操作人")
    actor_name = models.CharField("操作人姓名", max_length=50, blank=True)
    at = models.DateTimeField("时间", db_index=True)
    note = models.TextField("说明", blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "工单流转记录"
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["order", "at"])]

    def __str__(self):
        return f"{self.order_id} {self.get_kind_display()} {self.to_stage}"


class EscalationRule(models.Model):
    """Escalation and sensitive-customer thresholds as data (seeded from calibration.md's rules)."""

    code = models.CharField("规则编码", max_length=40, unique=True)
    name = models.CharField("规则名称", max_length=100)
    enabled = models.BooleanField("启用", default=True)
    params = models.JSONField("参数", default=dict)

    class Meta:
        verbose_name = verbose_name_plural = "升级与敏感客户规则"

    def __str__(self):
        return self.name


class TimeLimitOverride(AuditedModel):
    """This utility's own time limit for a stage, stricter than the national one of time-limits.yaml
    (本单位考核时限): e.g. contact a complaining customer within 12 hours instead of 1 working day. It
    replaces the national limit for new stage clocks on every order of the installation (a clock already
    running keeps its deadline until the order's next change); the national limits stay the measure of the
    reports. Looser limits, and stages or areas the national table does not have, are refused."""

    UNIT_CHOICES = [("minutes", "分钟"), ("hours", "小时"), ("days", "天（自然日）"), ("working_days", "工作日")]

    order_type = models.CharField("业务类型", max_length=20, choices=order_type_choices())
    stage = models.CharField("环节", max_length=40, help_text="time-limits.yaml 的环节代码，如 contact、arrival")
    area_kind = models.CharField("地区类型", max_length=10, blank=True, choices=area_kind_choices(),
                                 help_text="到达现场、恢复送电等按地区区分的环节必填，其余留空")
    unit = models.CharField("单位", max_length=20, choices=UNIT_CHOICES)
    amount = models.PositiveIntegerField("时限")
    reason = models.CharField("依据", max_length=200, help_text="如：省公司2027年服务质量考核办法第5条")
    enabled = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "本单位时限"
        constraints = [models.UniqueConstraint(fields=["order_type", "stage", "area_kind"], name="time_limit_override_unique")]

    def __str__(self):
        return f"{self.get_order_type_display()} {self.stage} {self.area_kind or ''}".strip()
