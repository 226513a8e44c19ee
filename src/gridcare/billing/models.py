"""Tariffs, billing accounts, bill runs, bills, payments, reminders, disconnections and e-invoice requests."""
from decimal import Decimal

from django.conf import settings
from django.db import models

from gridcare.accounts.models import OrgUnit
from gridcare.core.audit import AuditedModel
from gridcare.customers.models import Customer

MONEY = {"max_digits": 14, "decimal_places": 2}


class Tariff(AuditedModel):
    """One dated tariff schedule (formats.md), loaded from billing/tariffs/*.yaml or imported."""

    code = models.CharField("电价代码", max_length=40)
    name = models.CharField("电价名称", max_length=120)
    customer_class = models.CharField("用电类别", max_length=20)
    province = models.CharField("省份", max_length=20, blank=True)
    valid_from = models.DateField("生效日期")
    valid_to = models.DateField("失效日期", null=True, blank=True)
    schedule = models.JSONField("电价方案")
    source = models.CharField("依据文件", max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "电价"
        ordering = ["code", "valid_from"]
        constraints = [models.UniqueConstraint(fields=["code", "valid_from"], name="billing_tariff_code_from")]

    def __str__(self):
        return f"{self.code} {self.valid_from}"

    def as_rule(self):
        from .rules import parse_tariff

        return parse_tariff(self.schedule)


class AccountStatus(models.TextChoices):
    ACTIVE = "active", "正常用电"
    VACANT = "vacant", "空置"
    DISCONNECTED = "disconnected", "欠费停电"
    CLOSED = "closed", "销户"


class BillingAccount(AuditedModel):
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="billing", verbose_name="客户")
    tariff_code = models.CharField("电价代码", max_length=40)
    status = models.CharField("用电状态", max_length=15, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    prepaid = models.BooleanField("预付费（费控）", default=False)
    balance = models.DecimalField("预存余额(元)", default=Decimal("0.00"), **MONEY)
    low_balance_yuan = models.DecimalField("余额预警线(元)", default=Decimal("20.00"), **MONEY)
    low_balance_alerted_at = models.DateTimeField("余额预警时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "计费账户"

    def __str__(self):
        return f"{self.customer_id} {self.tariff_code}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "计算中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class BillRun(AuditedModel):
    period = models.DateField("账期", help_text="账期月的1日")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="供电单位")
    status = models.CharField("状态", max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    total = models.PositiveIntegerField("客户数", default=0)
    done = models.PositiveIntegerField("已处理", default=0)
    bills = models.PositiveIntegerField("出账数", default=0)
    held = models.PositiveIntegerField("暂缓出账（异常/缺抄）", default=0)
    amount = models.DecimalField("出账金额(元)", default=Decimal("0.00"), **MONEY)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, verbose_name="发起人")
    created_at = models.DateTimeField("发起时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    error = models.TextField("错误", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "抄核收批次"
        ordering = ["-created_at"]

    @property
    def progress(self) -> int:
        return 100 if self.status == RunStatus.DONE else (int(self.done * 100 / self.total) if self.total else 0)


class BillStatus(models.TextChoices):
    ISSUED = "issued", "未缴清"
    PAID = "paid", "已缴清"
    CANCELLED = "cancelled", "已作废"


class Bill(AuditedModel):
    """A month's bill. A bill run writes a million of them at once, so every index here earns its keep:
    the customer and unit keys are served by the composite indexes that lead with them, bill_no is unique
    through a constraint (no extra LIKE index on PostgreSQL), rebill_of is indexed only where set, and
    unit/run carry no database constraint (the run writes ids it has just read; docs/billing.md)."""

    bill_no = models.CharField("账单号", max_length=30)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="bills", verbose_name="客户",
                                 db_index=False)
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="供电单位",
                             db_index=False, db_constraint=False)
    run = models.ForeignKey(BillRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="批次",
                            db_constraint=False)
    period = models.DateField("账期")
    period_start = models.DateField("计费起")
    period_end = models.DateField("计费止")
    tariff_code = models.CharField("电价", max_length=80)
    kwh = models.DecimalField("电量(kWh)", max_digits=14, decimal_places=2)
    amount = models.DecimalField("应收(元)", **MONEY)
    paid = models.DecimalField("已收(元)", default=Decimal("0.00"), **MONEY)
    late_paid = models.DecimalField("已收违约金(元)", default=Decimal("0.00"), **MONEY)
    status = models.CharField("状态", max_length=10, choices=BillStatus.choices, default=BillStatus.ISSUED)
    due_date = models.DateField("缴费截止日")
    lines = models.JSONField("明细", default=list)
    estimated = models.BooleanField("估抄出账", default=False)
    rebill_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="rebills",
                                  verbose_name="更正自", db_index=False)
    note = models.CharField("说明", max_length=300, blank=True)
    issued_at = models.DateTimeField("出账时间")

    class Meta:
        verbose_name = verbose_name_plural = "电费账单"
        ordering = ["-period", "customer_id"]
        constraints = [models.UniqueConstraint(fields=["bill_no"], name="billing_bill_no_unique")]
        indexes = [models.Index(fields=["customer", "status", "due_date"]),
                   models.Index(fields=["unit", "status", "due_date"]),
                   models.Index(fields=["period", "unit"]),
                   models.Index(fields=["rebill_of"], condition=models.Q(rebill_of__isnull=False),
                                name="billing_bill_rebill_of")]

    def __str__(self):
        return self.bill_no

    @property
    def owed(self) -> Decimal:
        return Decimal("0.00") if self.status == BillStatus.CANCELLED else self.amount - self.paid


class Channel(models.TextChoices):
    COUNTER = "counter", "营业厅柜台"
    TERMINAL = "terminal", "自助缴费终端"
    BANK = "bank", "银行代扣"
    ALIPAY = "alipay", "支付宝"
    WECHAT = "wechat", "微信支付"
    UNIONPAY = "unionpay", "银联/云闪付"
    APP = "app", "网上国网App"
    PREPAID = "prepaid", "预存电费抵扣"  # internal: a prepaid (费控) account's balance settles its bill


# what customers choose (the channel-mix report and the payment API); `prepaid` is written by the bill run
CUSTOMER_CHANNELS = [c for c in Channel.values if c != Channel.PREPAID]


class NumberCounter(models.Model):
    """The last number handed out in a series (`payment`: the 收费流水号's sequence). Taking numbers is one
    UPDATE of this row, which holds its lock until the taking transaction ends, so two clerks paying at
    the same moment never get the same number (services.take_numbers)."""

    series = models.CharField(max_length=20, primary_key=True)
    last = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "流水号计数器"


class Payment(AuditedModel):
    payment_no = models.CharField("收费流水号", max_length=30, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="payments", verbose_name="客户")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="供电单位")
    channel = models.CharField("缴费渠道", max_length=10, choices=Channel.choices)
    amount = models.DecimalField("金额(元)", **MONEY)
    paid_at = models.DateTimeField("缴费时间")
    reference = models.CharField("渠道交易号", max_length=64, blank=True)
    to_balance = models.DecimalField("转预存(元)", default=Decimal("0.00"), **MONEY)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    verbose_name="收费员")

    class Meta:
        verbose_name = verbose_name_plural = "缴费记录"
        ordering = ["-paid_at"]
        constraints = [models.UniqueConstraint(fields=["channel", "reference"], condition=~models.Q(reference=""),
                                               name="billing_payment_channel_ref")]
        indexes = [models.Index(fields=["unit", "paid_at"])]


class Allocation(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="allocations")
    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="allocations")
    amount = models.DecimalField("冲抵电费(元)", **MONEY)
    late_charge = models.DecimalField("违约金(元)", default=Decimal("0.00"), **MONEY)


REMINDER_KINDS = {"before_due": "到期前提醒", "after_due": "逾期催缴"}


class Reminder(models.Model):
    """催费提醒: one per bill and kind (`before_due`, `after_due_<days>`), sent through the outbound
    delivery layer (notifications.delivery: one OutboundEvent keyed `billing-reminder:<bill>:<kind>`, one
    Delivery choosing SMS/WeChat/e-mail from the customer's preferences). `channel` is the channel the
    delivery chose (`none` when the customer is unreachable); the delivery row holds the send status."""

    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField("类型", max_length=16)
    channel = models.CharField("渠道", max_length=10)
    text = models.CharField("内容", max_length=300)
    sent_at = models.DateTimeField("发出时间")
    event = models.ForeignKey("notifications.OutboundEvent", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name="外发消息", db_constraint=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bill", "kind"], name="billing_reminder_once_per_kind")]

    @property
    def kind_label(self) -> str:
        base, _, days = self.kind.partition("_due_")
        if days:
            return f"逾期{days}天催缴"
        return REMINDER_KINDS.get(self.kind, self.kind)


class CutStatus(models.TextChoices):
    NOTICE = "notice", "已送达停电通知"
    CUT = "cut", "已停电"
    CANCELLED = "cancelled", "已撤销（已缴费）"
    PAID = "paid", "已缴费待复电"
    RECONNECTED = "reconnected", "已复电"


class Disconnection(AuditedModel):
    """欠费停电 case: written notice (3–7 days before), second notice (30 minutes before), authority report
    for critical customers, the cut, payment, and reconnection against its clock."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="disconnections", verbose_name="客户")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="供电单位")
    status = models.CharField("状态", max_length=12, choices=CutStatus.choices, default=CutStatus.NOTICE)
    owed = models.DecimalField("欠费(元)", **MONEY)
    notice_delivered_at = models.DateTimeField("停电通知送达时间")
    notice_method = models.CharField("送达方式", max_length=40, default="书面送达")
    planned_cut_at = models.DateTimeField("计划停电时间")
    second_notice_at = models.DateTimeField("停电前再次通知时间", null=True, blank=True)
    authority_reported_at = models.DateTimeField("报告电力管理部门时间", null=True, blank=True)
    authority_ref = models.CharField("报告文号/回执", max_length=100, blank=True)
    cut_at = models.DateTimeField("停电时间", null=True, blank=True)
    paid_at = models.DateTimeField("缴清时间", null=True, blank=True)
    reconnect_due_at = models.DateTimeField("复电时限", null=True, blank=True, db_index=True)
    reconnected_at = models.DateTimeField("复电时间", null=True, blank=True)
    complaint_risk = models.BooleanField("投诉风险", default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "欠费停复电"
        ordering = ["-notice_delivered_at"]
        indexes = [models.Index(fields=["unit", "status"])]


class InvoiceStatus(models.TextChoices):
    QUEUED = "queued", "待开票"
    EXPORTED = "exported", "已推送开票平台"
    ISSUED = "issued", "已开具"
    FAILED = "failed", "开具失败"


class InvoiceRequest(AuditedModel):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoice_requests", verbose_name="客户")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name="供电单位")
    bill = models.ForeignKey(Bill, null=True, blank=True, on_delete=models.PROTECT, verbose_name="账单")
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, verbose_name="缴费")
    amount = models.DecimalField("金额(元)", **MONEY)
    title = models.CharField("发票抬头", max_length=100)
    tax_id = models.CharField("纳税人识别号", max_length=20, blank=True)
    address_phone = models.CharField("地址电话", max_length=200, blank=True)
    bank = models.CharField("开户行及账号", max_length=150, blank=True)
    email = models.EmailField("收票邮箱", blank=True)
    phone = models.CharField("收票手机", max_length=20, blank=True)
    status = models.CharField("状态", max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.QUEUED)
    invoice_no = models.CharField("发票号码", max_length=40, blank=True)
    exported_at = models.DateTimeField("推送时间", null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("申请时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "电子发票申请"
        ordering = ["-created_at"]
