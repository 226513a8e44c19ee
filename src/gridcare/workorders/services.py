"""Work-order operations. Each `do_*` runs inside one transaction, checks the actor's role and unit
scope, writes a StageEvent (the history every clock and report derives from), recomputes the stored
deadline, and sends notifications after commit."""
import secrets
import time  # noqa: F401 - the clock of the per-process copies (tests move it)
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from gridcare.accounts.models import OrgUnit, User
from gridcare.accounts.permissions import can, in_scope, require, scoped
from gridcare.core.api_support import Conflict, DomainError
from gridcare.core import fixed_sql
from gridcare.core.taxonomy import category_parent, taxonomy
from gridcare.core.calendar_services import current_calendar
from gridcare.core.process_copy import ProcessCopy
from gridcare.customers.models import Customer
from gridcare.grid.models import TransformerArea
from gridcare.intelligence import hooks as intelligence_hooks
from gridcare.notifications.services import notify

from . import clock, limits, rules
from .choices import Channel, Escalation, EventKind, Satisfaction, SlaState, Status
from .models import EscalationRule, StageEvent, WorkOrder
from .workflow import ENTER_CAPABILITY, REJECT_CAPABILITIES, STAGE_LABELS, WORKFLOWS, workflow


# ---------------------------------------------------------------- rules as data
# Every intake reads the rules (the SLA warning fraction; complaints the 12398 and repeat rules), and
# they change a few times a year, so each process keeps the enabled ones for RULES_MAX_AGE seconds
# (core.process_copy: a change in this process is used at once).
RULES_MAX_AGE = 5.0
_rules = ProcessCopy(lambda: dict(EscalationRule.objects.filter(enabled=True).values_list("code", "params")),
                     max_age=RULES_MAX_AGE)


def _enabled_rules() -> dict:
    return _rules.get()


def rules_changed(**_kwargs):
    """Forget the cached escalation rules (connected to EscalationRule's post_save/post_delete)."""
    _rules.changed()


def rule(code: str) -> dict | None:
    """An enabled escalation rule's parameters (None when disabled or absent)."""
    return _enabled_rules().get(code)


def warning_fraction() -> float:
    params = rule("sla_warning") or {}
    return float(params.get("fraction_left", 0.25))


# ---------------------------------------------------------------- clocks
# The working-day calendar's change check is done at most this often per process on the order paths
# (core.calendar_services.current_calendar); a change made in this process is seen at once.
CALENDAR_MAX_AGE = 5.0


def paused_spans(order, since):
    """Suspend/resume pairs from the history (an open suspension runs to 'now')."""
    spans, start = [], None
    for ev in order.events.filter(kind__in=[EventKind.SUSPEND, EventKind.RESUME], at__gte=since).order_by("at", "id"):
        if ev.kind == EventKind.SUSPEND and start is None:
            start = ev.at
        elif ev.kind == EventKind.RESUME and start is not None:
            spans.append((start, ev.at))
            start = None
    if start is not None:
        spans.append((start, None))
    return spans


def recompute_deadline(order, now=None):
    """Set stage_limit_key / stage_due_at / stage_warn_at for the stage the order is in."""
    if order.status != Status.OPEN:
        order.stage_limit_key, order.stage_due_at, order.stage_warn_at = "", None, None
        return
    wf = workflow(order.order_type)
    spec = wf.clocks.get(order.stage)
    if spec is None:
        order.stage_limit_key, order.stage_due_at, order.stage_warn_at = "", None, None
        order.sla_state = SlaState.OK
        return
    key, start_ref = spec
    start = order.accepted_at if start_ref == "accepted" else order.stage_entered_at
    limit = limits.limit_for(order.order_type, key, order.area_kind)  # the utility's own where it set one
    cal = current_calendar(max_age=CALENDAR_MAX_AGE)
    spans = paused_spans(order, start) if (key in wf.pausable and order.pk) else []
    now = now or timezone.now()
    if spans and order.suspended:
        # a clock paused in time has no deadline until it resumes (None: not overdue, not near breach, not
        # swept while the customer's requested delay runs); one paused after its deadline stays overdue
        due = clock.due_with_pauses(start, limit, spans, cal)
    elif spans:
        due = clock.due_with_pauses(start, limit, [(a, b or max(now, a)) for a, b in spans], cal)
    else:
        due = clock.due_at(start, limit, cal)
    warn = clock.warn_at(start, due, warning_fraction(), limit=limit, calendar=cal) if due else None
    previous_key = order.stage_limit_key
    order.stage_limit_key, order.stage_due_at, order.stage_warn_at = key, due, warn
    if previous_key != key:
        order.sla_state = SlaState.OK
    elif due is None or due > now:
        # the deadline moved later (a resumed pause, a corrected area): the marks follow it, so the sweep
        # warns and escalates again against the new deadline instead of keeping a stale 已超时
        state = SlaState.WARNING if warn is not None and warn <= now else SlaState.OK
        order.sla_state = min(order.sla_state, state)
    if order.suspended:
        order.stage_warn_at = None  # a suspended clock raises no warning until it resumes


# ---------------------------------------------------------------- helpers
def _event(order, kind, actor, at, note="", from_stage="", to_stage="", **data):
    return fixed_sql.insert(StageEvent(order=order, kind=kind, actor=actor if getattr(actor, "pk", None) else None,
                                       actor_name=(getattr(actor, "name", "") or getattr(actor, "username", ""))[:50],
                                       at=at, note=note, from_stage=from_stage, to_stage=to_stage, data=data),
                            defer=True)


def new_order_no(at) -> str:
    """16-character 95598-style number: date + 10 random digits (collisions retried by the caller)."""
    return f"{timezone.localtime(at):%y%m%d}{secrets.randbelow(10**10):010d}"


def _unit_head(unit):
    """The head of the unit, or of the nearest ancestor that has one (one query for the whole chain:
    the unit's path holds its ancestors' codes)."""
    if unit.head_id:
        return unit.head
    nearest = unit.ancestors().filter(head__isnull=False).select_related("head").order_by("-path").first()
    return nearest.head if nearest else None


def _leaders(unit):
    head = _unit_head(unit)
    supervisors = list(User.objects.filter(unit=unit, role="supervisor", is_active=True)[:5])
    return [u for u in [head, *supervisors] if u]


def _on_commit_notify(users, kind, title, body, order, dedupe=None):
    url = f"/workorders/{order.order_no}/"
    transaction.on_commit(lambda: notify(users, kind, title, body, url, dedupe))


def get_order(user, order_no, for_update=False) -> WorkOrder:
    require(user, "workorder.view")
    qs = WorkOrder.objects.select_related("unit", "customer", "transformer_area", "assignee")
    if for_update:
        qs = qs.select_for_update(of=("self",)) if _supports_of() else qs.select_for_update()
    return viewable(user, get_object_or_404(qs, order_no=order_no))


def viewable(user, order) -> WorkOrder:
    """The order, if the user may see it (role and unit scope); PermissionDenied otherwise."""
    require(user, "workorder.view")
    if not in_scope(user, order.unit):
        raise PermissionDenied("该工单不属于您所在单位的管辖范围")
    return order


def _supports_of():
    return connection.features.has_select_for_update_of


# ---------------------------------------------------------------- intake
INTAKE_FIELDS = ("accepted_at", "order_type", "channel", "category_l1", "category_l2", "fault_kind", "text", "caller_name",
                 "caller_phone", "account_no", "unit_code", "taiqu_code", "area_kind", "repeat_of", "close_now",
                 "reply")


_CHANNELS = frozenset(Channel.values)  # Channel.values rebuilds its list (labels and all) on every call


def check_intake(user, data: dict):
    """Validate an intake; returns the resolved (customer, unit, taiqu, area_kind) or raises DomainError."""
    tx = taxonomy()
    errors = {}
    order_type = data.get("order_type") or ""
    if order_type not in tx["order_types"]:
        errors["order_type"] = f"未知的业务类型代码：{order_type}"
    if (data.get("channel") or "hotline") not in _CHANNELS:
        errors["channel"] = f"未知的受理渠道：{data.get('channel')}"
    l1, l2 = data.get("category_l1") or "", data.get("category_l2") or ""
    if order_type == "complaint":
        if not l2:
            errors["category_l2"] = "投诉工单必须选择二级分类"
        elif category_parent(l2) is None:
            errors["category_l2"] = f"未知的投诉分类代码：{l2}"
        elif l1 and category_parent(l2) != l1:
            errors["category_l2"] = f"二级分类 {l2} 不属于一级分类 {l1}"
        if l1 and l1 not in tx["complaint_categories"]:
            errors["category_l1"] = f"未知的投诉分类代码：{l1}"
    elif l1 or l2:
        errors["category_l2" if l2 else "category_l1"] = "只有投诉工单有投诉分类"
    fk = data.get("fault_kind") or ""
    if order_type == "fault_repair" and not fk:
        errors["fault_kind"] = "故障报修工单必须选择故障类型"
    elif fk and fk not in tx["fault_kinds"]:
        errors["fault_kind"] = f"未知的故障类型代码：{fk}"
    elif fk and order_type != "fault_repair":
        errors["fault_kind"] = "只有故障报修工单有故障类型"
    if not (data.get("text") or "").strip():
        errors["text"] = "受理内容不能为空"
    customer = unit = taiqu = None
    if data.get("account_no"):
        customer = fixed_sql.get_one(Customer, "account_no", data["account_no"], ("unit", "transformer_area"))
        if customer is None:
            errors["account_no"] = "户号不存在"
        else:
            unit, taiqu = customer.unit, customer.transformer_area
    if data.get("taiqu_code"):
        taiqu = fixed_sql.get_one(TransformerArea, "code", data["taiqu_code"], ("unit",))
        if taiqu is None:
            errors["taiqu_code"] = "台区编码不存在"
        elif unit is None:
            unit = taiqu.unit
    if data.get("unit_code"):
        unit = OrgUnit.objects.filter(code=data["unit_code"]).first() or unit
        if unit is None or unit.code != data["unit_code"]:
            errors["unit_code"] = "单位编码不存在"
    if unit is None and "unit_code" not in errors and "account_no" not in errors:
        errors["unit_code"] = "无户号时必须给出责任单位或台区"
    area_kind = data.get("area_kind") or (customer.area_kind if customer else (taiqu.area_kind if taiqu else ""))
    if area_kind not in tx["area_kinds"]:
        errors["area_kind"] = "区域类型必须为 urban / rural / remote"
    if data.get("close_now") and order_type in WORKFLOWS and not WORKFLOWS[order_type].close_on_intake:
        allowed = "、".join(tx["order_types"][code] for code, wf in WORKFLOWS.items() if wf.close_on_intake)
        errors["close_now"] = f"只有{allowed}工单可以在受理时直接办结"
    if errors:
        raise DomainError(errors)
    require(user, "workorder.create")
    if not in_scope(user, unit):
        raise DomainError({"unit_code": "责任单位不在您的管辖范围内"}, status=403)
    return customer, unit, taiqu, area_kind


def do_create_order(user, data: dict, idempotency_key: str | None = None, at=None):
    """Create an order; returns (order, created). A retry with the same Idempotency-Key returns the
    order the first call created; the same key from another user or with another type, customer or text
    is a 409 and creates nothing."""
    customer, unit, taiqu, area_kind = check_intake(user, data)
    now = timezone.now()
    at = at or data.get("accepted_at") or now
    if at > now + timedelta(minutes=1):
        raise DomainError({"accepted_at": "受理时间不能晚于当前时间"})
    l2 = data.get("category_l2") or ""
    order = WorkOrder(
        order_type=data["order_type"], channel=data.get("channel") or "hotline",
        category_l1=(category_parent(l2) or "") if l2 else "", category_l2=l2,
        fault_kind=data.get("fault_kind") or "", customer=customer,
        caller_name=data.get("caller_name") or (customer.name if customer else ""),
        caller_phone=data.get("caller_phone") or (customer.phone if customer else ""),
        area_kind=area_kind, unit=unit, transformer_area=taiqu, text=data["text"].strip(),
        accepted_at=at, stage_entered_at=at, stage="accepted", idempotency_key=idempotency_key or None,
        created_by=user if getattr(user, "pk", None) else None)
    if data.get("close_now"):
        # a praise or an inquiry answered on the call is written closed (_take_order)
        order.reply = data.get("reply") or "已在通话中答复/记录"
        order.stage, order.status, order.closed_at = "closed", Status.CLOSED, at
    recompute_deadline(order, at)
    # A retry with a known Idempotency-Key, or a clash of the random order number, is found by a unique
    # index when the INSERT conflicts. The whole intake transaction is then rolled back and, for a new
    # number, tried again: no look-up before the INSERT and no savepoint around it, so a first call
    # (nearly every call) spends no statement on either.
    for _attempt in range(5):
        order.order_no = new_order_no(at)
        try:
            return _take_order(order, user, data, at), True
        except IntegrityError:
            order.pk = None
            order._state.adding = True
            first = WorkOrder.objects.filter(idempotency_key=idempotency_key).first() if idempotency_key else None
            if first is not None:
                # a retry is the same user sending the same call again; a key reused by someone else or for
                # another call is refused rather than answered with an order that is not theirs
                if (first.created_by_id != getattr(user, "pk", None) or first.order_type != order.order_type
                        or first.customer_id != order.customer_id or first.text != order.text):
                    raise Conflict({"idempotency_key": "该 Idempotency-Key 已用于另一次受理（内容或受理人不同），"
                                                       "重试请原样重发，新的受理请换一个键"}) from None
                return first, False
            if _attempt == 4:
                raise  # not a number clash (five in a row do not happen): a real fault, not hidden
    raise AssertionError("unreachable")


@transaction.atomic
def _take_order(order, user, data, at):
    """The writes of one intake, in one transaction: the order (its audit row), the create event, a
    repeat-call link, intake escalation, the after-intake hooks, and closing at once when asked.

    An order closed on the call (a praise, an inquiry answered) is written closed: one INSERT, its audit
    row holding the closed state, and the two events of its history (受理, then 受理→归档), rather than an
    INSERT followed by an UPDATE of the same row in the same transaction."""
    # the create event first in the history: before what the post_save receivers write (the outage link's note)
    # deferred (on PostgreSQL): the order's INSERT travels with the transaction's next statement, its id
    # taken from the connection's reserved block; a clash of its unique keys is raised by that statement
    # or by COMMIT, inside this transaction, and do_create_order's retry sees it as before
    order.insert(first=lambda o: _event(o, EventKind.CREATE, user, at, note=f"{Channel(o.channel).label}受理",
                                        to_stage="accepted"), defer=True)
    if data.get("repeat_of"):
        earlier = WorkOrder.objects.filter(order_no=data["repeat_of"]).first()
        if earlier is None:
            raise DomainError({"repeat_of": "原工单不存在"})
        _link(user, order, earlier, at)
    _apply_intake_escalation(order, user, at)
    intelligence_hooks.on_order_created(order, user)
    if order.status == Status.CLOSED:
        _event(order, EventKind.ADVANCE, user, at, note="受理时直接办结", from_stage="accepted", to_stage="closed")
    return order


def _apply_intake_escalation(order, user, at):
    if order.order_type != "complaint":
        return
    r12398 = rule("complaint_12398")
    if r12398 and order.channel in r12398.get("channels", ["12398"]):
        _escalate(order, r12398["level"], "12398监管热线投诉，由单位负责人亲自处理", user, at)
        return
    rr = rule("repeat_complaint")
    if rr and (order.customer_id or order.caller_phone):
        since = at - timedelta(days=rr.get("window_days", 60))
        if _earlier_complaint(order, since, at):
            _escalate(order, rr["level"], "95598重复投诉，由单位负责人亲自处理", user, at)


def _earlier_complaint(order, since, at) -> bool:
    """Whether the same customer — or, for a caller not identified by 户号, the same calling number — made
    another complaint in [since, at). Every complaint's intake asks, so it is a fixed statement, prepared on
    PostgreSQL: it finds rows by key (wo_customer_time, wo_caller_phone) whatever the time bounds are."""
    column, value = ("customer_id", order.customer_id) if order.customer_id else ("caller_phone", order.caller_phone)
    sql = (f"SELECT 1 FROM {WorkOrder._meta.db_table} WHERE {column} = %s AND order_type = %s "
           f"AND accepted_at >= %s AND accepted_at < %s AND id <> %s LIMIT 1")
    db_time = connection.ops.adapt_datetimefield_value
    with fixed_sql.cursor() as cur:
        cur.execute(sql, [value, "complaint", db_time(since), db_time(at), order.pk])
        return cur.fetchone() is not None


# ---------------------------------------------------------------- lifecycle
def _move(order, target, actor, at, note="", kind=EventKind.ADVANCE):
    source = order.stage
    order.stage = target
    order.stage_entered_at = at
    if target == "closed":
        order.status = Status.CLOSED
        order.closed_at = at
    recompute_deadline(order, at)
    order.save()
    _event(order, kind, actor, at, note=note, from_stage=source, to_stage=target)


@transaction.atomic
def do_advance(user, order_no, target, note="", reply="", unit_code=None, assignee=None, at=None):
    order = get_order(user, order_no, for_update=True)
    at = at or timezone.now()
    if order.status != Status.OPEN:
        raise Conflict({"to": f"工单{Status(order.status).label}，不能流转"})
    wf = workflow(order.order_type)
    if target not in STAGE_LABELS or not wf.can_go(order.stage, target):
        allowed = wf.next_stage(order.stage)
        raise Conflict({"to": f"不允许从“{STAGE_LABELS.get(order.stage)}”流转到“{STAGE_LABELS.get(target, target)}”"
                              + (f"，下一环节应为“{STAGE_LABELS[allowed]}”" if allowed else "")})
    cap = ENTER_CAPABILITY.get(target)
    if cap and not can(user, cap):
        raise PermissionDenied(f"您的角色无权执行“{STAGE_LABELS[target]}”")
    if target == "visited":
        raise DomainError({"to": "回访请使用回访登记（需记录满意度）"})
    if target == "replied":
        if not (reply or order.reply).strip():
            raise DomainError({"reply": "回单必须填写处理结果"})
        order.reply = reply or order.reply
    if target == "dispatched":
        _apply_assignment(user, order, unit_code, assignee)
    if target == "audited":
        order.quality_flags = rules.quality_flags(
            order_type=order.order_type, category_l2=order.category_l2, text=order.text, reply=order.reply,
            has_region=bool(order.transformer_area_id), reject_count=order.reject_count)
        if order.quality_flags:
            _event(order, EventKind.QUALITY, user, at, note="；".join(f["message"] for f in order.quality_flags),
                   flags=order.quality_flags)
        intelligence_hooks.on_order_audited(order, user)
    _move(order, target, user, at, note=note)
    if target == "dispatched" and order.assignee_id:
        _on_commit_notify([order.assignee], "dispatch", f"新派工单 {order.order_no}", order.text[:100], order)
    return order


def _apply_assignment(user, order, unit_code, assignee):
    if unit_code:
        unit = OrgUnit.objects.filter(code=unit_code).first()
        if unit is None:
            raise DomainError({"unit_code": "单位编码不存在"})
        if not in_scope(user, unit):
            raise DomainError({"unit_code": "该单位不在您的管辖范围内"}, status=403)
        order.unit = unit
    if assignee:
        person = User.objects.filter(username=assignee, is_active=True).select_related("unit").first()
        if person is None:
            raise DomainError({"assignee": "处理人不存在"})
        if not person.unit or not person.unit.path.startswith(order.unit.path):
            raise DomainError({"assignee": "处理人不属于责任单位"})
        order.assignee = person


@transaction.atomic
def do_reject(user, order_no, target, reason, at=None):
    order = get_order(user, order_no, for_update=True)
    at = at or timezone.now()
    if not (reason or "").strip():
        raise DomainError({"reason": "回退必须填写原因"})
    if order.status != Status.OPEN:
        raise Conflict({"to": "工单已办结，不能回退"})
    wf = workflow(order.order_type)
    if not wf.can_reject(order.stage, target):
        raise Conflict({"to": f"不能从“{order.stage_label}”回退到“{STAGE_LABELS.get(target, target)}”"})
    if not any(can(user, capability) for capability in REJECT_CAPABILITIES):
        raise PermissionDenied("您的角色无权回退工单")
    if order.stage in ("replied", "audited"):
        order.reject_count += 1  # a reply sent back counts for the quality KPI
    _move(order, target, user, at, note=reason, kind=EventKind.REJECT)
    if order.assignee_id:
        _on_commit_notify([order.assignee], "reject", f"工单 {order.order_no} 被回退", reason, order)
    return order


@transaction.atomic
def do_urge(user, order_no, note="", at=None):
    order = get_order(user, order_no, for_update=True)
    require(user, "workorder.urge")
    at = at or timezone.now()
    if order.status != Status.OPEN:
        raise Conflict({"order_no": "工单已办结，不能催办"})
    order.urge_count += 1
    order.save(update_fields=["urge_count"])
    _event(order, EventKind.URGE, user, at, note=note or "催办", count=order.urge_count)
    targets = [order.assignee] if order.assignee_id else []
    targets += _leaders(order.unit)
    _on_commit_notify(targets, "urge", f"催办：工单 {order.order_no}（第{order.urge_count}次）",
                      note or order.text[:100], order)
    return order


@transaction.atomic
def do_reassign(user, order_no, unit_code=None, assignee=None, note="", at=None):
    order = get_order(user, order_no, for_update=True)
    require(user, "workorder.reassign")
    if order.status != Status.OPEN:
        raise Conflict({"order_no": "工单已办结，不能改派"})
    if not unit_code and not assignee:
        raise DomainError({"assignee": "请指定新的责任单位或处理人"})
    at = at or timezone.now()
    before = (order.unit.code, order.assignee.username if order.assignee_id else "")
    _apply_assignment(user, order, unit_code, assignee)
    order.save()
    _event(order, EventKind.REASSIGN, user, at, note=note, before=list(before),
           after=[order.unit.code, order.assignee.username if order.assignee_id else ""])
    if order.assignee_id:
        _on_commit_notify([order.assignee], "dispatch", f"改派工单 {order.order_no}", order.text[:100], order)
    return order


@transaction.atomic
def do_merge(user, order_no, into_no, at=None):
    """Merge a duplicate into the kept order: the duplicate closes as merged, points to the kept one,
    and keeps its own history."""
    require(user, "workorder.merge")
    dup = get_order(user, order_no, for_update=True)
    keep = get_order(user, into_no, for_update=True)
    at = at or timezone.now()
    if dup.pk == keep.pk:
        raise DomainError({"into": "不能与自身合并"})
    if dup.status != Status.OPEN or keep.status != Status.OPEN:
        raise Conflict({"into": "只能合并处理中的工单"})
    if dup.customer_id != keep.customer_id or dup.customer_id is None:
        raise DomainError({"into": "只能合并同一客户的重复工单"})
    dup.merged_into = keep
    dup.status = Status.MERGED
    dup.stage = "merged"
    recompute_deadline(dup, at)
    dup.save()
    _event(dup, EventKind.MERGE, user, at, note=f"合并至 {keep.order_no}", to_stage="merged", into=keep.order_no)
    _event(keep, EventKind.MERGE, user, at, note=f"合并重复工单 {dup.order_no}", merged=dup.order_no)
    return dup, keep


def _link(user, order, earlier, at):
    if earlier.pk == order.pk:
        raise DomainError({"repeat_of": "不能关联自身"})
    if earlier.customer_id and order.customer_id and earlier.customer_id != order.customer_id:
        raise DomainError({"repeat_of": "重复来电只能关联同一客户的工单"})
    order.repeat_of = earlier
    order.save(update_fields=["repeat_of"])
    _event(order, EventKind.LINK, user, at, note=f"重复来电，关联原工单 {earlier.order_no}", earlier=earlier.order_no)
    _event(earlier, EventKind.LINK, user, at, note=f"客户再次来电：{order.order_no}", repeat=order.order_no)
    r = rule("complaint_second_call")
    if r and earlier.order_type == "complaint" and earlier.status == Status.OPEN:
        _escalate(earlier, r["level"], "投诉工单客户二次来电，升级至单位领导", user, at)


LINK_CAPABILITIES = ("create", "dispatch", "handle", "audit", "merge")


@transaction.atomic
def do_link_repeat(user, order_no, earlier_no, at=None):
    """Link a repeat call to its earlier order (both in the user's scope). Taking, dispatching, handling,
    auditing or merging orders lets one link them; seeing them alone does not (a link can escalate)."""
    if not any(can(user, f"workorder.{c}") for c in LINK_CAPABILITIES):
        raise PermissionDenied("无权关联重复来电")
    order = get_order(user, order_no, for_update=True)
    earlier = get_order(user, earlier_no, for_update=True)
    _link(user, order, earlier, at or timezone.now())
    return order


def _escalate(order, level, reason, actor, at):
    if level <= order.escalation:
        return False
    order.escalation = level
    order.escalation_reason = reason[:200]
    order.save(update_fields=["escalation", "escalation_reason"])
    _event(order, EventKind.ESCALATE, actor, at, note=reason, level=level)
    targets = _leaders(order.unit)
    if level >= Escalation.HEAD:
        head = _unit_head(order.unit)
        targets = [head] if head else targets
    _on_commit_notify(targets, "escalation", f"工单升级：{order.order_no}", reason, order,
                      dedupe=f"esc:{order.pk}:{level}")
    return True


@transaction.atomic
def do_escalate(user, order_no, level, reason, at=None):
    order = get_order(user, order_no, for_update=True)
    require(user, "workorder.escalate")
    if order.status != Status.OPEN:
        raise Conflict({"order_no": "工单已办结，不能升级"})
    if level not in (Escalation.LEADERSHIP, Escalation.HEAD):
        raise DomainError({"level": "升级级别应为1（单位领导）或2（单位负责人）"})
    if not (reason or "").strip():
        raise DomainError({"reason": "升级必须填写原因"})
    if not _escalate(order, level, reason, user, at or timezone.now()):
        raise Conflict({"level": "工单已处于该升级级别或更高"})
    return order


@transaction.atomic
def do_visit(user, order_no, satisfaction, note="", at=None):
    """回访: satisfied/neutral moves the order to 回访; dissatisfied re-opens it to handling and, at the
    first visit, escalates it to the unit's leadership. From the `dissatisfied_review` rule's visit on
    (default the 2nd), a dissatisfied customer's order is not sent back again: it moves to 回访 with the
    dissatisfaction on record and goes to the unit head (level 2) to be closed after review (经审核办结) —
    handling that cannot satisfy the customer (a demand outside policy) would otherwise loop forever."""
    order = get_order(user, order_no, for_update=True)
    require(user, "workorder.visit")
    at = at or timezone.now()
    if satisfaction not in Satisfaction.values:
        raise DomainError({"satisfaction": "满意度应为 satisfied / neutral / dissatisfied"})
    wf = workflow(order.order_type)
    if order.status != Status.OPEN or "visited" not in wf.stages or wf.next_stage(order.stage) != "visited":
        raise Conflict({"satisfaction": f"工单当前环节为“{order.stage_label}”，不能回访"})
    order.visit_count += 1
    order.satisfaction = satisfaction
    first = order.visit_count == 1
    _event(order, EventKind.VISIT, user, at, note=note, satisfaction=satisfaction, visit=order.visit_count)
    review = rule("dissatisfied_review")
    if (satisfaction == Satisfaction.DISSATISFIED and review
            and order.visit_count >= int(review.get("visits", 2))):
        _move(order, "visited", user, at, note=f"第{order.visit_count}次回访仍不满意，转单位负责人审核办结：{note}")
        level = int(review.get("level", 2))
        if order.escalation < level:
            _escalate(order, level, f"第{order.visit_count}次回访仍不满意，须审核办结", user, at)
    elif satisfaction == Satisfaction.DISSATISFIED:
        _move(order, wf.reopen_to, user, at, note=f"回访不满意，重新处理：{note}", kind=EventKind.REOPEN)
        r = rule("dissatisfied_first_visit")
        if r and first:
            _escalate(order, r["level"], "首次回访客户不满意，升级至单位领导", user, at)
        if order.assignee_id:
            _on_commit_notify([order.assignee], "reopen", f"回访不满意，工单 {order.order_no} 重新处理", note, order)
    else:
        _move(order, "visited", user, at, note=note)
    return order


def clock_may_pause(order) -> bool:
    """Whether the clock running in the order's current stage is one the rules let pause (`pausable`)."""
    wf = workflow(order.order_type)
    spec = wf.clocks.get(order.stage)
    return bool(order.status == Status.OPEN and spec and spec[0] in wf.pausable)


@transaction.atomic
def do_suspend(user, order_no, reason, at=None):
    order = get_order(user, order_no, for_update=True)
    require(user, "workorder.handle")
    if order.suspended or not clock_may_pause(order):
        raise Conflict({"reason": "该工单当前环节的时限不允许暂停"})
    if not (reason or "").strip():
        raise DomainError({"reason": "暂停计时必须填写原因（如客户要求延期）"})
    at = at or timezone.now()
    order.suspended = True
    _event(order, EventKind.SUSPEND, user, at, note=reason)
    recompute_deadline(order, at)
    order.save()
    return order


@transaction.atomic
def do_resume(user, order_no, note="", at=None):
    order = get_order(user, order_no, for_update=True)
    require(user, "workorder.handle")
    if not order.suspended:
        raise Conflict({"order_no": "工单未暂停计时"})
    at = at or timezone.now()
    order.suspended = False
    _event(order, EventKind.RESUME, user, at, note=note or "恢复计时")
    recompute_deadline(order, at)
    order.save()
    return order


# ---------------------------------------------------------------- queries
def near_breach(unit, now=None):
    """Open orders of the unit subtree whose warning time has passed but that are not yet overdue:
    one index range scan per unit on (unit, stage_warn_at)."""
    now = now or timezone.now()
    ids = list(unit.subtree().values_list("pk", flat=True))
    return WorkOrder.objects.filter(unit_id__in=ids, stage_warn_at__lte=now, stage_due_at__gt=now)


def overdue(unit, now=None):
    now = now or timezone.now()
    ids = list(unit.subtree().values_list("pk", flat=True))
    return WorkOrder.objects.filter(unit_id__in=ids, stage_due_at__lte=now)


HANDLING_STAGES = ("dispatched", "received", "contacted", "handled", "arrived", "restored")


def queue_for(user):
    """The orders waiting for this user's role, most urgent first."""
    base = scoped(WorkOrder.objects.filter(status=Status.OPEN), user).select_related(
        "unit", "customer", "assignee", "transformer_area")
    role = user.role
    if role in ("handler", "field"):
        qs = base.filter(Q(stage__in=HANDLING_STAGES) | Q(assignee=user))
    elif role == "dispatcher":
        qs = base.filter(stage__in=("accepted", "replied", "dispatched"))
    elif role == "agent":
        qs = base.filter(Q(stage="audited") | Q(created_by=user))
    elif role in ("supervisor", "admin") or user.is_superuser:
        qs = base
    else:
        qs = base.none()
    from django.db.models import F

    return qs.order_by(F("stage_due_at").asc(nulls_last=True), "accepted_at")


def customer_context(user, customer, now=None):
    """What the agent sees at once on a call: open orders, the last 90 days, sensitive flags and
    (when the outages capability is installed) current outages."""
    now = now or timezone.now()
    orders = WorkOrder.objects.filter(customer=customer).order_by("-accepted_at")
    recent = list(orders.filter(accepted_at__gte=now - timedelta(days=90))[:50])
    open_orders = list(orders.filter(status=Status.OPEN)[:50])
    sensitive = customer.sensitive and (customer.sensitive_until is None or customer.sensitive_until > now)
    ctx = {"customer": customer, "open_orders": open_orders, "recent_orders": recent,
           "sensitive": sensitive, "sensitive_reason": customer.sensitive_reason if sensitive else "",
           "outages": []}
    for hook in CONTEXT_HOOKS:
        hook(customer, ctx, now)
    return ctx


CONTEXT_HOOKS = []  # later capabilities (outages) add functions(customer, ctx, now)


def dashboard_data(unit, limit=20, now=None):
    """Near-breach and overdue counts for the unit and each child unit, plus the most urgent orders."""
    from django.db.models import Count

    now = now or timezone.now()
    near_qs, over_qs = near_breach(unit, now), overdue(unit, now)
    per_unit_near = dict(near_qs.values_list("unit_id").annotate(n=Count("id")))
    per_unit_over = dict(over_qs.values_list("unit_id").annotate(n=Count("id")))
    by_unit = []
    children = list(unit.children.all()) or [unit]
    all_units = {u.pk: u for u in unit.subtree()}
    for child in children:
        ids = [pk for pk, u in all_units.items() if u.path.startswith(child.path)]
        by_unit.append({"unit_code": child.code, "unit_name": child.name,
                        "near_breach": sum(per_unit_near.get(i, 0) for i in ids),
                        "overdue": sum(per_unit_over.get(i, 0) for i in ids)})
    sel = ("unit", "customer", "transformer_area", "assignee", "repeat_of", "merged_into")
    return {"unit_code": unit.code, "near_breach": sum(per_unit_near.values()), "overdue": sum(per_unit_over.values()),
            "by_unit": by_unit,
            "near_breach_orders": list(near_qs.select_related(*sel).order_by("stage_due_at")[:limit]),
            "overdue_orders": list(over_qs.select_related(*sel).order_by("stage_due_at")[:limit])}
