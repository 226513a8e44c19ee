"""REST API of the outage capability (mounted at /api/outages/)."""
from datetime import date, datetime

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from gridcare.accounts.models import OrgUnit
from gridcare.accounts.permissions import in_scope, require, scoped
from gridcare.core.api_support import DomainError
from gridcare.grid.models import Feeder

from . import services
from .models import FeederFaultAlert, FeederFaultCall, Outage, WatchEntry

router = Router(tags=["停电管理"])


class OutageIn(Schema):
    kind: str
    scope_kind: str
    feeder_code: str | None = None
    taiqu_codes: list[str] = []
    account_nos: list[str] = []
    start_at: datetime
    end_at: datetime | None = None
    expected_restoration_at: datetime | None = None
    reason: str = ""
    title: str = ""
    unit_code: str | None = None
    late_reason: str = ""


class ChangeIn(Schema):
    start_at: datetime | None = None
    end_at: datetime | None = None
    reason: str | None = None
    title: str | None = None
    note: str = ""
    late_reason: str = ""


class CancelIn(Schema):
    reason: str = ""


class ProgressIn(Schema):
    kind: str
    note: str = ""
    cause: str = ""
    expected_at: datetime | None = None
    taiqu_codes: list[str] = []
    account_nos: list[str] = []
    at: datetime | None = None


class SubscribeIn(Schema):
    account_no: str


class TemplateIn(Schema):
    body: str
    name: str | None = None


class ConfirmIn(Schema):
    start_at: datetime | None = None
    reason: str = ""
    expected_restoration_at: datetime | None = None


def outage_out(o: Outage, now=None) -> dict:
    from django.utils import timezone

    now = now or timezone.now()
    phase = o.state if o.state != "open" else ("active" if o.start_at <= now else "upcoming")
    return {"outage_no": o.outage_no, "kind": o.kind, "kind_label": o.get_kind_display(), "scope_kind": o.scope_kind,
            "feeder_code": o.feeder.code if o.feeder_id else None, "unit_code": o.unit.code, "title": o.title,
            "reason": o.reason, "state": o.state, "phase": phase, "start_at": o.start_at, "end_at": o.end_at,
            "expected_restoration_at": o.expected_restoration_at, "restored_at": o.restored_at, "cause": o.cause,
            "progress": o.progress, "notice_sent_at": o.notice_sent_at, "notice_late": o.notice_late,
            "notice_late_reason": o.notice_late_reason, "customers_affected": o.customers_affected,
            "critical_affected": o.critical_affected, "call_count": o.call_count,
            "taiqu": [{"code": a.transformer_area.code, "name": a.transformer_area.name, "restored_at": a.restored_at}
                      for a in o.areas.select_related("transformer_area").order_by("transformer_area__code")]}


def _d(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise DomainError({field: "日期格式不正确，应为YYYY-MM-DD"}) from None


@router.get("/", summary="停电事件列表")
def list_outages(request, phase: str = "", kind: str = "", limit: int = 100):
    from django.utils import timezone

    now = timezone.now()
    qs = services.visible(request.user).order_by("-start_at")
    if kind:
        qs = qs.filter(kind=kind)
    if phase == "active":
        qs = qs.filter(state="open", start_at__lte=now)
    elif phase == "upcoming":
        qs = qs.filter(state="open", start_at__gt=now)
    elif phase in ("restored", "cancelled"):
        qs = qs.filter(state=phase)
    return [outage_out(o, now) for o in qs.prefetch_related("areas__transformer_area")[:min(limit, 500)]]


@router.post("/check-notice", summary="提前通知检查（规划表单）")
def check_notice(request, payload: OutageIn):
    plan = services.check_outage(request.user, payload.dict())
    return {**plan["notice"].as_dict(), "has_critical": plan["has_critical"],
            "unit_code": plan["unit"].code if plan["unit"] else None,
            "taiqu_count": len(plan["taiqus"]), "customer_count": plan["customer_count"]}


@router.post("/", response={201: dict}, summary="登记/发布停电")
def create_outage(request, payload: OutageIn):
    o = services.do_create_outage(request.user, payload.dict())
    return Status(201, outage_out(o))


@router.get("/board", summary="停电看板")
def board(request):
    b = services.board(request.user)
    return {"active": [outage_out(o, b["now"]) for o in b["active"]],
            "upcoming": [outage_out(o, b["now"]) for o in b["upcoming"]], "tree": b["tree"],
            "feeder_alerts": alerts_out(b["alerts"])}


def alert_out(a: FeederFaultAlert, order_nos: list[str]) -> dict:
    return {"id": a.pk, "feeder_code": a.feeder.code, "feeder_name": a.feeder.name, "first_call_at": a.first_call_at,
            "last_call_at": a.last_call_at, "calls": a.calls, "taiqu_count": a.taiqu_count,
            "order_nos": order_nos,
            "open": a.open, "outage_no": a.outage.outage_no if a.outage_id else None}


def alerts_out(alerts) -> list[dict]:
    """A list of alerts with the order numbers of all of them read in one query, not one per alert."""
    alerts = list(alerts)
    nos = {a.pk: [] for a in alerts}
    members = (FeederFaultCall.objects.filter(alert__in=list(nos)).order_by("alert_id", "at", "id")
               .values_list("alert_id", "work_order__order_no"))
    for alert_id, order_no in members:
        nos[alert_id].append(order_no)
    return [alert_out(a, nos[a.pk]) for a in alerts]


@router.get("/feeder-alerts", summary="疑似线路故障")
def feeder_alerts(request, open: bool = True):
    require(request.user, "outage.view")
    qs = scoped(FeederFaultAlert.objects.select_related("feeder", "outage"), request.user, "feeder__unit")
    if open:
        qs = qs.filter(open=True)
    return alerts_out(qs[:200])


@router.post("/feeder-alerts/{alert_id}/confirm", response={201: dict}, summary="确认线路故障并发布故障停电")
def confirm_alert(request, alert_id: int, payload: ConfirmIn):
    return Status(201, outage_out(services.do_confirm_alert(request.user, alert_id, payload.dict())))


@router.get("/watchlist", summary="频繁停电预警名单")
def watchlist(request, kind: str = "", active: bool = True):
    require(request.user, "outage.view")
    qs = scoped(WatchEntry.objects.select_related("transformer_area", "customer", "unit"), request.user)
    if kind:
        qs = qs.filter(kind=kind)
    if active:
        qs = qs.filter(active=True)
    return [{"kind": w.kind, "taiqu_code": w.transformer_area.code, "taiqu_name": w.transformer_area.name,
             "account_no": w.customer.account_no if w.customer_id else None, "unit_code": w.unit.code,
             "outages": w.outages, "outage_nos": w.outage_nos, "first_flagged_on": w.first_flagged_on,
             "last_flagged_on": w.last_flagged_on, "active": w.active} for w in qs[:1000]]


@router.get("/reliability", summary="供电可靠性指标")
def reliability(request, unit: str, date_from: str, date_to: str, exclude_planned: bool = False, feeder: str = ""):
    require(request.user, "outage.view")
    u = OrgUnit.objects.filter(code=unit).first()
    if u is None:
        raise DomainError({"unit": f"单位不存在：{unit}"})
    if not in_scope(request.user, u):
        raise DomainError({"unit": "该单位不在您的管辖范围内"}, status=403)
    f = None
    if feeder:
        f = Feeder.objects.filter(code=feeder).first()
        if f is None:
            raise DomainError({"feeder": f"线路不存在：{feeder}"})
    return services.reliability_for(u, _d(date_from, "date_from"), _d(date_to, "date_to"), exclude_planned, f)


@router.get("/templates", summary="消息模板")
def list_templates(request):
    require(request.user, "outage.view")
    return services.templates()


@router.put("/templates/{code}", summary="修改消息模板")
def save_template(request, code: str, payload: TemplateIn):
    t = services.do_save_template(request.user, code, payload.body, payload.name)
    return {"code": t.code, "name": t.name, "body": t.body}


@router.get("/{outage_no}", summary="停电事件详情")
def get_outage(request, outage_no: str):
    o = services.get_outage(request.user, outage_no)
    out = outage_out(o)
    out["updates"] = [{"kind": u.kind, "label": u.get_kind_display(), "at": u.at, "actor": u.actor_name, "note": u.note,
                       "notified": u.notified, "data": u.data} for u in o.updates.all()]
    out["messages"] = services.message_summary(o)
    return out


@router.get("/{outage_no}/customers", summary="受影响客户（重要客户在前）")
def affected(request, outage_no: str, still_out: bool = False, limit: int = 1000):
    o = services.get_outage(request.user, outage_no)
    require(request.user, "customer.view")
    rows = services.affected_list(o, still_out, min(limit, 20000))
    return {"total": services.affected_customers(o, still_out).count(),
            "customers": [{"account_no": c.account_no, "name": c.name, "critical": c.critical,
                           "critical_kind": c.critical_kind, "taiqu_code": c.transformer_area.code,
                           "phone": c.phone} for c in rows]}


@router.get("/{outage_no}/messages", summary="停电消息发送记录")
def messages(request, outage_no: str, status: str = "", limit: int = 500):
    o = services.get_outage(request.user, outage_no)
    qs = services.messages_of(o, limit=min(limit, 5000))
    rows = [d for d in qs if not status or d.status == status]
    return {"summary": services.message_summary(o),
            "deliveries": [{"event_key": d.event.key, "account_no": d.customer.account_no, "channel": d.channel,
                            "address": d.address, "status": d.status, "attempts": d.attempts, "sent_at": d.sent_at,
                            "error": d.error, "idempotency_key": d.idempotency_key} for d in rows]}


@router.get("/{outage_no}/calls", summary="关联来电")
def calls(request, outage_no: str):
    o = services.get_outage(request.user, outage_no)
    return {"count": o.call_count,
            "calls": [{"order_no": c.work_order.order_no, "at": c.at,
                       "taiqu_code": c.transformer_area.code if c.transformer_area_id else None,
                       "account_no": c.work_order.customer.account_no if c.work_order.customer_id else None}
                      for c in o.calls.select_related("work_order", "work_order__customer", "transformer_area")
                      .order_by("at")]}


@router.post("/{outage_no}/updates", response={201: dict}, summary="登记抢修进展")
def progress(request, outage_no: str, payload: ProgressIn):
    upd = services.do_progress(request.user, outage_no, payload.kind, payload.note, payload.expected_at, payload.cause,
                               payload.taiqu_codes, payload.account_nos, payload.at)
    o = services.get_outage(request.user, outage_no)
    return Status(201, {"kind": upd.kind, "at": upd.at, "notified": upd.notified, "outage": outage_out(o)})


@router.post("/{outage_no}/change", summary="变更停电（发送变更通知）")
def change(request, outage_no: str, payload: ChangeIn):
    return outage_out(services.do_change(request.user, outage_no, payload.dict()))


@router.post("/{outage_no}/cancel", summary="取消停电（发送取消通知）")
def cancel(request, outage_no: str, payload: CancelIn):
    return outage_out(services.do_cancel(request.user, outage_no, payload.reason))


@router.post("/{outage_no}/subscribe", summary="客户订阅抢修进展")
def subscribe(request, outage_no: str, payload: SubscribeIn):
    return {"created": services.do_subscribe(request.user, outage_no, payload.account_no)}
