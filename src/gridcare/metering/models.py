"""Reading plans, meter reads, meter exchanges and VEE exceptions (抄表计量)."""
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from gridcare.accounts.models import OrgUnit
from gridcare.core.audit import AuditedModel
from gridcare.customers.models import Customer
from gridcare.grid.models import Meter, TransformerArea

from .rules import RULE_LABELS


class Register(models.TextChoices):
    TOTAL = "total", "总"
    SHARP = "sharp", "尖峰"
    PEAK = "peak", "峰"
    FLAT = "flat", "平"
    VALLEY = "valley", "谷"


class ReadSource(models.TextChoices):
    AMI = "ami", "采集系统"
    MANUAL = "manual", "人工抄表"
    ESTIMATE = "estimate", "估抄"


class ReadStatus(models.TextChoices):
    VALID = "valid", "正常"
    EXCEPTION = "exception", "待处理异常"
    ESTIMATED = "estimated", "估算"
    REJECTED = "rejected", "已作废"


class ReadingRoute(AuditedModel):
    """抄表段: the 台区 a reader covers, read every cycle on the reading day (1st–9th by default)."""

    code = models.CharField("抄表段编号", max_length=32, unique=True)
    name = models.CharField("抄表段名称", max_length=100)
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="reading_routes", verbose_name="供电单位")
    reader = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="reading_routes", verbose_name="抄表员")
    cycle_months = models.PositiveSmallIntegerField("抄表周期(月)", default=1,
                                                    validators=[MinValueValidator(1), MaxValueValidator(12)])
    reading_day = models.PositiveSmallIntegerField("抄表例日", default=1,
                                                   validators=[MinValueValidator(1), MaxValueValidator(28)])
    transformer_areas = models.ManyToManyField(TransformerArea, related_name="reading_routes", blank=True,
                                               verbose_name="台区")

    class Meta:
        verbose_name = verbose_name_plural = "抄表段"
        ordering = ["code"]

    def __str__(self):
        return f"{self.name}({self.code})"


class ReadBatch(AuditedModel):
    """One import or manual entry session: who brought which reads in (the reads themselves are
    append-only; a correction is a new read, so per-read history is the rows themselves)."""

    source = models.CharField("来源", max_length=10, choices=ReadSource.choices)
    file_name = models.CharField("文件", max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   verbose_name="操作人")
    created_at = models.DateTimeField("时间", auto_now_add=True)
    rows = models.PositiveIntegerField("行数", default=0)
    exceptions = models.PositiveIntegerField("异常数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "抄表批次"


class MeterRead(models.Model):
    """One register read. The highest-volume table (a million customers: 1.5M rows a month), so its
    foreign keys carry no database constraint and no single-column index: reads are written only by
    services and bulk loaders that resolve the customer and meter first, the composite indexes below
    lead with each key, and the ORM still applies PROTECT/SET_NULL (docs/billing.md, Decisions)."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="meter_reads", verbose_name="客户",
                                 db_index=False, db_constraint=False)
    meter = models.ForeignKey(Meter, on_delete=models.PROTECT, related_name="reads", verbose_name="电能表",
                              db_index=False, db_constraint=False)
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="供电单位",
                             db_index=False, db_constraint=False)
    read_at = models.DateTimeField("抄表时间")
    period = models.DateField("账期", help_text="账期月的1日", db_index=True)
    register = models.CharField("示数类型", max_length=10, choices=Register.choices, default=Register.TOTAL)
    value_kwh = models.DecimalField("示数(kWh)", max_digits=14, decimal_places=2)
    consumption_kwh = models.DecimalField("电量(kWh)", max_digits=14, decimal_places=2, null=True, blank=True)
    source = models.CharField("来源", max_length=10, choices=ReadSource.choices)
    status = models.CharField("状态", max_length=10, choices=ReadStatus.choices, default=ReadStatus.VALID)
    rollover = models.BooleanField("示数翻转", default=False)
    exchange = models.BooleanField("换表", default=False)
    batch = models.ForeignKey(ReadBatch, null=True, blank=True, on_delete=models.SET_NULL, verbose_name="批次",
                              db_index=False, db_constraint=False)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "抄表示数"
        indexes = [models.Index(fields=["meter", "register", "read_at"]),
                   models.Index(fields=["customer", "period"]),  # (unit, period, status): no query used it
                   models.Index(fields=["batch"], condition=models.Q(batch__isnull=False), name="metering_read_batch")]

    def __str__(self):
        return f"{self.meter_id} {self.register} {self.value_kwh}"


class MeterExchange(AuditedModel):
    """换表: the old meter's final read and the new meter's initial read; consumption across it is
    (old final − old previous) + (new read − new initial)."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="meter_exchanges", verbose_name="客户")
    old_meter = models.ForeignKey(Meter, on_delete=models.PROTECT, related_name="+", verbose_name="旧表")
    new_meter = models.ForeignKey(Meter, on_delete=models.PROTECT, related_name="+", verbose_name="新表")
    exchanged_at = models.DateTimeField("换表时间")
    old_final_kwh = models.DecimalField("旧表止码", max_digits=14, decimal_places=2)
    new_initial_kwh = models.DecimalField("新表起码", max_digits=14, decimal_places=2, default=0)

    class Meta:
        verbose_name = verbose_name_plural = "换表记录"


class ExceptionStatus(models.TextChoices):
    OPEN = "open", "待处理"
    RESOLVED = "resolved", "已处理"


class Resolution(models.TextChoices):
    ACCEPT = "accept", "核实无误，按实抄计费"
    REREAD = "reread", "现场复抄"
    ESTIMATE = "estimate", "按历史估算"
    REJECT = "reject", "作废该示数"


class ReadException(AuditedModel):
    """A VEE finding the reader or the billing clerk resolves with a reason; while open, no bill."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="read_exceptions", verbose_name="客户")
    meter = models.ForeignKey(Meter, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="电能表")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="供电单位")
    read = models.ForeignKey(MeterRead, null=True, blank=True, on_delete=models.CASCADE, related_name="exceptions",
                             verbose_name="示数")
    period = models.DateField("账期", null=True, blank=True)
    day = models.DateField("日期（曲线数据）", null=True, blank=True)
    rule = models.CharField("规则", max_length=40, choices=list(RULE_LABELS.items()))
    message = models.CharField("说明", max_length=300)
    status = models.CharField("状态", max_length=10, choices=ExceptionStatus.choices, default=ExceptionStatus.OPEN)
    resolution = models.CharField("处理方式", max_length=10, choices=Resolution.choices, blank=True)
    reason = models.CharField("处理原因", max_length=300, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name="处理人")
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)
    created_at = models.DateTimeField("发现时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "抄表异常"
        indexes = [models.Index(fields=["unit", "status"]), models.Index(fields=["customer", "status"])]

    def __str__(self):
        return f"{self.customer_id} {self.rule}"
