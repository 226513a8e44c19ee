"""Business hall: halls with their opening hours, windows (counters) and the service types each serves,
queue tickets and their history, appointments, applications that become work orders, the SMS outbox,
supervisors' inspections and clerks' training and certificates."""
import secrets

from django.conf import settings
from django.db import models

from gridcare.accounts.models import OrgUnit
from gridcare.core.audit import AuditedModel
from gridcare.customers.models import Customer

from .choices import AppointmentStatus, ApplicationKind, EventKind, RecordKind, TicketStatus
from .config import service_type_choices


def new_token() -> str:
    return secrets.token_urlsafe(12)


class Hall(AuditedModel):
    """A 营业厅 (an OrgUnit of kind hall) with its queue settings as data."""

    unit = models.OneToOneField(OrgUnit, on_delete=models.PROTECT, related_name="hall_settings",
                                verbose_name="营业厅单位")
    opening_hours = models.JSONField("营业时间", default=dict,
                                     help_text='按星期（0=周一）："0": [["08:30","17:30"]]')
    closed_dates = models.JSONField("休息日期", default=list, blank=True)
    slot_minutes = models.PositiveSmallIntegerField("预约时段（分钟）", default=30)
    slot_capacity = models.PositiveSmallIntegerField("每时段每业务预约名额", default=2)
    target_seconds = models.PositiveIntegerField("服务目标：等候不超过（秒）", default=600)
    service_level = models.FloatField("服务目标：达标比例", default=0.8)
    address = models.CharField("地址", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "营业厅设置"

    def __str__(self):
        return self.unit.name

    @property
    def code(self):
        return self.unit.code

    @property
    def name(self):
        return self.unit.name


class Window(AuditedModel):
    """A counter. `service_types` are the types it serves today (set by the supervisor or the clerk at
    sign-in); `current_ticket` is the customer at the counter (NULL when free)."""

    audit_exclude = ("current_ticket_id",)  # changes with every call; the ticket history records them

    hall = models.ForeignKey(Hall, on_delete=models.CASCADE, related_name="windows", verbose_name="营业厅")
    number = models.PositiveSmallIntegerField("窗口号")
    name = models.CharField("名称", max_length=50, blank=True)
    service_types = models.JSONField("今日办理业务", default=list)
    is_open = models.BooleanField("开放", default=True)
    clerk = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="hall_windows", verbose_name="当班营业员")
    current_ticket = models.ForeignKey("Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                       verbose_name="正在办理")

    class Meta:
        verbose_name = verbose_name_plural = "窗口"
        ordering = ["hall", "number"]
        constraints = [models.UniqueConstraint(fields=["hall", "number"], name="hall_window_number")]

    def __str__(self):
        return f"{self.number}号窗口"


class DailyCounter(models.Model):
    """The last ticket number issued per hall, day and service type (row-locked while issuing)."""

    hall = models.ForeignKey(Hall, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    service_type = models.CharField(max_length=20)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hall", "day", "service_type"], name="hall_counter_day_type")]


class Ticket(models.Model):
    """A queue ticket (取号). Its history is in TicketEvent (who, when, which window); waits and service
    times are derived from the stored timestamps."""

    hall = models.ForeignKey(Hall, on_delete=models.CASCADE, related_name="tickets", verbose_name="营业厅")
    day = models.DateField("日期")
    service_type = models.CharField("业务类型", max_length=20, choices=service_type_choices())
    number = models.CharField("号码", max_length=10)
    status = models.CharField("状态", max_length=12, choices=TicketStatus.choices, default=TicketStatus.WAITING)
    priority = models.PositiveSmallIntegerField("优先级", default=0)
    priority_reason = models.CharField("优先原因", max_length=20, blank=True)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="hall_tickets",
                                 verbose_name="客户")
    phone = models.CharField("手机", max_length=20, blank=True)
    window = models.ForeignKey(Window, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets",
                               verbose_name="窗口")
    target_window = models.ForeignKey(Window, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                      verbose_name="指定窗口")
    clerk = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="hall_tickets", verbose_name="营业员")
    issued_at = models.DateTimeField("取号时间")
    first_called_at = models.DateTimeField("首次叫号", null=True, blank=True)
    called_at = models.DateTimeField("叫号时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    recall_count = models.PositiveSmallIntegerField("重呼次数", default=0)
    transfer_count = models.PositiveSmallIntegerField("转办次数", default=0)
    estimated_wait_seconds = models.PositiveIntegerField("取号时预计等候（秒）", null=True, blank=True)
    ahead_at_issue = models.PositiveIntegerField("取号时前面人数", null=True, blank=True)
    token = models.CharField(max_length=24, unique=True, default=new_token)
    rating = models.PositiveSmallIntegerField("评价", null=True, blank=True)
    rating_comment = models.CharField("评价意见", max_length=200, blank=True)
    rating_channel = models.CharField("评价方式", max_length=10, blank=True)
    rated_at = models.DateTimeField("评价时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "排队号"
        ordering = ["-issued_at"]
        constraints = [models.UniqueConstraint(fields=["hall", "day", "number"], name="hall_ticket_number")]
        indexes = [
            models.Index(fields=["hall", "status", "service_type", "priority", "issued_at"], name="hall_queue"),
            models.Index(fields=["hall", "issued_at"], name="hall_ticket_time"),
            models.Index(fields=["hall", "service_type", "finished_at"], name="hall_service_recent"),
            models.Index(fields=["clerk", "finished_at"], name="hall_clerk_time"),
        ]

    def __str__(self):
        return self.number

    @property
    def wait_seconds(self):
        if self.first_called_at is None:
            return None
        return max(0, int((self.first_called_at - self.issued_at).total_seconds()))

    @property
    def service_seconds(self):
        if self.finished_at is None or self.called_at is None or self.status != TicketStatus.DONE:
            return None
        return max(0, int((self.finished_at - self.called_at).total_seconds()))


class TicketEvent(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events", verbose_name="排队号")
    kind = models.CharField("动作", max_length=12, choices=EventKind.choices)
    at = models.DateTimeField("时间")
    window = models.ForeignKey(Window, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name="操作人")
    actor_name = models.CharField("操作人", max_length=50, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "排队记录"
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["ticket", "at"])]


class Appointment(AuditedModel):
    hall = models.ForeignKey(Hall, on_delete=models.CASCADE, related_name="appointments", verbose_name="营业厅")
    service_type = models.CharField("业务类型", max_length=20, choices=service_type_choices())
    slot_start = models.DateTimeField("时段开始")
    slot_end = models.DateTimeField("时段结束")
    name = models.CharField("姓名", max_length=50)
    phone = models.CharField("手机", max_length=20)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="hall_appointments", verbose_name="客户")
    status = models.CharField("状态", max_length=12, choices=AppointmentStatus.choices,
                              default=AppointmentStatus.BOOKED)
    token = models.CharField(max_length=24, unique=True, default=new_token)
    ticket = models.OneToOneField(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="appointment")
    created_at = models.DateTimeField("预约时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "预约"
        ordering = ["slot_start"]
        indexes = [models.Index(fields=["hall", "service_type", "slot_start", "status"], name="hall_slot")]

    def __str__(self):
        return f"{self.name} {self.slot_start:%m-%d %H:%M}"


class Application(AuditedModel):
    """A business application started at the counter or online; it becomes a `service_request` order."""

    kind = models.CharField("业务", max_length=20, choices=ApplicationKind.choices)
    channel = models.CharField("渠道", max_length=10, choices=[("hall", "营业厅"), ("web", "网上营业厅")])
    hall = models.ForeignKey(Hall, null=True, blank=True, on_delete=models.SET_NULL, related_name="applications")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="hall_applications", verbose_name="客户")
    applicant_name = models.CharField("申请人", max_length=50)
    phone = models.CharField("手机", max_length=20)
    address = models.CharField("用电地址", max_length=200, blank=True)
    detail = models.TextField("申请说明", blank=True)
    documents = models.JSONField("需携带资料", default=list)
    work_order = models.OneToOneField("workorders.WorkOrder", on_delete=models.PROTECT, related_name="hall_application",
                                      verbose_name="工单")
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="applications")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField("申请时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "业务申请"
        ordering = ["-created_at"]


class SmsMessage(models.Model):
    """Every SMS the hall sends (ticket link, documents to bring, rating link): the outbox and its log."""

    phone = models.CharField("手机", max_length=20)
    text = models.TextField("内容")
    purpose = models.CharField("用途", max_length=20)
    channel = models.CharField("通道", max_length=20, default="console")
    status = models.CharField("状态", max_length=10, default="sent")
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "营业厅短信"
        ordering = ["-created_at", "-id"]


class Inspection(AuditedModel):
    """A supervisor's inspection of a clerk (checklist from hall.yaml; results per item)."""

    hall = models.ForeignKey(Hall, on_delete=models.CASCADE, related_name="inspections")
    clerk = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hall_inspections",
                              verbose_name="营业员")
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                                  verbose_name="检查人")
    at = models.DateTimeField("检查时间")
    results = models.JSONField("检查结果", default=dict)   # {item code: true/false}
    score = models.PositiveSmallIntegerField("得分")
    note = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "服务检查"
        ordering = ["-at"]


class ClerkRecord(AuditedModel):
    """Training attended or certificate held by a clerk."""

    clerk = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hall_records",
                              verbose_name="营业员")
    kind = models.CharField("类型", max_length=12, choices=RecordKind.choices)
    title = models.CharField("名称", max_length=100)
    on = models.DateField("日期")
    valid_until = models.DateField("有效期至", null=True, blank=True)
    hours = models.DecimalField("学时", max_digits=5, decimal_places=1, null=True, blank=True)
    issuer = models.CharField("颁发/组织单位", max_length=100, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "培训与证书"
        ordering = ["-on"]
