from django.conf import settings
from django.db import models


class Notification(models.Model):
    """An in-app message to a user (the inbox of the queue pages). External channels (SMS, WeChat,
    e-mail, HTTP gateway) build on this app in the outages capability."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications",
                             verbose_name="接收人")
    kind = models.CharField("类型", max_length=30)  # sla_warning | sla_overdue | escalation | urge | ...
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    url = models.CharField("链接", max_length=200, blank=True)
    dedupe_key = models.CharField(max_length=120, unique=True, null=True, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "站内通知"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at", "created_at"])]

    def __str__(self):
        return self.title


# ------------------------------------------------------------------------------------------------
# Outbound messages to customers (SMS, WeChat, e-mail, the utility's HTTP SMS gateway, a file/console
# channel for the demo). See channels.py and delivery.py; the exactly-once argument is in docs/outages.md.


class MessageTemplate(models.Model):
    """A message template with `{field}` placeholders (the fields its users know: outages/rules.py
    TEMPLATE_FIELDS). Editable by administrators; an unknown field is refused when it is saved."""

    code = models.CharField("模板编码", max_length=40, unique=True)
    name = models.CharField("模板名称", max_length=100)
    body = models.TextField("模板内容")
    updated_at = models.DateTimeField("修改时间", auto_now=True)
    updated_by = models.CharField("修改人", max_length=150, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "消息模板"
        ordering = ["code"]

    def __str__(self):
        return f"{self.name}({self.code})"


class OutboundEvent(models.Model):
    """One message event (e.g. an outage notice, a progress update): its text, rendered once; the
    deliveries to each customer hang off it."""

    key = models.CharField("事件键", max_length=80, unique=True)
    kind = models.CharField("类型", max_length=30)
    subject = models.CharField("标题", max_length=200, blank=True)
    body = models.TextField("内容")
    source_type = models.CharField(max_length=30, blank=True)
    source_id = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "外发消息事件"
        indexes = [models.Index(fields=["source_type", "source_id"], name="notif_event_source")]

    def __str__(self):
        return self.key


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "待发送"
    SENDING = "sending", "发送中"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"
    UNREACHABLE = "unreachable", "无可用联系方式"


class Delivery(models.Model):
    """One customer's copy of one event: at most one row per (event, customer) — the unique constraint is
    what makes retries of the event harmless. Workers claim rows (status sending, claimed_at = lease
    start), send them with the idempotency key `<event key>/<customer id>`, then mark them sent."""

    event = models.ForeignKey(OutboundEvent, on_delete=models.CASCADE, related_name="deliveries",
                              verbose_name="事件")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+",
                                 verbose_name="客户")
    channel = models.CharField("渠道", max_length=10)  # sms | wechat | email | none
    address = models.CharField("地址", max_length=200, blank=True)
    status = models.CharField("状态", max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    claim_token = models.CharField(max_length=40, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    provider_ref = models.CharField("网关回执", max_length=80, blank=True)
    error = models.CharField("错误", max_length=300, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "外发消息记录"
        constraints = [models.UniqueConstraint(fields=["event", "customer"], name="delivery_once_per_customer")]
        indexes = [models.Index(fields=["status", "claimed_at"], name="delivery_claim"),
                   models.Index(fields=["customer", "created_at"], name="delivery_customer")]

    @property
    def idempotency_key(self) -> str:
        return f"{self.event.key}/{self.customer_id}"
