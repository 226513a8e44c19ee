"""What the text-intelligence capability stores about work orders. Relations point to WorkOrder from
here (the work-order app does not know this app)."""
from django.conf import settings
from django.db import models

from gridcare.core.audit import AuditedModel


class Suggestion(models.Model):
    """A classifier suggestion for an order's text, kept to measure how often agents' final choices
    agree with it. One row per order (written at intake or by the back-fill); the comparison is with the
    order's categories as they stand (after any correction at audit)."""

    order = models.OneToOneField("workorders.WorkOrder", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="suggestion", verbose_name="工单")
    text = models.TextField("分类文本")
    order_type = models.CharField("建议业务类型", max_length=20, blank=True)
    category_l1 = models.CharField("建议一级分类", max_length=30, blank=True)
    category_l2 = models.CharField("建议二级分类", max_length=30, blank=True)
    fault_kind = models.CharField("建议故障类型", max_length=30, blank=True)
    confidence = models.FloatField("置信度", null=True)
    confidences = models.JSONField("各字段置信度", default=dict, blank=True)
    model_version = models.CharField("模型版本", max_length=40)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name="坐席")
    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "分类建议"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.order_id or '-'} {self.order_type} {self.category_l2 or self.fault_kind}"


class PendingIntake(models.Model):
    """An order taken but not yet seen by the intelligence sweep (its suggestion and repeat search): written
    in the intake's own transaction, removed by `services.process_pending` once handled. A queue table,
    not a record: it is empty when the worker keeps up."""

    order = models.OneToOneField("workorders.WorkOrder", on_delete=models.CASCADE, related_name="+",
                                 verbose_name="工单")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name="坐席")

    class Meta:
        verbose_name = verbose_name_plural = "待分析工单"


class FlagStatus(models.TextChoices):
    OPEN = "open", "待确认"
    CORRECTED = "corrected", "已改正"
    DISMISSED = "dismissed", "维持原分类"


class CategoryFlag(AuditedModel):
    """At audit: the order's chosen code disagrees with a confident prediction."""

    order = models.ForeignKey("workorders.WorkOrder", on_delete=models.CASCADE, related_name="category_flags",
                              verbose_name="工单")
    field = models.CharField("字段", max_length=20)
    chosen = models.CharField("所选", max_length=30, blank=True)
    predicted = models.CharField("模型预测", max_length=30)
    confidence = models.FloatField("置信度")
    model_version = models.CharField("模型版本", max_length=40)
    status = models.CharField("状态", max_length=10, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "分类存疑标记"
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["order", "field"], name="intel_flag_order_field")]

    def __str__(self):
        return f"{self.order_id} {self.field}: {self.chosen} ≠ {self.predicted}"


class RepeatStatus(models.TextChoices):
    PROPOSED = "proposed", "待确认"
    LINKED = "linked", "已关联"
    MERGED = "merged", "已合并"
    DISMISSED = "dismissed", "非重复"


class RepeatCandidate(AuditedModel):
    """An earlier order that looks like the same problem (same customer or same 台区, similar text,
    within the window): proposed for linking (重复来电) or merging (duplicate of an open order)."""

    order = models.ForeignKey("workorders.WorkOrder", on_delete=models.CASCADE, related_name="repeat_candidates",
                              verbose_name="新工单")
    earlier = models.ForeignKey("workorders.WorkOrder", on_delete=models.CASCADE, related_name="+",
                                verbose_name="疑似原工单")
    similarity = models.FloatField("文本相似度")
    same_customer = models.BooleanField("同一客户", default=False)
    same_taiqu = models.BooleanField("同一台区", default=False)
    proposal = models.CharField("建议", max_length=10, choices=[("link", "关联重复来电"), ("merge", "合并重复工单")])
    status = models.CharField("状态", max_length=10, choices=RepeatStatus.choices, default=RepeatStatus.PROPOSED)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "疑似重复工单"
        ordering = ["-similarity"]
        constraints = [models.UniqueConstraint(fields=["order", "earlier"], name="intel_repeat_pair")]

    def __str__(self):
        return f"{self.order_id} ~ {self.earlier_id} ({self.similarity:.2f})"
