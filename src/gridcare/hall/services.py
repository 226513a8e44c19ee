"""Business-hall operations. Each `do_*` runs in one transaction, checks the actor's capability and unit
(`hall.serve` for clerks and the ticket machine, `hall.manage` for supervisors), writes the ticket's
history (TicketEvent) or an audited row, and sends SMS after commit.

Calling the next number must never give two windows the same ticket: the window row is locked
(SELECT … FOR UPDATE on PostgreSQL), the candidate tickets are read with SKIP LOCKED where the database
has it, and the claim itself is a conditional UPDATE (`… WHERE id = ? AND status = 'waiting'`) that only
one caller can win — the whole mechanism on SQLite, whose IMMEDIATE transactions serialise writers."""
from __future__ import annotations

import math
import re
from collections import defaultdict
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from gridcare.accounts.models import OrgUnit, User
from gridcare.accounts.permissions import can, require
from gridcare.core.api_support import Conflict, DomainError
from gridcare.customers.models import Customer

from . import hooks, rules
from .choices import AppointmentStatus, EventKind, TicketStatus
from .config import checklist, config, priorities, service_label, service_types
from .models import (Appointment, Application, ClerkRecord, DailyCounter, Hall, Inspection, SmsMessage, Ticket,
                     TicketEvent, Window)

PHONE = re.compile(r"^1[3-9]\d{9}$")


def local(moment: datetime) -> datetime:
    return timezone.localtime(moment)


# ---------------------------------------------------------------- halls and windows
def get_hall(code: str) -> Hall:
    hall = Hall.objects.select_related("unit", "unit__parent").filter(unit__code=code).first()
    if hall is None:
        raise DomainError({"hall": f"营业厅 {code} 不存在或未启用排队"}, status=404)
    return hall


def service_area(hall: Hall) -> OrgUnit:
    """The unit whose customers the hall serves: the company the hall belongs to (its parent unit)."""
    return hall.unit.parent or hall.unit


def customer_served_by(hall: Hall, customer: Customer) -> bool:
    return customer.unit.path.startswith(service_area(hall).path)


@transaction.atomic
def do_setup_hall(user, unit_code: str, windows: list[dict] | None = None, **settings) -> Hall:
    """Enable the queue for a 营业厅 unit (hall.manage): its settings and windows."""
    unit = OrgUnit.objects.filter(code=unit_code).first()
    if unit is None:
        raise DomainError({"unit_code": "单位编码不存在"})
    if unit.kind != "hall":
        raise DomainError({"unit_code": "只有营业厅类型的单位可以设置排队"})
    require(user, "hall.manage", unit)
    cfg = config()
    hall, _ = Hall.objects.get_or_create(unit=unit, defaults={
        "opening_hours": cfg["opening_hours"], "slot_minutes": cfg["appointments"]["slot_minutes"],
        "slot_capacity": cfg["appointments"]["capacity_per_slot"],
        "target_seconds": cfg["service_target"]["target_seconds"],
        "service_level": cfg["service_target"]["service_level"]})
    changed = False
    for key, value in settings.items():
        if value is not None and hasattr(hall, key):
            setattr(hall, key, value)
            changed = True
    if changed:
        hall.save()
    for spec in windows or []:
        _apply_window(hall, spec)
    return hall


def _check_types(types) -> list[str]:
    unknown = [t for t in types if t not in service_types()]
    if unknown:
        raise DomainError({"service_types": f"未知的业务类型：{'、'.join(unknown)}"})
    return list(dict.fromkeys(types))


def _apply_window(hall, spec):
    number = spec.get("number")
    if not isinstance(number, int) or number < 1:
        raise DomainError({"number": "窗口号必须为正整数"})
    window = Window.objects.filter(hall=hall, number=number).first() or Window(hall=hall, number=number)
    if "service_types" in spec:
        window.service_types = _check_types(spec["service_types"])
    if "is_open" in spec:
        window.is_open = bool(spec["is_open"])
    if "name" in spec:
        window.name = spec["name"] or ""
    if "clerk" in spec:
        window.clerk = _clerk_of(hall, spec["clerk"]) if spec["clerk"] else None
    window.save()
    return window


def _clerk_of(hall, username):
    clerk = User.objects.filter(username=username, is_active=True).select_related("unit").first()
    if clerk is None:
        raise DomainError({"clerk": "营业员不存在"})
    if clerk.unit is None or not clerk.unit.path.startswith(hall.unit.path):
        raise DomainError({"clerk": "该营业员不属于本营业厅"})
    return clerk


@transaction.atomic
def do_set_window(user, hall_code: str, number: int, **spec) -> Window:
    """Supervisors set any window; a clerk may open/close and set the types of a window he sits at."""
    hall = get_hall(hall_code)
    if not can(user, "hall.manage"):
        require(user, "hall.serve", hall.unit)
        if "clerk" in spec and spec["clerk"] not in (None, user.username):
            raise PermissionDenied("营业员只能登记自己上岗")
    else:
        require(user, "hall.manage", hall.unit)
    return _apply_window(hall, {"number": number, **spec})


def _lock_window(hall, number) -> Window:
    qs = Window.objects.filter(hall=hall, number=number)
    if connection.features.has_select_for_update:
        qs = qs.select_for_update()
    window = qs.first()
    if window is None:
        raise DomainError({"window": f"{number}号窗口不存在"}, status=404)
    return window


# ---------------------------------------------------------------- estimates
def recent_service_seconds(hall, service_type) -> float:
    """Mean service time of the type's last N finished tickets in this hall (hall.yaml `estimate`)."""
    cfg = config()["estimate"]
    rows = (Ticket.objects.filter(hall=hall, service_type=service_type, status=TicketStatus.DONE,
                                  finished_at__isnull=False)
            .order_by("-finished_at").values_list("called_at", "finished_at")[: cfg["recent_tickets"]])
    samples = [(f - c).total_seconds() for c, f in rows if c and f]
    return rules.mean_or_default(samples, service_types()[service_type]["minutes"] * 60.0, cfg["min_history"])


def type_capacity(hall) -> dict[str, tuple[int, int]]:
    """{service type: (open windows serving it, of which busy)}."""
    out = defaultdict(lambda: [0, 0])
    for types, busy in Window.objects.filter(hall=hall, is_open=True).values_list("service_types", "current_ticket"):
        for t in types or []:
            out[t][0] += 1
            out[t][1] += 1 if busy else 0
    return {t: (v[0], v[1]) for t, v in out.items()}


def _ahead(hall, service_type, priority, issued_at, exclude_pk=None) -> int:
    qs = Ticket.objects.filter(hall=hall, status=TicketStatus.WAITING, service_type=service_type).filter(
        Q(priority__gt=priority) | Q(priority=priority, issued_at__lt=issued_at))
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.count()


def estimate_for(hall, service_type, ahead, capacity=None) -> int | None:
    windows, busy = (capacity or type_capacity(hall)).get(service_type, (0, 0))
    return rules.estimate_wait_seconds(ahead, windows, recent_service_seconds(hall, service_type), busy)


def queue_state(hall) -> list[dict]:
    """Per service type: people waiting, windows open and busy, the recent mean service time and the
    estimated wait of a ticket taken now."""
    capacity = type_capacity(hall)
    waiting = dict(Ticket.objects.filter(hall=hall, status=TicketStatus.WAITING).values_list("service_type")
                   .annotate(n=Count("id")))
    out = []
    for code, spec in service_types().items():
        windows, busy = capacity.get(code, (0, 0))
        mean = recent_service_seconds(hall, code)
        est = rules.estimate_wait_seconds(waiting.get(code, 0), windows, mean, busy)
        out.append({"service_type": code, "label": spec["label"], "prefix": spec["prefix"],
                    "waiting": waiting.get(code, 0), "windows_open": windows, "windows_busy": busy,
                    "mean_service_seconds": round(mean), "estimated_wait_seconds": est,
                    "estimated_wait_minutes": None if est is None else math.ceil(est / 60)})
    return out


# ---------------------------------------------------------------- SMS
def send_sms(phone: str, text: str, purpose: str) -> SmsMessage:
    """The one place the hall sends an SMS. Uses the notifications app's outbound channel layer when it is
    installed (`gridcare.notifications.channels.send_sms(phone, text)`), else the console channel; every
    message is kept in the hall's SMS log either way."""
    channel, status = "console", "sent"
    try:
        from gridcare.notifications import channels  # noqa: PLC0415 - optional, built by another capability

        sender = getattr(channels, "send_sms", None)
    except ImportError:
        sender = None
    if sender is not None:
        try:
            sender(phone, text)
            channel = "notifications"
        except Exception:  # noqa: BLE001 - a failed SMS must not break the hall; it is logged as failed
            status = "failed"
    else:
        import logging

        logging.getLogger("gridcare.hall.sms").info("SMS to %s: %s", phone, text)
    return SmsMessage.objects.create(phone=phone, text=text, purpose=purpose, channel=channel, status=status)


def _sms_after_commit(phone, text, purpose):
    if phone:
        transaction.on_commit(lambda: send_sms(phone, text, purpose))


def ticket_url(ticket, base_url: str = "") -> str:
    return f"{base_url.rstrip('/')}/hall/t/{ticket.token}/"


# ---------------------------------------------------------------- tickets
def _event(ticket, kind, actor, at, window=None, **data):
    return TicketEvent.objects.create(
        ticket=ticket, kind=kind, at=at, window=window, actor=actor if getattr(actor, "pk", None) else None,
        actor_name=(getattr(actor, "name", "") or getattr(actor, "username", "") or "")[:50], data=data)


def _next_seq(hall, day, service_type) -> int:
    """Daily number per type; the counter row stays locked until commit, so issues never share a number."""
    qs = DailyCounter.objects.filter(hall=hall, day=day, service_type=service_type)
    if not qs.update(last=F("last") + 1):
        try:
            with transaction.atomic():
                DailyCounter.objects.create(hall=hall, day=day, service_type=service_type, last=1)
            return 1
        except IntegrityError:
            qs.update(last=F("last") + 1)
    return qs.values_list("last", flat=True).get()


def check_issue(hall, service_type, priority_reason, phone, now, capacity) -> None:
    errors = {}
    if service_type not in service_types():
        errors["service_type"] = f"未知的业务类型：{service_type}"
    if priority_reason and (priority_reason not in priorities() or priority_reason in ("appointment", "transfer")):
        errors["priority_reason"] = "优先原因只能是 elderly（老年人）、disabled（残疾人）、pregnant（孕妇）"
    if phone and not PHONE.match(phone):
        errors["phone"] = "手机号格式不正确（11位）"
    if errors:
        raise DomainError(errors)
    if not rules.is_open(hall.opening_hours, hall.closed_dates, local(now)):
        label = rules.opening_hours_label(hall.opening_hours, local(now).weekday())
        raise DomainError({"hall": f"{hall.name}现在不在营业时间（今日营业时间：{label}），暂停取号"})
    if capacity.get(service_type, (0, 0))[0] == 0:
        raise DomainError({"service_type": f"今日没有开放办理“{service_label(service_type)}”的窗口，请咨询大堂经理或选择其他业务"})


@transaction.atomic
def do_issue_ticket(user, hall_code: str, service_type: str, priority_reason: str = "", phone: str = "",
                    account_no: str = "", appointment_token: str = "", now=None, base_url: str = "") -> Ticket:
    """取号. Priority for the elderly, disabled and pregnant and for appointments checked in within their
    slot; the estimate at issue is stored to be compared with the real wait."""
    hall = get_hall(hall_code)
    require(user, "hall.serve", hall.unit)
    now = now or timezone.now()
    phone = (phone or "").strip()
    appointment = None
    if appointment_token:
        appointment = Appointment.objects.select_for_update().filter(token=appointment_token, hall=hall).first()
        if appointment is None:
            raise DomainError({"appointment": "预约不存在"})
        if appointment.status != AppointmentStatus.BOOKED:
            raise DomainError({"appointment": f"该预约{appointment.get_status_display()}，不能再取号"})
        if now > appointment.slot_end:
            raise DomainError({"appointment": "预约时段已过，请按普通客户取号"})
        if now < appointment.slot_start - timedelta(hours=2):
            raise DomainError({"appointment": "未到预约时段，请在预约时段前2小时内取号"})
        service_type = appointment.service_type
        phone = phone or appointment.phone
    capacity = type_capacity(hall)
    check_issue(hall, service_type, priority_reason, phone, now, capacity)
    customer = None
    if account_no:
        customer = Customer.objects.select_related("unit").filter(account_no=account_no).first()
        if customer is None:
            raise DomainError({"account_no": "户号不存在"})
    elif appointment and appointment.customer_id:
        customer = appointment.customer
    reason = "appointment" if appointment else (priority_reason or "")
    priority = priorities()[reason]["level"] if reason else 0
    day = local(now).date()
    seq = _next_seq(hall, day, service_type)
    ahead = _ahead(hall, service_type, priority, now)
    estimate = estimate_for(hall, service_type, ahead, capacity)
    ticket = Ticket.objects.create(
        hall=hall, day=day, service_type=service_type, number=f"{service_types()[service_type]['prefix']}{seq:03d}",
        priority=priority, priority_reason=reason, customer=customer, phone=phone, issued_at=now,
        estimated_wait_seconds=estimate, ahead_at_issue=ahead)
    _event(ticket, EventKind.ISSUE, user, now, ahead=ahead, estimate=estimate)
    if appointment:
        appointment.status, appointment.ticket = AppointmentStatus.CHECKED_IN, ticket
        appointment.save()
    if phone:
        minutes = "-" if estimate is None else math.ceil(estimate / 60)
        _sms_after_commit(phone, f"【{hall.name}】您的号码 {ticket.number}（{service_label(service_type)}），前面还有{ahead}人，"
                                 f"预计等待{minutes}分钟。查看进度：{ticket_url(ticket, base_url)}", "ticket")
    return ticket


def _claim(candidate_ids, window, user, now) -> int | None:
    """Take the first candidate still waiting: a conditional UPDATE that only one caller can win."""
    for pk in candidate_ids:
        won = Ticket.objects.filter(pk=pk, status=TicketStatus.WAITING).update(
            status=TicketStatus.CALLED, window=window, clerk=user if getattr(user, "pk", None) else None,
            called_at=now, first_called_at=Coalesce(F("first_called_at"), Value(now)), target_window=None)
        if won:
            return pk
    return None


def _served_window(user, hall_code, number, for_update=True):
    hall = get_hall(hall_code)
    require(user, "hall.serve", hall.unit)
    window = _lock_window(hall, number) if for_update else get_object_or_404(Window, hall=hall, number=number)
    return hall, window


@transaction.atomic
def do_call_next(user, hall_code: str, window_no: int, now=None) -> Ticket:
    """叫号: the next ticket this window serves (higher priority first, then order of issue)."""
    hall, window = _served_window(user, hall_code, window_no)
    now = now or timezone.now()
    if not window.is_open:
        raise Conflict({"window": f"{window}未开放"})
    if window.current_ticket_id:
        current = Ticket.objects.filter(pk=window.current_ticket_id).values_list("number", flat=True).first()
        raise Conflict({"window": f"{window}正在办理 {current}，请先办结、转办或过号再叫下一位"})
    if not window.service_types:
        raise Conflict({"window": f"{window}今日未设置办理业务"})
    qs = (Ticket.objects.filter(hall=hall, status=TicketStatus.WAITING, service_type__in=window.service_types)
          .filter(Q(target_window__isnull=True) | Q(target_window=window))
          .order_by("-priority", "issued_at", "id"))
    if connection.features.has_select_for_update_skip_locked:
        # Lock just the first ticket nobody else holds: with SKIP LOCKED, locking more would hide tickets
        # from the other windows calling at the same moment.
        candidates = list(qs.select_for_update(skip_locked=True).values_list("pk", flat=True)[:1])
    else:
        candidates = list(qs.values_list("pk", flat=True)[:5])
    pk = _claim(candidates, window, user, now)
    if pk is None:
        raise Conflict({"window": "当前没有等候的客户"})
    if not Window.objects.filter(pk=window.pk, current_ticket__isnull=True).update(current_ticket_id=pk):
        raise Conflict({"window": f"{window}正在办理其他客户"})
    ticket = Ticket.objects.select_related("customer").get(pk=pk)
    _event(ticket, EventKind.CALL, user, now, window=window, window_no=window.number)
    return ticket


def _current(window) -> Ticket:
    if not window.current_ticket_id:
        raise Conflict({"window": f"{window}当前没有正在办理的客户"})
    return Ticket.objects.select_related("customer").get(pk=window.current_ticket_id)


@transaction.atomic
def do_recall(user, hall_code, window_no, now=None) -> Ticket:
    hall, window = _served_window(user, hall_code, window_no)
    now = now or timezone.now()
    ticket = _current(window)
    Ticket.objects.filter(pk=ticket.pk).update(recall_count=F("recall_count") + 1)
    ticket.recall_count += 1
    _event(ticket, EventKind.RECALL, user, now, window=window, window_no=window.number)
    return ticket


def _free(window):
    Window.objects.filter(pk=window.pk).update(current_ticket=None)


@transaction.atomic
def do_finish(user, hall_code, window_no, now=None, base_url: str = "") -> Ticket:
    hall, window = _served_window(user, hall_code, window_no)
    now = now or timezone.now()
    ticket = _current(window)
    ticket.status, ticket.finished_at = TicketStatus.DONE, now
    ticket.save(update_fields=["status", "finished_at"])
    _free(window)
    _event(ticket, EventKind.FINISH, user, now, window=window, service_seconds=ticket.service_seconds)
    if ticket.phone:
        _sms_after_commit(ticket.phone, f"【{hall.name}】感谢您的光临，请为{window}的服务评价："
                                        f"{ticket_url(ticket, base_url)}", "rating")
    return ticket


@transaction.atomic
def do_no_show(user, hall_code, window_no, now=None) -> Ticket:
    hall, window = _served_window(user, hall_code, window_no)
    now = now or timezone.now()
    ticket = _current(window)
    ticket.status, ticket.finished_at = TicketStatus.NO_SHOW, now
    ticket.save(update_fields=["status", "finished_at"])
    _free(window)
    _event(ticket, EventKind.NO_SHOW, user, now, window=window, recalls=ticket.recall_count)
    return ticket


@transaction.atomic
def do_transfer(user, hall_code, window_no, service_type: str | None = None, to_window: int | None = None,
                now=None) -> Ticket:
    """转办: the customer goes back to the queue of another service type (or to a given window) ahead of
    the walk-ins; this window is free for the next number."""
    hall, window = _served_window(user, hall_code, window_no)
    now = now or timezone.now()
    ticket = _current(window)
    target = None
    if to_window is not None:
        target = Window.objects.filter(hall=hall, number=to_window).first()
        if target is None or not target.is_open:
            raise DomainError({"to_window": f"{to_window}号窗口不存在或未开放"})
        if target.pk == window.pk:
            raise DomainError({"to_window": "不能转给本窗口"})
        service_type = service_type or (ticket.service_type if ticket.service_type in target.service_types
                                        else (target.service_types or [ticket.service_type])[0])
        if service_type not in target.service_types:
            raise DomainError({"service_type": f"{target}不办理“{service_label(service_type)}”"})
    service_type = service_type or ticket.service_type
    if service_type not in service_types():
        raise DomainError({"service_type": f"未知的业务类型：{service_type}"})
    if target is None:
        if service_type == ticket.service_type:
            raise DomainError({"service_type": "请选择转办的业务类型或窗口"})
        open_elsewhere = [w for w in Window.objects.filter(hall=hall, is_open=True).exclude(pk=window.pk)
                          if service_type in (w.service_types or [])]
        if not open_elsewhere and service_type not in window.service_types:
            raise DomainError({"service_type": f"今日没有开放办理“{service_label(service_type)}”的窗口"})
    previous = ticket.service_type
    ticket.status, ticket.service_type, ticket.window, ticket.target_window = (TicketStatus.WAITING, service_type,
                                                                               None, target)
    ticket.priority, ticket.priority_reason = priorities()["transfer"]["level"], "transfer"
    ticket.transfer_count += 1
    ticket.save(update_fields=["status", "service_type", "window", "target_window", "priority", "priority_reason",
                               "transfer_count"])
    _free(window)
    _event(ticket, EventKind.TRANSFER, user, now, window=window, from_type=previous, to_type=service_type,
           to_window=target.number if target else None)
    return ticket


@transaction.atomic
def do_identify(user, hall_code, window_no, q: str, now=None) -> dict:
    """识别客户 at the counter by 户号 or phone: the ticket is linked to the customer and the clerk sees the
    customer, open orders, recent orders, outages and arrears at once."""
    hall, window = _served_window(user, hall_code, window_no)
    now = now or timezone.now()
    q = (q or "").strip()
    if not q:
        raise DomainError({"q": "请输入户号或手机号"})
    require(user, "customer.view")
    base = Customer.objects.select_related("unit", "transformer_area").filter(
        unit__path__startswith=service_area(hall).path)
    matches = list(base.filter(Q(account_no=q) | Q(phone=q) | Q(phone2=q))[:10])
    if not matches:
        raise DomainError({"q": "本营业厅服务范围内未找到该户号或手机号的客户"}, status=404)
    if len(matches) > 1:
        return {"customer": None, "candidates": matches}
    customer = matches[0]
    if window.current_ticket_id:
        ticket = Ticket.objects.get(pk=window.current_ticket_id)
        if ticket.customer_id != customer.pk:
            ticket.customer = customer
            ticket.save(update_fields=["customer"])
            _event(ticket, EventKind.IDENTIFY, user, now, window=window, account_no=customer.account_no)
    return {"customer": customer, "candidates": [], **counter_context(user, customer, now)}


def counter_context(user, customer, now=None) -> dict:
    """What the clerk sees: the agent's customer context (open and recent orders, outages from the
    outages hooks) plus arrears from billing when installed."""
    from gridcare.workorders.services import customer_context

    ctx = customer_context(user, customer, now)
    ctx["arrears"] = hooks.arrears(customer)
    return ctx


def ticket_for_token(token: str) -> Ticket:
    ticket = Ticket.objects.select_related("hall__unit", "window").filter(token=token).first()
    if ticket is None:
        raise DomainError({"token": "排队号不存在"}, status=404)
    return ticket


def ticket_status(ticket: Ticket) -> dict:
    """For the customer's status page: 前面还有 N 人，预计等待 M 分钟."""
    out = {"number": ticket.number, "status": ticket.status, "status_label": ticket.get_status_display(),
           "service_type": ticket.service_type, "service_label": service_label(ticket.service_type),
           "hall": ticket.hall.name, "issued_at": ticket.issued_at, "ahead": None, "estimated_wait_seconds": None,
           "estimated_wait_minutes": None, "window": ticket.window.number if ticket.window_id else None,
           "rating": ticket.rating, "can_rate": ticket.status == TicketStatus.DONE and ticket.rating is None}
    if ticket.status == TicketStatus.WAITING:
        ahead = _ahead(ticket.hall, ticket.service_type, ticket.priority, ticket.issued_at, ticket.pk)
        est = estimate_for(ticket.hall, ticket.service_type, ahead)
        out.update(ahead=ahead, estimated_wait_seconds=est, estimated_wait_minutes=None if est is None else math.ceil(est / 60))
    return out


@transaction.atomic
def do_rate(token: str, score, comment: str = "", channel: str = "sms", now=None) -> Ticket:
    """评价: once per served ticket, from the counter's rating device or the SMS link."""
    ticket = Ticket.objects.select_for_update().filter(token=token).first()
    if ticket is None:
        raise DomainError({"token": "排队号不存在"}, status=404)
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise DomainError({"score": "评价须为1到5分"})
    if channel not in ("device", "sms"):
        raise DomainError({"channel": "评价方式只能是 device（评价器）或 sms（短信链接）"})
    if ticket.status != TicketStatus.DONE:
        raise Conflict({"token": "业务办结后才能评价"})
    if ticket.rating is not None:
        raise Conflict({"token": "您已评价过，感谢您的反馈"})
    now = now or timezone.now()
    ticket.rating, ticket.rating_comment, ticket.rating_channel, ticket.rated_at = score, (comment or "")[:200], channel, now
    ticket.save(update_fields=["rating", "rating_comment", "rating_channel", "rated_at"])
    _event(ticket, EventKind.RATE, None, now, score=score, channel=channel)
    return ticket


def sweep_abandoned(now=None, batch: int = 5000) -> int:
    """Tickets still waiting from an earlier day: the customer left without being served (未办理离开).
    Bounded per run and safe to run twice."""
    now = now or timezone.now()
    today = local(now).date()
    with transaction.atomic():
        ids = list(Ticket.objects.filter(status=TicketStatus.WAITING, day__lt=today).values_list("pk", flat=True)[:batch])
        n = Ticket.objects.filter(pk__in=ids, status=TicketStatus.WAITING).update(status=TicketStatus.ABANDONED)
        TicketEvent.objects.bulk_create([TicketEvent(ticket_id=pk, kind=EventKind.ABANDON, at=now, actor_name="系统")
                                         for pk in ids])
    return n


def display_data(hall) -> dict:
    """The hall screen: each window's current number, the latest calls and the queue per type."""
    windows = list(Window.objects.filter(hall=hall).select_related("current_ticket", "clerk").order_by("number"))
    recent = list(TicketEvent.objects.filter(ticket__hall=hall, kind__in=[EventKind.CALL, EventKind.RECALL],
                                             at__gte=timezone.now() - timedelta(hours=12))
                  .select_related("ticket", "window").order_by("-at", "-id")[:6])
    return {"hall": hall, "windows": windows, "recent_calls": recent, "queue": queue_state(hall)}


# ---------------------------------------------------------------- appointments
def available_slots(hall, day: date, service_type: str, now=None) -> list[dict]:
    now = now or timezone.now()
    tz = timezone.get_current_timezone()
    slots = rules.slots_of_day(hall.opening_hours, day, hall.slot_minutes)
    if day.isoformat() in set(hall.closed_dates or []):
        slots = []
    starts = [datetime.combine(day, s, tzinfo=tz) for s, _e in slots]
    taken = dict(Appointment.objects.filter(hall=hall, service_type=service_type, slot_start__in=starts,
                                            status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN])
                 .values_list("slot_start").annotate(n=Count("id")))
    out = []
    for (s, e), start in zip(slots, starts):
        left = hall.slot_capacity - taken.get(start, 0)
        end = datetime.combine(day if e > s else day + timedelta(days=1), e, tzinfo=tz)   # a slot ending at 24:00
        out.append({"start": start, "end": end, "left": max(0, left), "bookable": left > 0 and start > now})
    return out


@transaction.atomic
def do_book(hall_code: str, service_type: str, slot_start: datetime, name: str, phone: str, account_no: str = "",
            now=None, base_url: str = "") -> Appointment:
    """预约 online (public). Refused for a slot in the past, outside the opening hours or full."""
    now = now or timezone.now()
    hall = get_hall(hall_code)
    Hall.objects.select_for_update().filter(pk=hall.pk).first()  # one booking at a time per hall: no overbooking
    errors = {}
    if service_type not in service_types():
        errors["service_type"] = f"未知的业务类型：{service_type}"
    if not (name or "").strip():
        errors["name"] = "请填写姓名"
    if not PHONE.match(phone or ""):
        errors["phone"] = "手机号格式不正确（11位）"
    customer = None
    if account_no:
        customer = Customer.objects.filter(account_no=account_no).first()
        if customer is None:
            errors["account_no"] = "户号不存在"
    if slot_start is None:
        errors["slot_start"] = "请选择预约时段"
    if errors:
        raise DomainError(errors)
    if timezone.is_naive(slot_start):
        slot_start = timezone.make_aware(slot_start)
    slot_start = local(slot_start)
    if slot_start <= now:
        raise DomainError({"slot_start": "不能预约已经过去的时段"})
    if slot_start.date() > local(now).date() + timedelta(days=config()["appointments"]["book_days_ahead"]):
        raise DomainError({"slot_start": f"只能预约{config()['appointments']['book_days_ahead']}天内的时段"})
    slot = next((s for s in available_slots(hall, slot_start.date(), service_type, now) if s["start"] == slot_start), None)
    if slot is None:
        raise DomainError({"slot_start": "该时间不是营业厅的预约时段（请在营业时间内按时段预约）"})
    if slot["left"] <= 0:
        raise Conflict({"slot_start": "该时段预约已满，请选择其他时段"})
    appt = Appointment.objects.create(hall=hall, service_type=service_type, slot_start=slot["start"], slot_end=slot["end"],
                                      name=name.strip(), phone=phone, customer=customer)
    _sms_after_commit(phone, f"【{hall.name}】您已预约{local(appt.slot_start):%m月%d日 %H:%M}-{local(appt.slot_end):%H:%M}"
                             f"办理{service_label(service_type)}，到厅后凭预约码 {appt.token} 优先取号。"
                             f"取消预约：{base_url.rstrip('/')}/hall/appointments/{appt.token}/", "appointment")
    return appt


@transaction.atomic
def do_cancel_appointment(token: str) -> Appointment:
    appt = Appointment.objects.select_for_update().filter(token=token).first()
    if appt is None:
        raise DomainError({"token": "预约不存在"}, status=404)
    if appt.status != AppointmentStatus.BOOKED:
        raise Conflict({"token": f"该预约{appt.get_status_display()}，不能取消"})
    appt.status = AppointmentStatus.CANCELLED
    appt.save()
    return appt


# ---------------------------------------------------------------- applications → work orders
def _service_account(unit: OrgUnit) -> User:
    """The account that files online (and out-of-scope counter) applications as work orders for a company:
    a clerk-role user of that unit with no password, so the order is attributable to the hall channel."""
    user, created = User.objects.get_or_create(
        username=f"hall-online-{unit.code}".lower()[:150],
        defaults={"name": "网上营业厅", "role": "clerk", "unit": unit, "is_active": True})
    if created:
        user.set_unusable_password()
        user.save()
    return user


def _company_of(unit: OrgUnit) -> OrgUnit:
    """The company a 供电所/营业厅/班组 belongs to (walks up to the first county, city or province unit)."""
    while unit.kind in ("station", "hall", "team", "service_center") and unit.parent_id:
        unit = unit.parent
    return unit


def _connection_days(customer_class: str) -> int | None:
    import yaml
    from django.conf import settings as dj

    path = dj.BASE_DIR / "data" / "time-limits.yaml"
    try:
        table = yaml.safe_load(path.read_text(encoding="utf-8"))["connection"]["low_voltage_direct_metering"]
    except (OSError, KeyError, TypeError):
        return None
    key = "residential" if customer_class == "residential" else "non_residential"
    return (table.get(key) or {}).get("working_days")


@transaction.atomic
def do_start_application(user, data: dict, channel: str, now=None) -> Application:
    """业务申请 at the counter (`channel="hall"`, a clerk) or online (`channel="web"`, public): a
    `service_request` work order through the work-order engine (its clock applies); online, the documents
    to bring are sent by SMS so that the visit happens once."""
    from gridcare.workorders.services import do_create_order

    now = now or timezone.now()
    apps_cfg = config()["applications"]
    kind = data.get("kind") or ""
    errors = {}
    if kind not in apps_cfg:
        errors["kind"] = "业务只能是 new_connection（新装）、capacity_change（增容）、name_change（更名过户）、meter_test（电能表校验）"
    phone = (data.get("phone") or "").strip()
    if not PHONE.match(phone):
        errors["phone"] = "手机号格式不正确（11位）"
    name = (data.get("applicant_name") or "").strip()
    if not name:
        errors["applicant_name"] = "请填写申请人姓名"
    customer = hall = None
    account_no = (data.get("account_no") or "").strip()
    if account_no:
        customer = Customer.objects.select_related("unit").filter(account_no=account_no).first()
        if customer is None:
            errors["account_no"] = "户号不存在"
        elif channel == "web" and phone not in (customer.phone, customer.phone2):
            errors["phone"] = "手机号与户号登记的联系电话不一致"
    elif kind and kind != "new_connection":
        errors["account_no"] = "办理该业务须提供户号"
    if data.get("hall_code"):
        hall = Hall.objects.select_related("unit__parent").filter(unit__code=data["hall_code"]).first()
        if hall is None:
            errors["hall_code"] = "营业厅不存在"
    elif customer is None:
        errors["hall_code"] = "新装申请请选择就近营业厅"
    address = (data.get("address") or "").strip() or (customer.address if customer else "")
    if kind == "new_connection" and not address:
        errors["address"] = "请填写用电地址"
    if channel == "hall" and data.get("ticket_token"):
        if not Ticket.objects.filter(token=data["ticket_token"]).exists():
            errors["ticket_token"] = "排队号不存在"
    if errors:
        raise DomainError(errors)
    spec = apps_cfg[kind]
    if channel == "hall":
        require(user, "hall.serve", hall.unit if hall else None)
    unit = customer.unit if customer else service_area(hall)
    area_kind = customer.area_kind if customer else (data.get("area_kind") or "urban")
    text = f"{spec['label']}申请（{'营业厅' if channel == 'hall' else '网上营业厅'}受理）：申请人{name}，电话{phone}"
    if address:
        text += f"，用电地址{address}"
    if data.get("detail"):
        text += f"。{data['detail'].strip()}"
    actor = user if (channel == "hall" and user is not None and can(user, "workorder.create")
                     and user.unit and unit.path.startswith(user.unit.path)) else _service_account(_company_of(unit))
    order_data = {"order_type": "service_request", "channel": "hall" if channel == "hall" else "web", "text": text,
                  "caller_name": name, "caller_phone": phone, "area_kind": area_kind}
    if customer:
        order_data["account_no"] = customer.account_no
    else:
        order_data["unit_code"] = unit.code
    order, _ = do_create_order(actor, order_data, data.get("idempotency_key") or None, at=now)
    ticket = Ticket.objects.filter(token=data["ticket_token"]).first() if data.get("ticket_token") else None
    application = Application.objects.create(
        kind=kind, channel=channel, hall=hall, customer=customer, applicant_name=name, phone=phone, address=address,
        detail=(data.get("detail") or "").strip(), documents=list(spec["documents"]), work_order=order, ticket=ticket,
        created_by=user if getattr(user, "pk", None) else None)
    if channel == "web":
        where = hall.name if hall else "营业厅"
        days = _connection_days(customer.customer_class if customer else "residential") if kind == "new_connection" else None
        limit = f"资料齐全后{days}个工作日内装表接电。" if days else ""
        _sms_after_commit(phone, f"【国网供电】您的{spec['label']}申请已受理（工单{order.order_no}）。请携带："
                                 f"{'；'.join(spec['documents'])}，到{where}一次办结。{limit}", "documents")
    return application


# ---------------------------------------------------------------- quality, inspections, training
def _period_tickets(hall, since, until, clerk=None):
    qs = Ticket.objects.filter(hall=hall, issued_at__gte=since, issued_at__lt=until)
    if clerk is not None:
        qs = qs.filter(clerk=clerk)
    return qs.values_list("status", "service_type", "issued_at", "first_called_at", "called_at", "finished_at",
                          "clerk_id", "rating", "estimated_wait_seconds")


def quality_stats(rows) -> dict:
    """Tickets served, waits, service time per type, no-show and abandon rates and satisfaction."""
    total = served = no_show = abandoned = 0
    waits, rated, satisfied = [], [], 0
    per_type = defaultdict(list)
    for status, stype, issued, first_called, called, finished, _clerk, rating, _est in rows:
        total += 1
        if first_called:
            waits.append((first_called - issued).total_seconds())
        if status == TicketStatus.DONE:
            served += 1
            if called and finished:
                per_type[stype].append((finished - called).total_seconds())
        elif status == TicketStatus.NO_SHOW:
            no_show += 1
        elif status == TicketStatus.ABANDONED:
            abandoned += 1
        if rating:
            rated.append(rating)
            satisfied += rating >= 4
    return {
        "tickets": total, "served": served,
        "average_wait_seconds": round(sum(waits) / len(waits), 1) if waits else None,
        "longest_wait_seconds": round(max(waits), 1) if waits else None,
        "service_seconds_by_type": {t: round(sum(v) / len(v), 1) for t, v in sorted(per_type.items())},
        "no_show_rate": round(no_show / total, 4) if total else None,
        "abandon_rate": round(abandoned / total, 4) if total else None,
        "ratings": len(rated), "average_rating": round(sum(rated) / len(rated), 2) if rated else None,
        "satisfaction_rate": round(satisfied / len(rated), 4) if rated else None,
    }


def hall_quality(user, hall_code, since, until) -> dict:
    hall = get_hall(hall_code)
    require(user, "hall.manage", hall.unit)
    rows = list(_period_tickets(hall, since, until))
    by_clerk = defaultdict(list)
    for r in rows:
        if r[6]:
            by_clerk[r[6]].append(r)
    names = {u.pk: u for u in User.objects.filter(pk__in=by_clerk)}
    accuracy = rules.estimate_error([(r[8], (r[3] - r[2]).total_seconds()) for r in rows if r[3]])
    return {"hall": hall, "overall": quality_stats(rows), "estimate_accuracy": accuracy,
            "clerks": [{"username": names[pk].username, "name": names[pk].name, **quality_stats(v)}
                       for pk, v in sorted(by_clerk.items(), key=lambda kv: names[kv[0]].username)]}


def check_inspection(results: dict) -> int:
    items = {i["code"]: i for i in checklist()}
    unknown = [k for k in results if k not in items]
    if unknown:
        raise DomainError({"results": f"检查项不存在：{'、'.join(unknown)}"})
    missing = [items[k]["label"] for k in items if k not in results]
    if missing:
        raise DomainError({"results": f"请逐项填写检查结果，缺少：{'、'.join(missing)}"})
    return sum(items[k]["weight"] for k, ok in results.items() if ok)


@transaction.atomic
def do_record_inspection(user, hall_code, clerk_username, results: dict, note="", at=None) -> Inspection:
    hall = get_hall(hall_code)
    require(user, "hall.manage", hall.unit)
    clerk = _clerk_of(hall, clerk_username)
    score = check_inspection({k: bool(v) for k, v in (results or {}).items()})
    return Inspection.objects.create(hall=hall, clerk=clerk, inspector=user, at=at or timezone.now(),
                                     results={k: bool(v) for k, v in results.items()}, score=score, note=note)


@transaction.atomic
def do_record_training(user, clerk_username, kind, title, on, valid_until=None, hours=None, issuer="") -> ClerkRecord:
    clerk = User.objects.filter(username=clerk_username, role="clerk").select_related("unit").first()
    if clerk is None:
        raise DomainError({"clerk": "营业员不存在"})
    require(user, "hall.manage", clerk.unit)
    if kind not in ("training", "certificate"):
        raise DomainError({"kind": "类型只能是 training（培训）或 certificate（证书）"})
    if not (title or "").strip():
        raise DomainError({"title": "请填写名称"})
    if valid_until and valid_until < on:
        raise DomainError({"valid_until": "有效期不能早于取得日期"})
    return ClerkRecord.objects.create(clerk=clerk, kind=kind, title=title.strip(), on=on, valid_until=valid_until,
                                      hours=hours, issuer=issuer or "")


def complaints_naming(clerk, limit=50):
    """95598 complaints that name the clerk: complaints of the clerk's company whose text or reply
    mentions the clerk's name or 工号 (username), or that are assigned to the clerk."""
    from gridcare.workorders.models import WorkOrder

    company = clerk.unit.parent if clerk.unit and clerk.unit.parent_id else clerk.unit
    cond = Q(assignee=clerk) | Q(text__contains=clerk.username) | Q(reply__contains=clerk.username)
    if clerk.name and len(clerk.name) >= 2:
        cond |= Q(text__contains=clerk.name) | Q(reply__contains=clerk.name)
    qs = WorkOrder.objects.filter(order_type="complaint").filter(cond)
    if company is not None:
        qs = qs.filter(unit__path__startswith=company.path)
    return list(qs.order_by("-accepted_at")[:limit])


def clerk_profile(user, username, since, until) -> dict:
    clerk = User.objects.filter(username=username).select_related("unit", "unit__parent").first()
    if clerk is None:
        raise DomainError({"clerk": "营业员不存在"}, status=404)
    if user.pk != clerk.pk:
        require(user, "hall.manage", clerk.unit)
    hall = Hall.objects.filter(unit=clerk.unit).select_related("unit").first()
    stats = quality_stats(list(_period_tickets(hall, since, until, clerk))) if hall else quality_stats([])
    return {"clerk": clerk, "hall": hall, "stats": stats,
            "inspections": list(Inspection.objects.filter(clerk=clerk).select_related("inspector")[:50]),
            "records": list(ClerkRecord.objects.filter(clerk=clerk)[:50]),
            "complaints": complaints_naming(clerk), "checklist": checklist()}


# ---------------------------------------------------------------- traffic and staffing
def arrivals_counts(hall, since, until) -> dict[tuple[date, int], int]:
    """Tickets issued per (local day, clock hour). Counted in Python over one indexed range so that the
    result is the same on SQLite and PostgreSQL."""
    counts = defaultdict(int)
    for at in Ticket.objects.filter(hall=hall, issued_at__gte=since, issued_at__lt=until).values_list(
            "issued_at", flat=True).iterator(chunk_size=5000):
        at = local(at)
        counts[(at.date(), at.hour)] += 1
    return dict(counts)


def service_mix(hall, since, until) -> tuple[float, float]:
    """(mean service minutes over all finished tickets, share of payments among tickets) in the window."""
    rows = Ticket.objects.filter(hall=hall, issued_at__gte=since, issued_at__lt=until)
    total = rows.count()
    payments = rows.filter(service_type="payment").count()
    done = rows.filter(status=TicketStatus.DONE).values_list("called_at", "finished_at").iterator(chunk_size=5000)
    durations = [(f - c).total_seconds() for c, f in done if c and f]
    default = sum(s["minutes"] for s in service_types().values()) / len(service_types())
    mean = (sum(durations) / len(durations) / 60) if durations else default
    return mean, (payments / total if total else 0.0)


def staffing_for_day(user, hall_code, day: date, online_share: float = 0.0, now=None) -> dict:
    """The printable plan: arrivals forecast per hour for `day` (from the last three months of tickets),
    windows needed per hour for the hall's service target, and the what-if of moving payments online."""
    hall = get_hall(hall_code)
    require(user, "hall.manage", hall.unit)
    tz = timezone.get_current_timezone()
    first = date(day.year, day.month, 1)
    since = datetime.combine(rules._add_months(first, -3), datetime.min.time(), tzinfo=tz)
    until = datetime.combine(first, datetime.min.time(), tzinfo=tz)
    counts = arrivals_counts(hall, since, until)
    open_weekdays = {int(k) for k, v in hall.opening_hours.items() if v}
    forecast = rules.forecast_month(counts, day.year, day.month, open_weekdays=open_weekdays)
    by_hour = forecast.get(day, {})
    hours = set(rules.open_hours_of_day(hall.opening_hours, day.weekday()))
    by_hour = {h: v for h, v in by_hour.items() if h in hours}
    mean_minutes, payment_share = service_mix(hall, since, until)
    rows = rules.staffing_plan(by_hour, mean_minutes, hall.target_seconds, hall.service_level)
    try:
        what_if = rules.staffing_plan(by_hour, mean_minutes, hall.target_seconds, hall.service_level,
                                      online_share=online_share, payment_share=payment_share) if online_share else []
    except rules.RuleError as exc:                # online_share outside 0..1 (or NaN): 400 on the field
        raise DomainError({exc.field: str(exc)}) from None
    return {"hall": hall, "day": day, "rows": rows, "what_if": what_if, "online_share": online_share,
            "service_minutes": round(mean_minutes, 2), "payment_share": round(payment_share, 4),
            "target_seconds": hall.target_seconds, "service_level": hall.service_level,
            "total_arrivals": round(sum(by_hour.values()), 1),
            "window_hours": sum(r["windows"] for r in rows),
            "what_if_window_hours": sum(r["windows"] for r in what_if) if what_if else None}


def traffic(user, hall_code, since, until) -> dict:
    hall = get_hall(hall_code)
    require(user, "hall.manage", hall.unit)
    counts = arrivals_counts(hall, since, until)
    profile = rules.arrivals_profile(counts)
    nxt = rules._add_months(date(local(until).year, local(until).month, 1), 0) if local(until).day == 1 else \
        rules._add_months(date(local(until).year, local(until).month, 1), 1)
    open_weekdays = {int(k) for k, v in hall.opening_hours.items() if v}
    forecast = rules.forecast_month(counts, nxt.year, nxt.month, open_weekdays=open_weekdays)
    monthly = defaultdict(int)
    for (d, _h), n in counts.items():
        monthly[f"{d:%Y-%m}"] += n
    return {"hall": hall, "profile": profile, "monthly": dict(sorted(monthly.items())),
            "forecast_month": f"{nxt:%Y-%m}",
            "forecast_by_day": {d.isoformat(): round(sum(h.values()), 1) for d, h in sorted(forecast.items())},
            "forecast_total": round(sum(sum(h.values()) for h in forecast.values()), 1)}
