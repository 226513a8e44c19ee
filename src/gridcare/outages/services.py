"""Outage operations. Each `do_*` runs in one transaction, checks the actor's capability and unit scope,
writes the outage's timeline (OutageUpdate) and audit trail, and queues the customer messages in the same
transaction (notifications.delivery.queue_event: one delivery row per customer, sent after commit)."""
from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext

from gridcare.accounts.models import OrgUnit, User
from gridcare.accounts.permissions import can, in_scope, require, scope_path, scoped
from gridcare.core.api_support import Conflict, DomainError
from gridcare.core import fixed_sql
from gridcare.core.audit import diff, record_bulk, write_log
from gridcare.core.workcalendar import TZ
from gridcare.customers.models import Customer
from gridcare.grid.models import Feeder, TransformerArea
from gridcare.notifications.delivery import queue_event
from gridcare.notifications.models import Delivery, MessageTemplate, OutboundEvent
from gridcare.notifications.services import notify

from . import config, labels, rules
from .choices import Kind, ScopeKind, State, UpdateKind
from .models import (FeederFaultAlert, FeederFaultCall, Outage, OutageArea, OutageCall, OutageCustomer,
                     OutageSubscriber, OutageUpdate, WatchEntry)

HOTLINE = "95598"

# Default message templates (an administrator may override each in notifications.MessageTemplate).
DEFAULT_TEMPLATES = {
    "outage_planned": ("计划停电通知", "【供电公司】尊敬的客户：因{reason}，计划于{start}至{end}对{scope}停电，"
                                      "请提前做好准备。停电编号{outage_no}，咨询请拨打{hotline}。"),
    "outage_temporary": ("临时检修停电通知", "【供电公司】尊敬的客户：因{reason}需临时检修，{start}至{end}{scope}停电，"
                                          "给您带来不便，敬请谅解。咨询请拨打{hotline}。"),
    "outage_fault": ("故障停电通知", "【供电公司】尊敬的客户：{scope}因{reason}于{start}停电，抢修人员正在处理，"
                                    "预计{expected}恢复供电。咨询请拨打{hotline}。"),
    "outage_changed": ("停电变更通知", "【供电公司】停电信息变更：{scope}停电时间调整为{start}至{end}，原因：{reason}。{note}"),
    "outage_cancelled": ("停电取消通知", "【供电公司】原定{start}{scope}的停电已取消。{note}"),
    "outage_progress": ("停电抢修进展", "【供电公司】{scope}停电抢修进展：{note}。预计恢复时间：{expected}。"),
    "outage_restored": ("恢复送电通知", "【供电公司】{scope}已于{restored}恢复供电，感谢您的理解与支持。"),
}


# ---------------------------------------------------------------- helpers
def _local(value: datetime | None) -> str:
    return timezone.localtime(value, TZ).strftime("%Y-%m-%d %H:%M") if value else "待定"


def _actor_name(user) -> str:
    return (getattr(user, "name", "") or getattr(user, "username", "") or "系统")[:50]


def _update(outage, kind, user, at, note="", notified=0, **data):
    return OutageUpdate.objects.create(outage=outage, kind=kind, at=at, note=note, data=data, notified=notified,
                                       actor=user if getattr(user, "pk", None) else None, actor_name=_actor_name(user))


def new_outage_no(at: datetime) -> str:
    return f"TD{timezone.localtime(at, TZ):%y%m%d}{secrets.randbelow(10**6):06d}"


def template_body(code: str) -> str:
    row = MessageTemplate.objects.filter(code=code).only("body").first()
    return row.body if row else DEFAULT_TEMPLATES[code][1]


def templates() -> list[dict]:
    rows = {t.code: t for t in MessageTemplate.objects.all()}
    return [{"code": code, "name": rows[code].name if code in rows else name,
             "body": rows[code].body if code in rows else body, "customised": code in rows}
            for code, (name, body) in DEFAULT_TEMPLATES.items()]


@transaction.atomic
def do_save_template(user, code: str, body: str, name: str | None = None) -> MessageTemplate:
    require(user, "outage.manage")
    if code not in DEFAULT_TEMPLATES:
        raise DomainError({"code": f"未知的模板编码：{code}（可选：{'、'.join(DEFAULT_TEMPLATES)}）"}, status=404)
    problem = rules.check_template(body or "")
    if problem:
        raise DomainError({"body": problem})
    row, _ = MessageTemplate.objects.get_or_create(code=code, defaults={"name": name or DEFAULT_TEMPLATES[code][0],
                                                                       "body": body})
    row.body, row.name, row.updated_by = body, name or row.name, getattr(user, "username", "")
    row.save()
    return row


def scope_text(outage) -> str:
    if outage.scope_kind == ScopeKind.FEEDER and outage.feeder_id:
        return f"{outage.feeder.name}供电范围"
    if outage.scope_kind == ScopeKind.TAIQU:
        names = list(outage.areas.select_related("transformer_area").values_list("transformer_area__name", flat=True)[:4])
        total = outage.areas.count()
        return "、".join(names) + (f"等{total}个台区" if total > len(names) else "")
    return f"{outage.customers_affected}户客户"


def message_values(outage, note="", scope=None) -> dict:
    return {"outage_no": outage.outage_no, "kind": Kind(outage.kind).label, "scope": scope or scope_text(outage),
            "start": _local(outage.start_at), "end": _local(outage.end_at), "reason": outage.reason or "设备检修",
            "unit": outage.unit.name, "note": note, "expected": _local(outage.expected_restoration_at or outage.end_at),
            "restored": _local(outage.restored_at or timezone.now()), "hotline": HOTLINE}


def _render(code, values) -> str:
    try:
        return rules.render(template_body(code), values)
    except ValueError as exc:  # a template changed behind the application's back
        raise DomainError({"template": f"消息模板 {code} 无法使用：{exc}"}) from exc


# ---------------------------------------------------------------- affected customers
def affected_customers(outage, still_out: bool = False):
    """Customers of the outage's 台区 plus its explicitly scoped customers (a queryset)."""
    areas = OutageArea.objects.filter(outage=outage)
    parts = OutageCustomer.objects.filter(outage=outage)
    if still_out:
        areas, parts = areas.filter(restored_at__isnull=True), parts.filter(restored_at__isnull=True)
    q = Q(transformer_area_id__in=areas.values("transformer_area_id"))
    if outage.scope_kind == ScopeKind.CUSTOMERS:
        q = Q(id__in=parts.values("customer_id"))
    return Customer.objects.filter(q)


def affected_list(outage, still_out=False, limit=None):
    """Critical customers first (restoration priority), then by 户号."""
    qs = affected_customers(outage, still_out).select_related("transformer_area").order_by("-critical", "account_no")
    return list(qs[:limit] if limit else qs)


def affected_ids(outage) -> list[int]:
    return list(affected_customers(outage).order_by("-critical", "account_no").values_list("id", flat=True))


def _refresh_counts(outage):
    qs = affected_customers(outage)
    agg = qs.aggregate(n=Count("id"), c=Count("id", filter=Q(critical=True)))
    outage.customers_affected, outage.critical_affected = agg["n"], agg["c"]


# ---------------------------------------------------------------- planning and creation
def _parse_scope(data: dict, errors: dict):
    scope_kind = data.get("scope_kind") or ""
    feeder, taiqus, customers = None, [], []
    if scope_kind not in ScopeKind.values:
        errors["scope_kind"] = "停电范围类型必须为 feeder（整条线路）/ taiqu（指定台区）/ customers（指定客户）"
    elif scope_kind == ScopeKind.FEEDER:
        code = (data.get("feeder_code") or "").strip()
        feeder = Feeder.objects.select_related("unit").filter(code=code).first() if code else None
        if not code:
            errors["feeder_code"] = "整条线路停电必须填写线路编码"
        elif feeder is None:
            errors["feeder_code"] = f"线路不存在：{code}"
        else:
            taiqus = list(TransformerArea.objects.filter(feeder=feeder).select_related("unit"))
    elif scope_kind == ScopeKind.TAIQU:
        codes = [c.strip() for c in (data.get("taiqu_codes") or []) if c and c.strip()]
        found = {t.code: t for t in TransformerArea.objects.filter(code__in=codes).select_related("unit", "feeder")}
        missing = [c for c in codes if c not in found]
        if not codes:
            errors["taiqu_codes"] = "指定台区停电必须至少填写一个台区编码"
        elif missing:
            errors["taiqu_codes"] = f"台区不存在：{'、'.join(missing)}"
        else:
            taiqus = [found[c] for c in dict.fromkeys(codes)]
            feeders = {t.feeder_id for t in taiqus}
            feeder = taiqus[0].feeder if len(feeders) == 1 else None
    else:
        nos = [c.strip() for c in (data.get("account_nos") or []) if c and c.strip()]
        found = {c.account_no: c for c in Customer.objects.filter(account_no__in=nos).select_related("unit")}
        missing = [c for c in nos if c not in found]
        if not nos:
            errors["account_nos"] = "指定客户停电必须至少填写一个户号"
        elif missing:
            errors["account_nos"] = f"户号不存在：{'、'.join(missing)}"
        else:
            customers = [found[c] for c in dict.fromkeys(nos)]
    return scope_kind, feeder, taiqus, customers


def _common_unit(units):
    units = [u for u in units if u is not None]
    if not units:
        return None
    paths = [u.path for u in units]
    best = units[0]
    for u in sorted(units, key=lambda u: len(u.path)):
        if all(p.startswith(u.path) for p in paths):
            return u
    node = best
    while node is not None and not all(p.startswith(node.path) for p in paths):
        node = node.parent
    return node


def check_outage(user, data: dict, now=None) -> dict:
    """Validate a plan; returns the resolved plan (scope, unit, notice check) or raises DomainError.
    Nothing is written."""
    now = now or timezone.now()
    errors = {}
    kind = data.get("kind") or ""
    if kind not in Kind.values:
        errors["kind"] = "停电类型必须为 planned（计划停电）/ temporary（临时检修）/ fault（故障停电）"
    scope_kind, feeder, taiqus, customers = _parse_scope(data, errors)
    start_at, end_at = data.get("start_at"), data.get("end_at")
    errors.update(rules.check_times(start_at, end_at))
    if kind == Kind.PLANNED and end_at is None and "start_at" in data and start_at is not None:
        errors["end_at"] = "计划停电必须填写计划送电时间"
    unit = None
    if data.get("unit_code"):
        unit = OrgUnit.objects.filter(code=data["unit_code"]).first()
        if unit is None:
            errors["unit_code"] = f"单位不存在：{data['unit_code']}"
    if not (data.get("reason") or "").strip() and kind in (Kind.PLANNED, Kind.TEMPORARY):
        errors["reason"] = "计划停电和临时检修必须说明停电原因"
    if errors:
        raise DomainError(errors)
    if unit is None:
        unit = feeder.unit if (feeder and scope_kind == ScopeKind.FEEDER) else _common_unit(
            [t.unit for t in taiqus] + [c.unit for c in customers])
    require(user, "outage.manage")
    outside = [t.code for t in taiqus if not in_scope(user, t.unit)] + [c.account_no for c in customers
                                                                        if not in_scope(user, c.unit)]
    if not in_scope(user, unit) or outside:
        raise DomainError({"scope": "停电范围不在您的管辖范围内" + (f"：{'、'.join(outside[:5])}" if outside else "")},
                          status=403)
    if taiqus:  # a feeder or 台区 scope hits every customer of its 台区 (as affected_customers counts them)
        agg = Customer.objects.filter(transformer_area__in=taiqus).aggregate(
            n=Count("id"), c=Count("id", filter=Q(critical=True)))
        customer_count, has_critical = agg["n"], bool(agg["c"])
    else:
        customer_count, has_critical = len(customers), any(c.critical for c in customers)
    notice = rules.check_notice(kind, start_at, now, config.notice_limits(), has_critical)
    return {"kind": kind, "scope_kind": scope_kind, "feeder": feeder, "taiqus": taiqus, "customers": customers,
            "unit": unit, "notice": notice, "has_critical": has_critical, "customer_count": customer_count}


@transaction.atomic
def do_create_outage(user, data: dict, now=None, notify_customers: bool = True) -> Outage:
    """Record an outage and announce it. A planned/temporary outage whose notice would be late is refused
    unless `late_reason` says why it goes ahead anyway; it is then flagged `notice_late`."""
    now = now or timezone.now()
    plan = check_outage(user, data, now)
    notice = plan["notice"]
    late_reason = (data.get("late_reason") or "").strip()
    if notice.late and not late_reason:
        raise DomainError({"start_at": notice.message + "。如确需按此时间停电，请填写逾时原因（late_reason），"
                                                         "系统将标记为通知逾时"})
    kind = plan["kind"]
    title = (data.get("title") or "").strip() or _default_title(plan)
    outage = Outage(kind=kind, scope_kind=plan["scope_kind"], feeder=plan["feeder"], unit=plan["unit"],
                    title=title[:200], reason=(data.get("reason") or "").strip()[:300], start_at=data["start_at"],
                    end_at=data.get("end_at"), expected_restoration_at=data.get("expected_restoration_at") or data.get("end_at"),
                    notice_sent_at=now if notify_customers else None, notice_late=notice.late,
                    notice_late_reason=late_reason[:300] if notice.late else "",
                    created_by=user if getattr(user, "pk", None) else None)
    for _ in range(5):
        outage.outage_no = new_outage_no(now)
        try:
            with transaction.atomic():
                outage.save()
            break
        except IntegrityError:
            outage.pk, outage._state.adding = None, True
    areas = [OutageArea(outage=outage, transformer_area=t) for t in plan["taiqus"]]
    OutageArea.objects.bulk_create(areas)
    record_bulk(areas, "create")
    parts = [OutageCustomer(outage=outage, customer=c) for c in plan["customers"]]
    OutageCustomer.objects.bulk_create(parts)
    record_bulk(parts, "create")
    _refresh_counts(outage)
    outage.save()
    note = notice.message + (f"；逾时原因：{late_reason}" if notice.late else "")
    upd = _update(outage, UpdateKind.CREATED, user, now, note=note, notice=notice.as_dict())
    if notify_customers:
        code = {"planned": "outage_planned", "temporary": "outage_temporary", "fault": "outage_fault"}[kind]
        _announce(outage, upd, code, affected_customers(outage))
    return outage


def _default_title(plan) -> str:
    label = Kind(plan["kind"]).label
    if plan["scope_kind"] == ScopeKind.FEEDER:
        return f"{plan['feeder'].name}{label}"
    if plan["scope_kind"] == ScopeKind.TAIQU:
        names = [t.name for t in plan["taiqus"][:2]]
        return "、".join(names) + (f"等{len(plan['taiqus'])}个台区" if len(plan["taiqus"]) > 2 else "") + label
    return f"{len(plan['customers'])}户客户{label}"


def _announce(outage, upd, code, customers, note="", scope=None) -> dict:
    body = _render(code, message_values(outage, note, scope))
    result = queue_event(f"outage-update:{upd.pk}", code, body, customers, subject=DEFAULT_TEMPLATES[code][0],
                         source_type="outage", source_id=outage.outage_no)
    upd.notified = result["queued"]
    upd.data = {**upd.data, "event_key": result["event"].key, "unreachable": result["unreachable"]}
    upd.save(update_fields=["notified", "data"])
    return result


# ---------------------------------------------------------------- reading
def get_outage(user, outage_no, for_update=False) -> Outage:
    require(user, "outage.view")
    qs = Outage.objects.select_related("unit", "feeder", "created_by")
    if for_update:
        from django.db import connection

        qs = qs.select_for_update(of=("self",)) if connection.features.has_select_for_update_of else qs.select_for_update()
    outage = get_object_or_404(qs, outage_no=outage_no)
    if not in_scope(user, outage.unit) and not _touches_scope(user, outage):
        raise PermissionDenied("该停电事件不属于您所在单位的管辖范围")
    return outage


def _touches_scope(user, outage) -> bool:
    """A station's crew sees the county's outage when one of its 台区 (or customers) is in it."""
    prefix = scope_path(user)
    if prefix is None:
        return False
    return (outage.areas.filter(transformer_area__unit__path__startswith=prefix).exists()
            or outage.scoped_customers.filter(customer__unit__path__startswith=prefix).exists())


def visible(user):
    """Outages of the user's units, and outages reaching into them (a county outage on a station's 台区)."""
    require(user, "outage.view")
    prefix = scope_path(user)
    qs = Outage.objects.select_related("unit", "feeder")
    if prefix is None:
        return qs.none()
    if prefix == "/":
        return qs
    return qs.filter(Q(unit__path__startswith=prefix)
                     | Q(pk__in=OutageArea.objects.filter(transformer_area__unit__path__startswith=prefix).values("outage_id"))
                     | Q(pk__in=OutageCustomer.objects.filter(customer__unit__path__startswith=prefix).values("outage_id")))


def board(user, now=None) -> dict:
    """Active and upcoming outages (with a feeder → 台区 tree of what is out) for the board."""
    now = now or timezone.now()
    qs = visible(user).filter(state=State.OPEN).order_by("start_at")
    active = [o for o in qs if o.start_at <= now]
    upcoming = [o for o in qs if o.start_at > now]
    tree: dict = {}
    rows = (OutageArea.objects.filter(outage__in=active, restored_at__isnull=True)
            .values("outage__outage_no", "transformer_area__code", "transformer_area__name",
                    "transformer_area__feeder__code", "transformer_area__feeder__name")
            .annotate(customers=Count("transformer_area__customers")))
    for r in rows:
        f = tree.setdefault(r["transformer_area__feeder__code"], {"feeder_code": r["transformer_area__feeder__code"],
                                                                 "feeder_name": r["transformer_area__feeder__name"],
                                                                 "taiqu": []})
        f["taiqu"].append({"code": r["transformer_area__code"], "name": r["transformer_area__name"],
                           "outage_no": r["outage__outage_no"], "customers": r["customers"]})
    alerts = list(scoped(FeederFaultAlert.objects.filter(open=True).select_related("feeder"), user, "feeder__unit")[:20])
    return {"active": active, "upcoming": upcoming, "tree": sorted(tree.values(), key=lambda f: f["feeder_code"]),
            "alerts": alerts, "now": now}


def messages_of(outage, limit=200):
    keys = [f"outage-update:{pk}" for pk in outage.updates.values_list("pk", flat=True)]
    return (Delivery.objects.filter(event__key__in=keys).select_related("event", "customer")
            .order_by("-created_at", "id")[:limit])


def message_summary(outage) -> list[dict]:
    keys = {f"outage-update:{u.pk}": u for u in outage.updates.all()}
    events = {e.pk: e for e in OutboundEvent.objects.filter(key__in=list(keys))}
    counts: dict = {}
    for r in Delivery.objects.filter(event_id__in=list(events)).values("event_id", "status").annotate(n=Count("id")):
        counts.setdefault(r["event_id"], {})[r["status"]] = r["n"]
    out = []
    for pk, e in sorted(events.items()):
        upd = keys[e.key]
        c = counts.get(pk, {})
        out.append({"event_key": e.key, "kind": e.kind, "update_kind": upd.kind, "at": upd.at, "body": e.body,
                    "total": sum(c.values()), "sent": c.get("sent", 0), "pending": c.get("pending", 0) + c.get("sending", 0),
                    "failed": c.get("failed", 0), "unreachable": c.get("unreachable", 0)})
    return out


def unreachable_customers(outage, limit=500):
    keys = [f"outage-update:{pk}" for pk in outage.updates.values_list("pk", flat=True)]
    return list(Customer.objects.filter(pk__in=Delivery.objects.filter(event__key__in=keys, status="unreachable")
                                        .values("customer_id")).order_by("-critical", "account_no")[:limit])


# ---------------------------------------------------------------- changes, cancellation, progress
@transaction.atomic
def do_change(user, outage_no, data: dict, now=None) -> Outage:
    now = now or timezone.now()
    outage = get_outage(user, outage_no, for_update=True)
    require(user, "outage.manage", outage.unit)
    if outage.state != State.OPEN:
        raise Conflict({"state": f"停电事件{State(outage.state).label}，不能变更"})
    start = data.get("start_at") or outage.start_at
    end = data.get("end_at") if data.get("end_at") is not None else outage.end_at
    errors = rules.check_times(start, end)
    if errors:
        raise DomainError(errors)
    changed = {}
    for field, value in (("start_at", start), ("end_at", end), ("reason", data.get("reason")),
                         ("title", data.get("title"))):
        if value not in (None, "") and getattr(outage, field) != value:
            changed[field] = [str(getattr(outage, field)), str(value)]
            setattr(outage, field, value)
    if not changed:
        raise DomainError({"__all__": "没有需要变更的内容"})
    if "start_at" in changed and outage.start_at > now and outage.kind != Kind.FAULT:
        # a start brought forward is a new notice: it must respect the advance limit too
        has_critical = affected_customers(outage).filter(critical=True).exists()
        notice = rules.check_notice(outage.kind, outage.start_at, now, config.notice_limits(), has_critical)
        if notice.late and not (data.get("late_reason") or "").strip():
            raise DomainError({"start_at": notice.message + "。如确需变更，请填写逾时原因（late_reason）"})
        if notice.late:
            outage.notice_late, outage.notice_late_reason = True, data["late_reason"].strip()[:300]
    if "end_at" in changed and outage.expected_restoration_at and outage.expected_restoration_at != outage.end_at:
        outage.expected_restoration_at = outage.end_at
    outage.save()
    note = (data.get("note") or "").strip()
    upd = _update(outage, UpdateKind.CHANGED, user, now, note=note or "停电信息变更", changes=changed)
    _announce(outage, upd, "outage_changed", affected_customers(outage, still_out=True), note=note)
    return outage


@transaction.atomic
def do_cancel(user, outage_no, reason: str = "", now=None) -> Outage:
    now = now or timezone.now()
    outage = get_outage(user, outage_no, for_update=True)
    require(user, "outage.manage", outage.unit)
    if outage.state != State.OPEN:
        raise Conflict({"state": f"停电事件{State(outage.state).label}，不能取消"})
    if outage.start_at <= now:
        raise Conflict({"state": "停电已开始，不能取消；请登记恢复送电"})
    outage.state = State.CANCELLED
    outage.save()
    upd = _update(outage, UpdateKind.CANCELLED, user, now, note=reason or "停电取消")
    _announce(outage, upd, "outage_cancelled", affected_customers(outage), note=reason)
    return outage


def progress_recipients(outage):
    """Who gets progress updates: customers who asked (called about it, or subscribed through an agent)
    and the critical customers still out (restoration priority)."""
    still = affected_customers(outage, still_out=True)
    return still.filter(Q(critical=True) | Q(id__in=OutageSubscriber.objects.filter(outage=outage).values("customer_id")))


@transaction.atomic
def do_progress(user, outage_no, kind: str, note: str = "", expected_at=None, cause: str = "",
                taiqu_codes=None, account_nos=None, at=None) -> OutageUpdate:
    """A field crew's update: arrived, cause found, expected restoration, partial restoration (some 台区
    or customers back), restored (all back), or a note."""
    now = timezone.now()
    at = at or now
    outage = get_outage(user, outage_no, for_update=True)
    if not (can(user, "outage.update") or can(user, "outage.manage")):
        raise PermissionDenied("您的角色无权登记停电进展（outage.update）")
    if kind not in ("arrived", "cause_found", "expected", "partial", "restored", "note"):
        raise DomainError({"kind": "进展类型必须为 arrived / cause_found / expected / partial / restored / note"})
    if outage.state != State.OPEN:
        raise Conflict({"kind": f"停电事件{State(outage.state).label}，不能再登记进展"})
    if at > now + timedelta(minutes=1):
        raise DomainError({"at": "进展时间不能晚于当前时间"})
    if at < outage.start_at and kind in ("partial", "restored"):
        raise DomainError({"at": "恢复送电时间不能早于停电开始时间"})
    if kind == "expected" and expected_at is None:
        raise DomainError({"expected_at": "请填写预计恢复时间"})
    if expected_at is not None and expected_at <= outage.start_at:
        raise DomainError({"expected_at": "预计恢复时间必须晚于停电开始时间"})
    if kind == "cause_found" and not (cause or note).strip():
        raise DomainError({"cause": "请填写故障原因"})
    if expected_at is not None:
        outage.expected_restoration_at = expected_at
    if cause:
        outage.cause = cause.strip()[:300]
    outage.progress = kind
    data = {}
    if kind == "partial":
        codes = [c for c in (taiqu_codes or []) if c]
        nos = [c for c in (account_nos or []) if c]
        if not codes and not nos:
            raise DomainError({"taiqu_codes": "部分恢复送电请填写已恢复的台区编码（或户号）"})
        areas = {a.transformer_area.code: a for a in outage.areas.select_related("transformer_area")}
        parts = {p.customer.account_no: p for p in outage.scoped_customers.select_related("customer")}
        bad = [c for c in codes if c not in areas]
        if bad:
            raise DomainError({"taiqu_codes": f"不在本次停电范围内的台区：{'、'.join(bad)}"})
        bad = [c for c in nos if c not in parts]
        if bad:
            raise DomainError({"account_nos": f"不在本次停电范围内的户号：{'、'.join(bad)}"})
        back_areas = [areas[c] for c in codes if areas[c].restored_at is None]
        back_parts = [parts[c] for c in nos if parts[c].restored_at is None]
        if not back_areas and not back_parts:
            raise Conflict({"taiqu_codes": "所列台区/客户已恢复送电"})
        restored_q = Customer.objects.filter(Q(transformer_area_id__in=[a.transformer_area_id for a in back_areas])
                                             | Q(id__in=[p.customer_id for p in back_parts]))
        if outage.scope_kind == ScopeKind.CUSTOMERS:
            restored_q = Customer.objects.filter(id__in=[p.customer_id for p in back_parts])
        restored_ids = list(restored_q.values_list("id", flat=True))
        for part in back_areas + back_parts:
            part.restored_at = at
            part.save()
        data = {"taiqu_codes": [a.transformer_area.code for a in back_areas],
                "account_nos": [p.customer.account_no for p in back_parts]}
        if not affected_customers(outage, still_out=True).exists() and not outage.areas.filter(restored_at__isnull=True).exists() \
                and not outage.scoped_customers.filter(restored_at__isnull=True).exists():
            kind = "restored"
    if kind == "restored":
        restored_ids = list(affected_customers(outage, still_out=True).values_list("id", flat=True))
        outage.areas.filter(restored_at__isnull=True).update(restored_at=at)
        outage.scoped_customers.filter(restored_at__isnull=True).update(restored_at=at)
        outage.state, outage.restored_at, outage.progress = State.RESTORED, at, "restored"
    outage.save()
    label = UpdateKind(kind).label
    upd = _update(outage, kind, user, at, note=(note or cause or label).strip(),
                  expected_at=expected_at.isoformat() if expected_at else None, cause=cause or None, **data)
    if kind in ("partial", "restored"):
        scope = None
        if kind == "partial" and data.get("taiqu_codes"):
            scope = "、".join(data["taiqu_codes"][:4]) + ("等台区" if len(data["taiqu_codes"]) > 4 else "台区")
        if outage.start_at <= at:
            _announce(outage, upd, "outage_restored", Customer.objects.filter(id__in=restored_ids), scope=scope)
    else:
        _announce(outage, upd, "outage_progress", progress_recipients(outage), note=upd.note)
    return upd


@transaction.atomic
def do_subscribe(user, outage_no, account_no) -> bool:
    outage = get_outage(user, outage_no)
    customer = Customer.objects.filter(account_no=account_no).first()
    if customer is None:
        raise DomainError({"account_no": "户号不存在"})
    if not affected_customers(outage).filter(pk=customer.pk).exists():
        raise DomainError({"account_no": "该客户不在本次停电范围内"})
    _, created = OutageSubscriber.objects.get_or_create(outage=outage, customer=customer,
                                                        defaults={"source": "request"})
    return created


# ---------------------------------------------------------------- calls meet outages
def outages_for(customer=None, taiqu_id=None, at=None, include_upcoming_days=0):
    """Outages covering the customer (or 台区) at `at`: under way, or restored within the grace time;
    with include_upcoming_days, also the ones announced to start within that many days."""
    at = at or timezone.now()
    grace = timedelta(minutes=config.rules()["call_link"]["after_restoration_minutes"])
    taiqu_id = taiqu_id or (customer.transformer_area_id if customer else None)
    scope_q = Q(pk__in=OutageArea.objects.filter(transformer_area_id=taiqu_id).filter(
        Q(restored_at__isnull=True) | Q(restored_at__gte=at - grace)).values("outage_id")) if taiqu_id else Q(pk__in=[])
    if customer is not None:
        scope_q |= Q(pk__in=OutageCustomer.objects.filter(customer=customer).filter(
            Q(restored_at__isnull=True) | Q(restored_at__gte=at - grace)).values("outage_id"))
    horizon = at + timedelta(days=include_upcoming_days)
    time_q = (Q(state=State.OPEN, start_at__lte=horizon)
              | Q(state=State.RESTORED, start_at__lte=at, restored_at__gte=at - grace))
    return Outage.objects.filter(scope_q, time_q).select_related("unit", "feeder").order_by("-start_at")


# Every fault call runs the two look-ups below, so they are fixed statements rather than querysets: the
# ORM would spend more time composing these subqueries than the database spends answering them. Only
# statements that find rows by key are prepared (core.fixed_sql.cursor): a prepared statement may switch to
# a generic plan that does not know a time range's bounds (the feeder-window query ran much slower under
# one, bench/README.md "Tried and not adopted").
def _db_time(value):
    return connection.ops.adapt_datetimefield_value(value)


def _from_db_time(value):
    if isinstance(value, str):  # SQLite through a plain cursor
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, dt_timezone.utc)
    return value


def covering_outage_id(customer_id, taiqu_id, at) -> int | None:
    """The outage a call at `at` from this customer or 台区 falls in: under way, or restored within the
    grace time (the rule of `outages_for(...)` for calls, newest first).

    Two steps, so that the common case costs one prepared statement: first the outages that reach this
    台区 or customer, found by key (indexes outage_area_tq and outage_customer_c, whatever plan PostgreSQL
    keeps for the prepared statement); most calls come from where nothing is out and stop there. Only when
    there are some is the time rule checked on those outages, found by primary key."""
    (rows,) = fixed_sql.fetch_together([_reach_statement(customer_id, taiqu_id, at)])
    return _covering_of([row[0] for row in rows], at)


def _grace():
    return timedelta(minutes=config.rules()["call_link"]["after_restoration_minutes"])


def _reach_statement(customer_id, taiqu_id, at):
    """The first step of covering_outage_id: the outages that reach this 台区 or customer and were not
    restored before the grace time."""
    a, c = OutageArea._meta.db_table, OutageCustomer._meta.db_table
    since = _db_time(at - _grace())
    return (f"SELECT a.outage_id FROM {a} a WHERE a.transformer_area_id = %s "
            f"AND (a.restored_at IS NULL OR a.restored_at >= %s) "
            f"UNION SELECT c.outage_id FROM {c} c WHERE c.customer_id = %s "
            f"AND (c.restored_at IS NULL OR c.restored_at >= %s)", [taiqu_id, since, customer_id, since])


def _covering_of(ids, at) -> int | None:
    """The second step of covering_outage_id: the time rule, on the outages the first step found."""
    if not ids:
        return None
    grace = _grace()
    return (Outage.objects.filter(Q(state=State.OPEN) | Q(state=State.RESTORED, restored_at__gte=at - grace),
                                  pk__in=ids, start_at__lte=at)
            .order_by("-start_at").values_list("pk", flat=True).first())


def _feeder_window_calls(taiqu_id, fault_kinds, since, until) -> list[tuple]:
    """(order id, accepted_at, 台区) of the fault calls in the window on the feeder of `taiqu_id`: those
    located at one of its 台区 through (transformer_area, accepted_at), and those taken without a 台区,
    counted at their customer's, through the partial index wo_fault_no_taiqu."""
    from gridcare.workorders.models import WorkOrder

    wo, ta, cu = WorkOrder._meta.db_table, TransformerArea._meta.db_table, Customer._meta.db_table
    kinds = ", ".join(["%s"] * len(fault_kinds))
    feeder_taiqu = f"(SELECT t.id FROM {ta} t WHERE t.feeder_id = (SELECT t2.feeder_id FROM {ta} t2 WHERE t2.id = %s))"
    sql = (f"SELECT w.id, w.accepted_at, w.transformer_area_id FROM {wo} w WHERE w.order_type = %s "
           f"AND w.fault_kind IN ({kinds}) AND w.accepted_at >= %s AND w.accepted_at <= %s "
           f"AND w.transformer_area_id IN {feeder_taiqu} "
           f"UNION ALL SELECT w.id, w.accepted_at, c.transformer_area_id FROM {wo} w "
           f"JOIN {cu} c ON c.id = w.customer_id WHERE w.order_type = %s AND w.transformer_area_id IS NULL "
           f"AND w.fault_kind IN ({kinds}) AND w.accepted_at >= %s AND w.accepted_at <= %s "
           f"AND c.transformer_area_id IN {feeder_taiqu}")
    part = ["fault_repair", *fault_kinds, _db_time(since), _db_time(until), taiqu_id]
    with connection.cursor() as cur:  # not prepared: see the note above
        cur.execute(sql, part + part)
        return [(pk, _from_db_time(t), tq) for pk, t, tq in cur.fetchall()]


def link_call(order) -> OutageCall | None:
    """A new fault-repair order from inside an active outage is linked to it (the crew already there
    handles it), the caller subscribed to progress, and the outage's call count raised. Otherwise the
    feeder-fault grouping rule is checked."""
    cfg = config.rules()["call_link"]
    if order.order_type != "fault_repair" or (cfg.get("fault_kinds") and order.fault_kind not in cfg["fault_kinds"]):
        return None
    customer = order.customer
    taiqu_id = order.transformer_area_id or (customer.transformer_area_id if customer else None)
    if taiqu_id is None and customer is None:
        return None
    at, reach = order.accepted_at, _reach_statement(customer.pk if customer else None, taiqu_id, order.accepted_at)
    window = _feeder_window(order, taiqu_id)
    if window is None:
        (reached,) = fixed_sql.fetch_together([reach])
        alert = None
    else:
        # the feeder's open alert is read (and row-locked) in the same round trip as the outages: a call
        # from inside a known outage does not need it, and holds its lock only until this intake commits
        reached, alert_rows = fixed_sql.fetch_together([reach, _open_alert_statement(*window)])
        alert = _alert_of(alert_rows)
    outage_id = _covering_of([row[0] for row in reached], at)
    if outage_id is None:
        if window is not None:
            check_feeder_fault(order, taiqu_id, window=window, alert=alert)
        return None
    outage = Outage.objects.select_related("unit", "feeder").get(pk=outage_id)
    call, created = OutageCall.objects.get_or_create(work_order=order, defaults={
        "outage": outage, "transformer_area_id": taiqu_id, "at": order.accepted_at})
    if not created:
        return call
    Outage.objects.filter(pk=outage.pk).update(call_count=F("call_count") + 1)
    if customer is not None:
        OutageSubscriber.objects.get_or_create(outage=outage, customer=customer, defaults={"source": "call"})
    from gridcare.workorders.models import StageEvent

    expected = _local(outage.expected_restoration_at or outage.end_at)
    StageEvent.objects.create(
        order=order, kind="comment", at=order.accepted_at, actor_name="系统",
        note=f"来电位于已知停电范围内，已关联停电事件 {outage.outage_no}（{outage.title}），无需另派抢修；预计恢复时间 {expected}",
        data={"outage_no": outage.outage_no})
    return call


def _feeder_window(order, taiqu_id):
    """(feeder id, window start) when the feeder-fault rule applies to this call, else None."""
    cfg = config.rules()["feeder_fault"]
    if taiqu_id is None or order.fault_kind not in cfg["fault_kinds"]:
        return None
    return _feeder_id_of(order, taiqu_id), order.accepted_at - timedelta(minutes=cfg["window_minutes"])


_UNREAD = object()


def check_feeder_fault(order, taiqu_id, window=None, alert=_UNREAD):
    """Group a fault call with its feeder's: a call on a feeder already under suspicion (an open alert
    with a call within the window) joins that alert, under a row lock, without re-reading the window, so a
    call costs the same however many calls the fault has already brought in; otherwise the window's calls
    decide (rules.feeder_fault_suspected) whether to open an alert and tell the dispatchers.
    `window` and `alert`: what `_feeder_window` and `_open_alert` gave, when the caller has read them."""
    cfg = config.rules()["feeder_fault"]
    window = window or _feeder_window(order, taiqu_id)
    if window is None:
        return None
    at = order.accepted_at
    feeder_id, since = window
    if alert is _UNREAD:
        alert = _open_alert(feeder_id, since)
    if alert is not None:
        return _join_alert(alert, order, taiqu_id, at)
    calls = _feeder_window_calls(taiqu_id, list(cfg["fault_kinds"]), since, at)
    suspected, n_calls, n_taiqu = rules.feeder_fault_suspected(
        [(t, tq) for _pk, t, tq in calls], at, cfg["window_minutes"], cfg["min_taiqu"], cfg["min_calls"])
    if not suspected:
        return None
    # Calls that bring the feeder under suspicion at the same moment queue on the feeder's row: the first
    # opens the alert, the others find it once it is committed and join it.
    feeder = Feeder.objects.select_for_update().get(pk=feeder_id)
    alert = _open_alert(feeder_id, since)
    if alert is not None:
        return _join_alert(alert, order, taiqu_id, at)
    alert = FeederFaultAlert.objects.create(feeder=feeder, first_call_at=min(c[1] for c in calls), last_call_at=at,
                                            calls=n_calls, taiqu_count=n_taiqu)
    FeederFaultCall.objects.bulk_create([FeederFaultCall(alert=alert, work_order_id=pk, transformer_area_id=tq, at=t)
                                         for pk, t, tq in calls])
    title = f"疑似线路故障：{feeder.name}"
    body = f"{cfg['window_minutes']}分钟内{n_taiqu}个台区{n_calls}次故障报修，请研判是否为线路故障"
    users = dispatchers_for(feeder.unit)
    transaction.on_commit(lambda: notify(users, "feeder_fault", title, body, reverse("outages:board"),
                                         dedupe=f"feeder-fault:{feeder_id}:{at:%Y%m%d%H%M}"))
    return alert.pk


# A call on a feeder under suspicion is the common case in a storm of fault calls: the three statements
# below are fixed (prepared on PostgreSQL) rather than querysets, and none of them reads the calls already
# grouped, so joining costs the same for the fifth call as for the five-hundredth.
def _open_alert(feeder_id, since):
    """(id, calls, 台区 count, last call) of the feeder's open alert with a call within the window,
    row-locked for this call to join; None when there is none."""
    (rows,) = fixed_sql.fetch_together([_open_alert_statement(feeder_id, since)])
    return _alert_of(rows)


def _open_alert_statement(feeder_id, since):
    qn, t = connection.ops.quote_name, FeederFaultAlert._meta.db_table
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    return (f"SELECT id, calls, taiqu_count, last_call_at FROM {qn(t)} WHERE feeder_id = %s AND {qn('open')} = %s "
            f"AND last_call_at >= %s ORDER BY last_call_at DESC LIMIT 1{lock}", [feeder_id, True, _db_time(since)])


def _alert_of(rows):
    return None if not rows else (rows[0][0], rows[0][1], rows[0][2], _from_db_time(rows[0][3]))


def _join_alert(alert, order, taiqu_id, at):
    """Add the call to the row-locked alert: its member row, one more call, one more 台区 when the call's
    is new to the alert, the later last-call time; and the audit row of that change."""
    alert_id, calls, taiqu_count, last_call_at = alert
    qn, t, m = connection.ops.quote_name, FeederFaultAlert._meta.db_table, FeederFaultCall._meta.db_table
    new_taiqu = False
    if taiqu_id is not None:
        with fixed_sql.cursor() as cur:
            cur.execute(f"SELECT 1 FROM {qn(m)} WHERE alert_id = %s AND transformer_area_id = %s LIMIT 1",
                        [alert_id, taiqu_id])
            new_taiqu = cur.fetchone() is None
    fixed_sql.insert(FeederFaultCall(alert_id=alert_id, work_order_id=order.pk, transformer_area_id=taiqu_id, at=at),
                     defer=True)
    after = (calls + 1, taiqu_count + new_taiqu, max(last_call_at, at))
    fixed_sql.execute_deferred(f"UPDATE {qn(t)} SET calls = %s, taiqu_count = %s, last_call_at = %s WHERE id = %s",
                               [after[0], after[1], _db_time(after[2]), alert_id])
    names = ("calls", "taiqu_count", "last_call_at")
    write_log(FeederFaultAlert(pk=alert_id), "update",
              diff(dict(zip(names, (calls, taiqu_count, last_call_at.isoformat()))),
                   dict(zip(names, (after[0], after[1], after[2].isoformat())))))
    return alert_id


def _feeder_id_of(order, taiqu_id):
    """The feeder of the call's 台区, from the 台区 the intake already loaded when it is that one."""
    for taiqu in (order.transformer_area if order.transformer_area_id else None,
                  order.customer.transformer_area if order.customer_id else None):
        if taiqu is not None and taiqu.pk == taiqu_id:
            return taiqu.feeder_id
    return TransformerArea.objects.filter(pk=taiqu_id).values_list("feeder_id", flat=True).first()


def dispatchers_for(unit) -> list:
    """The dispatch centre that covers `unit`: dispatchers whose scope includes it."""
    return [u for u in User.objects.filter(role="dispatcher", is_active=True).select_related("unit", "unit__parent")
            if in_scope(u, unit)]


@transaction.atomic
def do_confirm_alert(user, alert_id: int, data: dict) -> Outage:
    """Turn a feeder-fault suspicion into a fault outage on the whole feeder (notices go out at once)."""
    alert = get_object_or_404(FeederFaultAlert.objects.select_related("feeder"), pk=alert_id, open=True)
    outage = do_create_outage(user, {"kind": "fault", "scope_kind": "feeder", "feeder_code": alert.feeder.code,
                                     "start_at": data.get("start_at") or alert.first_call_at,
                                     "reason": data.get("reason") or "线路故障",
                                     "expected_restoration_at": data.get("expected_restoration_at")})
    alert.open, alert.outage = False, outage
    alert.save()
    from gridcare.workorders.models import WorkOrder

    for order in WorkOrder.objects.filter(pk__in=alert.members.values("work_order_id")).select_related("customer"):
        link_call(order)
    return outage


def _when(value: datetime | None) -> str:
    """A time for the agent's lookup: as _local, “待定” (to be set) in the reader's language."""
    return _local(value) if value else gettext("待定")


def context_hook(customer, ctx, now):
    """What the agent sees on a call: outages under way (progress, expected restoration) and the ones
    announced for the coming days. The title is in the active language (the pages' reader; the API answers
    in Chinese); the outage's title, reason and cause are data and show as written."""
    for o in outages_for(customer, None, now, include_upcoming_days=7)[:5]:
        kind = labels.kind_label(o.kind)
        if o.start_at > now:
            title = gettext("即将%(kind)s %(outage_no)s：%(start)s 至 %(end)s，%(reason)s") % {
                "kind": kind, "outage_no": o.outage_no, "start": _when(o.start_at), "end": _when(o.end_at),
                "reason": o.reason}
        elif o.state == State.RESTORED:
            title = gettext("%(kind)s %(outage_no)s 已于 %(at)s 恢复送电") % {
                "kind": kind, "outage_no": o.outage_no, "at": _when(o.restored_at)}
        else:
            title = (gettext("%(kind)s %(outage_no)s（%(title)s）%(start)s 起，进展：%(progress)s") % {
                "kind": kind, "outage_no": o.outage_no, "title": o.title, "start": _when(o.start_at),
                "progress": labels.progress_label(o.progress)}
                + (gettext("，原因：%(cause)s") % {"cause": o.cause} if o.cause else "")
                + gettext("，预计恢复：%(at)s") % {"at": _when(o.expected_restoration_at or o.end_at)}
                + (gettext("，已来电 %(calls)s 次") % {"calls": o.call_count} if o.call_count else ""))
        ctx["outages"].append({"title": title, "outage_no": o.outage_no, "state": o.state, "kind": o.kind,
                               "start_at": o.start_at, "expected_restoration_at": o.expected_restoration_at,
                               "progress": o.progress, "url": reverse("outages:detail", args=[o.outage_no])})


# ---------------------------------------------------------------- frequent outages
def _day_start(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=TZ)


def _interruption_end(part_restored, outage_restored, end_at, source, now):
    if part_restored:
        return part_restored
    if outage_restored:
        return outage_restored
    if source != "app" and end_at and end_at <= now:
        return end_at  # history without a recorded restoration: the planned end
    return now


def _area_events(window_start, window_end, now, taiqu_filter=None, extra=None):
    qs = OutageArea.objects.filter(outage__start_at__gte=window_start, outage__start_at__lt=window_end).exclude(
        outage__state=State.CANCELLED)
    if taiqu_filter is not None:
        qs = qs.filter(**taiqu_filter)
    for row in qs.values_list("transformer_area_id", "outage__outage_no", "outage__start_at", "restored_at",
                              "outage__restored_at", "outage__end_at", "outage__source", "outage__kind", *(extra or ())):
        tq, no, start, pr, orr, end_at, src, kind = row[:8]
        yield tq, no, start, _interruption_end(pr, orr, end_at, src, now), kind, row[8:]


def scan_frequent(as_of: date, now=None) -> dict:
    """台区 and customers with `outages`+ sustained interruptions in the `window_days` days up to and
    including `as_of` (Asia/Shanghai days), thresholds from time-limits.yaml `frequent_outage`."""
    now = now or timezone.now()
    fo = config.frequent_outage()
    window_end = _day_start(as_of + timedelta(days=1))
    window_start = window_end - timedelta(days=fo["window_days"])
    cap = min(now, window_end)
    sustained = fo["sustained_minutes"]
    tq_events: dict = {}
    for tq, no, start, end, _kind, _ in _area_events(window_start, window_end, cap):
        if rules.is_sustained(start, end, sustained):
            tq_events.setdefault(tq, []).append((start, no))
    cust_events: dict = {}
    for cid, no, start, pr, orr, end_at, src in OutageCustomer.objects.filter(
            outage__start_at__gte=window_start, outage__start_at__lt=window_end).exclude(
            outage__state=State.CANCELLED).values_list("customer_id", "outage__outage_no", "outage__start_at",
                                                        "restored_at", "outage__restored_at", "outage__end_at",
                                                        "outage__source"):
        if rules.is_sustained(start, _interruption_end(pr, orr, end_at, src, cap), sustained):
            cust_events.setdefault(cid, []).append((start, no))
    threshold = fo["outages"]
    flagged_tq = {tq: ev for tq, ev in tq_events.items() if len(ev) >= threshold}
    taiqus = {t.pk: t for t in TransformerArea.objects.filter(pk__in=list(flagged_tq)).select_related(
        "feeder", "unit", "manager")}
    customers_out = []
    cust_counts = dict(Customer.objects.filter(transformer_area_id__in=list(flagged_tq)).values_list(
        "transformer_area_id").annotate(n=Count("id")))
    for c in Customer.objects.filter(transformer_area_id__in=list(flagged_tq)).order_by("-critical", "account_no").values(
            "id", "account_no", "name", "transformer_area_id", "critical"):
        ev = flagged_tq[c["transformer_area_id"]] + cust_events.pop(c["id"], [])
        customers_out.append((c, ev))
    # customers flagged through customer-scoped outages (alone or added to their 台区's)
    if cust_events:
        for c in Customer.objects.filter(pk__in=list(cust_events)).values("id", "account_no", "name",
                                                                          "transformer_area_id", "critical"):
            ev = tq_events.get(c["transformer_area_id"], []) + cust_events[c["id"]]
            if len(ev) >= threshold:
                customers_out.append((c, ev))
    tq_codes = {t.pk: t.code for t in TransformerArea.objects.filter(
        pk__in={c["transformer_area_id"] for c, _ in customers_out})}
    return {
        "as_of": as_of.isoformat(), "window_days": fo["window_days"], "threshold": threshold,
        "sustained_minutes": sustained, "from": window_start.isoformat(), "to": window_end.isoformat(),
        "taiqu_count": len(flagged_tq), "customer_count": len(customers_out),
        "taiqu": [{"taiqu_code": t.code, "taiqu_name": t.name, "feeder_code": t.feeder.code, "unit_code": t.unit.code,
                   "manager": t.manager.username if t.manager_id else None, "outages": len(flagged_tq[pk]),
                   "outage_nos": [no for _s, no in sorted(flagged_tq[pk])], "customers": cust_counts.get(pk, 0)}
                  for pk, t in sorted(taiqus.items(), key=lambda kv: (-len(flagged_tq[kv[0]]), kv[1].code))],
        "customers": sorted(({"account_no": c["account_no"], "name": c["name"],
                              "taiqu_code": tq_codes.get(c["transformer_area_id"]), "critical": c["critical"],
                              "outages": len(ev), "outage_nos": [no for _s, no in sorted(ev)]}
                             for c, ev in customers_out), key=lambda r: (-r["outages"], not r["critical"], r["account_no"])),
    }


@transaction.atomic
def update_watch_list(result: dict) -> dict:
    """Put the scan's 台区 and customers on the watch list (taking off the ones no longer flagged) and
    tell each 台区 manager and the dispatch centre about new entries. Safe to run twice."""
    as_of = date.fromisoformat(result["as_of"])
    taiqus = {t.code: t for t in TransformerArea.objects.filter(
        code__in=[r["taiqu_code"] for r in result["taiqu"]] + [r["taiqu_code"] for r in result["customers"]]
    ).select_related("unit", "manager", "feeder")}
    customers = {c.account_no: c for c in Customer.objects.filter(
        account_no__in=[r["account_no"] for r in result["customers"]]).select_related("unit")}
    existing = {w.key: w for w in WatchEntry.objects.all()}
    seen, new_entries = set(), []
    rows = [("taiqu", f"taiqu:{r['taiqu_code']}", taiqus[r["taiqu_code"]], None, r) for r in result["taiqu"]]
    rows += [("customer", f"customer:{r['account_no']}", taiqus[r["taiqu_code"]], customers[r["account_no"]], r)
             for r in result["customers"]]
    for kind, key, tq, cust, r in rows:
        seen.add(key)
        w = existing.get(key)
        if w is None:
            w = WatchEntry(kind=kind, key=key, transformer_area=tq, customer=cust, unit=cust.unit if cust else tq.unit,
                           first_flagged_on=as_of)
            new_entries.append(w)
        elif not w.active:
            w.first_flagged_on = as_of
            new_entries.append(w)
        w.outages, w.outage_nos, w.last_flagged_on, w.active = r["outages"], r["outage_nos"], as_of, True
        w.save()
    dropped = 0
    for key, w in existing.items():
        if key not in seen and w.active:
            w.active = False
            w.save()
            dropped += 1
    # one notification per new 台区 entry (its customers are listed on the watch page)
    new_tq = [w for w in new_entries if w.kind == "taiqu"]
    for w in new_tq:
        tq = w.transformer_area
        users = [tq.manager] + dispatchers_for(tq.unit)
        title = f"频繁停电预警：{tq.name}（{tq.code}）"
        body = f"近{result['window_days']}天内停电{w.outages}次（{'、'.join(w.outage_nos)}），请排查原因并提前告知客户"
        dedupe = f"watch:{w.key}:{w.first_flagged_on.isoformat()}"
        transaction.on_commit(lambda users=users, title=title, body=body, dedupe=dedupe:
                              notify(users, "frequent_outage", title, body, reverse("outages:watchlist"), dedupe))
    return {"taiqu": result["taiqu_count"], "customers": result["customer_count"], "new": len(new_entries),
            "dropped": dropped}


# ---------------------------------------------------------------- reliability
def reliability_for(unit, date_from: date, date_to: date, exclude_planned=False, feeder=None, now=None) -> dict:
    """IEEE 1366 indices and RS-1 for the customers of `unit`'s subtree (optionally one feeder's) over
    [date_from 00:00, date_to 24:00) Asia/Shanghai."""
    if date_to < date_from:
        raise DomainError({"to": "结束日期不能早于开始日期"})
    now = now or timezone.now()
    start, end = _day_start(date_from), _day_start(date_to + timedelta(days=1))
    customers = Customer.objects.filter(unit__path__startswith=unit.path).filter(
        Q(opened_on__isnull=True) | Q(opened_on__lte=date_to))
    if feeder is not None:
        customers = customers.filter(transformer_area__feeder=feeder)
    per_tq = dict(customers.values_list("transformer_area_id").annotate(n=Count("id")))
    served = sum(per_tq.values())
    cap = min(now, end)
    its = []
    qs = OutageArea.objects.filter(transformer_area_id__in=list(per_tq), outage__start_at__lt=end).exclude(
        outage__state=State.CANCELLED)
    for tq, _no, s, e, kind, _ in _area_events(start - timedelta(days=400), end, cap,
                                              taiqu_filter={"pk__in": qs.values("pk")}):
        its.append(rules.Interruption(("tq", tq), per_tq[tq], s, e, kind == Kind.PLANNED))
    cust_qs = OutageCustomer.objects.filter(customer__in=customers, outage__start_at__lt=end).exclude(
        outage__state=State.CANCELLED)
    for cid, s, pr, orr, end_at, src, kind in cust_qs.values_list(
            "customer_id", "outage__start_at", "restored_at", "outage__restored_at", "outage__end_at",
            "outage__source", "outage__kind"):
        its.append(rules.Interruption(("c", cid), 1, s, _interruption_end(pr, orr, end_at, src, cap),
                                      kind == Kind.PLANNED))
    sizes = {("tq", k): v for k, v in per_tq.items()}
    sizes.update({it.group: 1 for it in its if it.group[0] == "c"})
    out = rules.reliability(its, served, start, end, sustained_minutes=config.sustained_minutes(),
                            exclude_planned=exclude_planned, cemi_n=int(config.rules()["cemi_n"]), group_sizes=sizes)
    return {"unit": unit.code, "unit_name": unit.name, "feeder": feeder.code if feeder else None,
            "from": date_from.isoformat(), "to": date_to.isoformat(), "exclude_planned": exclude_planned,
            "sustained_minutes": config.sustained_minutes(), **out}
