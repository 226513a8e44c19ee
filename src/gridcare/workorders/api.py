from datetime import datetime

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils import translation
from ninja import Header, Router, Schema, Status
from pydantic import BaseModel

from gridcare.accounts.models import OrgUnit
from gridcare.accounts.permissions import in_scope, require, scoped
from gridcare.core.api_support import DomainError
from gridcare.customers import services as customer_services

from . import services
from .models import WorkOrder

router = Router(tags=["工单"])


# The intake's request and answer are plain pydantic models, not ninja Schemas: a Schema is validated
# through ninja's attribute getter (built for ORM objects), field by field in Python; these are always given
# a parsed JSON body or the dict of OrderOut.of, and pydantic validates those by itself: 5.1 µs for
# OrderOut against 40.8 µs as a Schema (`python -m bench.run percall`).
class OrderIn(BaseModel):
    order_type: str
    channel: str = "hotline"
    text: str
    account_no: str | None = None
    caller_name: str | None = None
    caller_phone: str | None = None
    category_l1: str | None = None
    category_l2: str | None = None
    fault_kind: str | None = None
    unit_code: str | None = None
    taiqu_code: str | None = None
    area_kind: str | None = None
    repeat_of: str | None = None
    close_now: bool = False
    reply: str | None = None
    accepted_at: datetime | None = None  # orders transferred in or entered after the fact (补录)


class OrderOut(BaseModel):
    order_no: str
    order_type: str
    channel: str
    category_l1: str
    category_l2: str
    fault_kind: str
    account_no: str | None
    caller_name: str
    caller_phone: str
    area_kind: str
    unit_code: str
    taiqu_code: str | None
    text: str
    reply: str
    stage: str
    stage_label: str
    status: str
    assignee: str | None
    accepted_at: datetime
    stage_entered_at: datetime
    stage_limit: str
    stage_due_at: datetime | None
    stage_warn_at: datetime | None
    sla_state: int
    suspended: bool
    escalation: int
    escalation_reason: str
    urge_count: int
    reject_count: int
    repeat_of: str | None
    merged_into: str | None
    satisfaction: str
    quality_flags: list
    closed_at: datetime | None

    @staticmethod
    def of(o: WorkOrder):
        return {
            "order_no": o.order_no, "order_type": o.order_type, "channel": o.channel, "category_l1": o.category_l1,
            "category_l2": o.category_l2, "fault_kind": o.fault_kind,
            "account_no": o.customer.account_no if o.customer_id else None, "caller_name": o.caller_name,
            "caller_phone": o.caller_phone, "area_kind": o.area_kind, "unit_code": o.unit.code,
            "taiqu_code": o.transformer_area.code if o.transformer_area_id else None, "text": o.text,
            "reply": o.reply, "stage": o.stage, "stage_label": o.stage_label, "status": o.status,
            "assignee": o.assignee.username if o.assignee_id else None, "accepted_at": o.accepted_at,
            "stage_entered_at": o.stage_entered_at, "stage_limit": o.stage_limit_key, "stage_due_at": o.stage_due_at,
            "stage_warn_at": o.stage_warn_at, "sla_state": o.sla_state, "suspended": o.suspended,
            "escalation": o.escalation, "escalation_reason": o.escalation_reason, "urge_count": o.urge_count,
            "reject_count": o.reject_count, "repeat_of": o.repeat_of.order_no if o.repeat_of_id else None,
            "merged_into": o.merged_into.order_no if o.merged_into_id else None, "satisfaction": o.satisfaction,
            "quality_flags": o.quality_flags, "closed_at": o.closed_at}


class EventOut(Schema):
    at: datetime
    kind: str
    kind_label: str
    from_stage: str
    to_stage: str
    actor: str
    note: str
    data: dict


class AdvanceIn(Schema):
    to: str
    note: str = ""
    reply: str = ""
    unit_code: str | None = None
    assignee: str | None = None


class RejectIn(Schema):
    to: str
    reason: str


class NoteIn(Schema):
    note: str = ""


class ReasonIn(Schema):
    reason: str


class ReassignIn(Schema):
    unit_code: str | None = None
    assignee: str | None = None
    note: str = ""


class MergeIn(Schema):
    into: str


class LinkIn(Schema):
    repeat_of: str


class EscalateIn(Schema):
    level: int
    reason: str


class VisitIn(Schema):
    satisfaction: str
    note: str = ""


class ContextOrder(Schema):
    order_no: str
    order_type: str
    stage_label: str
    status: str
    accepted_at: datetime
    text: str


class CustomerContext(Schema):
    account_no: str
    name: str
    address: str
    phone: str
    area_kind: str
    unit_code: str
    taiqu_code: str
    critical: bool
    sensitive: bool
    sensitive_reason: str
    open_orders: list[ContextOrder]
    recent_orders: list[ContextOrder]
    outages: list[dict]
    billing: dict | None = None


class UnitSla(Schema):
    unit_code: str
    unit_name: str
    near_breach: int
    overdue: int


class DashboardOut(Schema):
    unit_code: str
    near_breach: int
    overdue: int
    by_unit: list[UnitSla]
    near_breach_orders: list[OrderOut]
    overdue_orders: list[OrderOut]


SELECT = ("unit", "customer", "transformer_area", "assignee", "repeat_of", "merged_into")


def _out(order_no, user):
    return OrderOut.of(services.get_order(user, order_no))


def _ctx_order(o):
    return {"order_no": o.order_no, "order_type": o.order_type, "stage_label": o.stage_label, "status": o.status,
            "accepted_at": o.accepted_at, "text": o.text[:200]}


@router.post("/", response={200: OrderOut, 201: OrderOut})
def create_order(request, payload: OrderIn, idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    """Take an order. Send an `Idempotency-Key` header so that a retried request returns the order
    the first one created (200) instead of a second order."""
    order, created = services.do_create_order(request.user, payload.model_dump(), idempotency_key=idempotency_key)
    if created:
        # answered from the order just saved (its customer, unit and 台区 were loaded by the intake
        # checks): the same permission and scope checks as get_order, without reading the row back
        order = services.viewable(request.user, order)
    else:
        order = services.get_order(request.user, order.order_no)
    return Status(201 if created else 200, OrderOut.of(order))


@router.get("/", response=list[OrderOut])
def list_orders(request, stage: str | None = None, status: str | None = None, unit: str | None = None,
                mine: bool = False, queue: bool = False, sla: str | None = None, account_no: str | None = None,
                limit: int = 50, offset: int = 0):
    """Orders in the caller's scope. `queue=true` gives the caller's work queue (most urgent first);
    `sla=near|overdue` the near-breach or overdue ones."""
    require(request.user, "workorder.view")
    qs = services.queue_for(request.user) if queue else scoped(WorkOrder.objects.all(), request.user).order_by("-accepted_at")
    if stage:
        qs = qs.filter(stage=stage)
    if status:
        qs = qs.filter(status=status)
    if unit:
        u = get_object_or_404(OrgUnit, code=unit)
        qs = qs.filter(unit__path__startswith=u.path)
    if mine:
        qs = qs.filter(assignee=request.user)
    if account_no:
        qs = qs.filter(customer__account_no=account_no)
    if sla in ("near", "overdue"):
        from django.utils import timezone

        now = timezone.now()
        qs = qs.filter(stage_warn_at__lte=now, stage_due_at__gt=now) if sla == "near" else qs.filter(stage_due_at__lte=now)
    return [OrderOut.of(o) for o in qs.select_related(*SELECT)[offset:offset + min(limit, 500)]]


@router.get("/lookup", response=list[CustomerContext])
def lookup_caller(request, q: str):
    """Identify the caller by 户号 or phone (several matches offered), each with open orders, the
    last 90 days' orders, sensitive flags and current outages. The texts (outage titles, the billing
    summary) are in Chinese whatever the client's language cookie: the page's lookup shows them translated."""
    require(request.user, "workorder.create")
    out = []
    for c in customer_services.search(request.user, q, 10):
        with translation.override(settings.LANGUAGE_CODE):
            ctx = services.customer_context(request.user, c)
        out.append({"account_no": c.account_no, "name": c.name, "address": c.address, "phone": c.phone,
                    "area_kind": c.area_kind, "unit_code": c.unit.code, "taiqu_code": c.transformer_area.code,
                    "critical": c.critical, "sensitive": ctx["sensitive"], "sensitive_reason": ctx["sensitive_reason"],
                    "open_orders": [_ctx_order(o) for o in ctx["open_orders"]],
                    "recent_orders": [_ctx_order(o) for o in ctx["recent_orders"]], "outages": ctx["outages"],
                    "billing": ctx.get("billing")})
    return out


@router.get("/dashboard", response=DashboardOut)
def dashboard(request, unit: str | None = None, limit: int = 20):
    """Near-breach and overdue orders of a unit subtree (default: the caller's scope)."""
    require(request.user, "workorder.view")
    from gridcare.accounts.permissions import scope_path

    if unit:
        u = get_object_or_404(OrgUnit, code=unit)
        if not in_scope(request.user, u):
            raise DomainError({"unit": "该单位不在您的管辖范围内"}, status=403)
    else:
        prefix = scope_path(request.user)
        u = OrgUnit.objects.filter(path=prefix).first() or OrgUnit.objects.filter(parent__isnull=True).first()
    data = services.dashboard_data(u, limit)
    data["near_breach_orders"] = [OrderOut.of(o) for o in data["near_breach_orders"]]
    data["overdue_orders"] = [OrderOut.of(o) for o in data["overdue_orders"]]
    return data


@router.get("/{order_no}", response=OrderOut)
def get_order(request, order_no: str):
    return _out(order_no, request.user)


@router.get("/{order_no}/events", response=list[EventOut])
def order_events(request, order_no: str):
    order = services.get_order(request.user, order_no)
    return [{"at": e.at, "kind": e.kind, "kind_label": e.get_kind_display(), "from_stage": e.from_stage,
             "to_stage": e.to_stage, "actor": e.actor_name, "note": e.note, "data": e.data}
            for e in order.events.all()]


@router.post("/{order_no}/advance", response=OrderOut)
def advance(request, order_no: str, payload: AdvanceIn):
    """Move the order to its next stage (`to`), e.g. dispatched (with unit_code/assignee), replied (with reply)."""
    services.do_advance(request.user, order_no, payload.to, payload.note, payload.reply, payload.unit_code,
                        payload.assignee)
    return _out(order_no, request.user)


@router.post("/{order_no}/reject", response=OrderOut)
def reject(request, order_no: str, payload: RejectIn):
    """回退 to an earlier stage with a reason."""
    services.do_reject(request.user, order_no, payload.to, payload.reason)
    return _out(order_no, request.user)


@router.post("/{order_no}/urge", response=OrderOut)
def urge(request, order_no: str, payload: NoteIn):
    """催办: recorded with who urged; notifies the assignee and the unit's leaders."""
    services.do_urge(request.user, order_no, payload.note)
    return _out(order_no, request.user)


@router.post("/{order_no}/reassign", response=OrderOut)
def reassign(request, order_no: str, payload: ReassignIn):
    services.do_reassign(request.user, order_no, payload.unit_code, payload.assignee, payload.note)
    return _out(order_no, request.user)


@router.post("/{order_no}/merge", response=OrderOut)
def merge(request, order_no: str, payload: MergeIn):
    """Merge this duplicate into `into` (same customer); its history stays."""
    services.do_merge(request.user, order_no, payload.into)
    return _out(order_no, request.user)


@router.post("/{order_no}/link", response=OrderOut)
def link(request, order_no: str, payload: LinkIn):
    """Link this call as a repeat of an earlier order (a complaint's second call escalates it)."""
    services.do_link_repeat(request.user, order_no, payload.repeat_of)
    return _out(order_no, request.user)


@router.post("/{order_no}/escalate", response=OrderOut)
def escalate(request, order_no: str, payload: EscalateIn):
    services.do_escalate(request.user, order_no, payload.level, payload.reason)
    return _out(order_no, request.user)


@router.post("/{order_no}/visit", response=OrderOut)
def visit(request, order_no: str, payload: VisitIn):
    """回访 with satisfaction; dissatisfied re-opens the order to handling."""
    services.do_visit(request.user, order_no, payload.satisfaction, payload.note)
    return _out(order_no, request.user)


@router.post("/{order_no}/suspend", response=OrderOut)
def suspend(request, order_no: str, payload: ReasonIn):
    services.do_suspend(request.user, order_no, payload.reason)
    return _out(order_no, request.user)


@router.post("/{order_no}/resume", response=OrderOut)
def resume(request, order_no: str, payload: NoteIn):
    services.do_resume(request.user, order_no, payload.note)
    return _out(order_no, request.user)
