"""Exchange format of the work-order engine: workorders.csv (formats.md) — historic 95598 orders with
their stage timestamps, imported as WorkOrder rows plus the StageEvent history the clocks and reports
derive from, and exported with the same columns.

Stage columns. The format has one timestamp column per stage of the complaint workflow. Each order
type uses the columns of the stages its workflow has (workflow.py); a timestamp in a column the type
has no stage for is an error. Fault repairs have no 接单/联系客户 stages but 到达现场 and 恢复送电, which
the format carries in `contacted_at` (到达现场: the crew meets the customer) and `handled_at`
(恢复送电: the repair is done); the export writes them back there.

History. Each present timestamp becomes an ADVANCE event from the previous present stage (a skipped
stage is allowed: older systems did not record every step), after a CREATE event at accepted_at. An
order with closed_at is closed; otherwise it is open at its last present stage, with the stage's
deadline computed by the clock functions (`open_stage_deadline`, the same rules as
services.recompute_deadline, with the calendar and warning fraction loaded once per import instead of
once per order). Its `sla_state` is left at 正常: the SLA sweep marks overdue orders and notifies on its
next run, as it does for orders entered through the application. Escalation rules are not re-applied
to history.

Export: the first time an order entered each stage (a reopened order re-enters stages; the first pass
is the one the columns describe, so the exported timestamps never go backwards). Merged orders
(已合并) are not exported: merging is an operation of the application, not part of the format.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict

from django.db.models import Q
from django.utils import timezone

from gridcare.accounts.models import OrgUnit
from gridcare.core.api_support import DomainError
from gridcare.core.exports import Exporter, register_exporter
from gridcare.core.imports import Importer, parse_choice, parse_datetime, register_importer
from gridcare.core.taxonomy import (area_kind_choices, category_l1_choices, category_l2_choices, category_parent,
                                    fault_kind_choices, order_type_choices)
from gridcare.core.workcalendar import get_calendar
from gridcare.customers.models import Customer
from gridcare.grid.models import TransformerArea

from . import clock
from .choices import Channel, EventKind, Satisfaction, Status
from .models import EscalationRule, StageEvent, WorkOrder
from .workflow import STAGE_LABELS, workflow

WORKORDER_COLUMNS = ("order_no", "order_type", "category_l1", "category_l2", "fault_kind", "channel", "account_no",
                     "caller_phone", "area_kind", "unit_code", "taiqu_code", "accepted_at", "text",
                     "dispatched_at", "received_at", "contacted_at", "handled_at", "replied_at", "audited_at",
                     "visited_at", "closed_at", "satisfaction", "repeat_of")
STAGE_COLUMNS = ("dispatched_at", "received_at", "contacted_at", "handled_at", "replied_at", "audited_at",
                 "visited_at", "closed_at")
# column -> stage, per order type where it differs from the column's name
_FAULT_STAGE_OF_COLUMN = {"contacted_at": "arrived", "handled_at": "restored"}

WORKORDER_LABELS = {
    "order_no": "工单编号（唯一）",
    "order_type": "业务类型：" + "、".join(f"{c} {label}" for c, label in order_type_choices()),
    "category_l1": "投诉一级分类（仅投诉；可空，由二级分类推出）",
    "category_l2": "投诉二级分类（投诉必填）",
    "fault_kind": "故障类型（故障报修必填）：" + "、".join(f"{c} {label}" for c, label in fault_kind_choices()),
    "channel": "受理渠道：" + "、".join(f"{c} {label}" for c, label in Channel.choices),
    "account_no": "户号（非客户来电可空，此时需填区域类型和责任单位或台区）",
    "caller_phone": "来电号码",
    "area_kind": "区域类型：" + "、".join(f"{c} {label}" for c, label in area_kind_choices()),
    "unit_code": "责任单位编码",
    "taiqu_code": "台区编码",
    "accepted_at": "受理时间（ISO 8601，不带时区按北京时间）",
    "text": "受理内容",
    "dispatched_at": "派单时间",
    "received_at": "接单时间",
    "contacted_at": "联系客户时间（故障报修：到达现场时间）",
    "handled_at": "处理完成时间（故障报修：恢复送电时间）",
    "replied_at": "回单时间",
    "audited_at": "审核时间",
    "visited_at": "回访时间",
    "closed_at": "归档时间（空 = 工单仍在处理中）",
    "satisfaction": "满意度：" + "、".join(f"{c} {label}" for c, label in Satisfaction.choices),
    "repeat_of": "重复来电的原工单编号（须在本文件前面的行或系统中）",
}
_ORDER_NO = re.compile(r"^[0-9A-Za-z_-]+$")
FUTURE_SLACK = dt.timedelta(minutes=5)


# ---------------------------------------------------------------------------------------------------
# Stages and deadlines (shared with demo.py)


def stage_of_column(order_type: str, column: str) -> str:
    if order_type == "fault_repair" and column in _FAULT_STAGE_OF_COLUMN:
        return _FAULT_STAGE_OF_COLUMN[column]
    return column[: -len("_at")]


def column_of_stage(order_type: str, stage: str) -> str | None:
    for column in STAGE_COLUMNS:
        if stage_of_column(order_type, column) == stage:
            return column
    return None


def open_stage_deadline(order_type: str, stage: str, area_kind: str, accepted_at: dt.datetime,
                        stage_entered_at: dt.datetime, calendar, fraction_left: float):
    """(limit key, due, warn) of an open, never-suspended order in `stage`; ("", None, None) when the
    stage has no clock. The rules of services.recompute_deadline, for bulk use: the caller loads the
    calendar (get_calendar()) and the warning fraction once and passes them in."""
    spec = workflow(order_type).clocks.get(stage)
    if spec is None:
        return "", None, None
    key, start_ref = spec
    start = accepted_at if start_ref == "accepted" else stage_entered_at
    limit = clock.limit_for(order_type, key, area_kind)
    due = clock.due_at(start, limit, calendar)
    warn = clock.warn_at(start, due, fraction_left, limit=limit, calendar=calendar)
    return key, due, warn


def warning_fraction() -> float:
    """The sla_warning rule's fraction (read once per batch, not per order)."""
    row = EscalationRule.objects.filter(code="sla_warning", enabled=True).only("params").first()
    return float((row.params if row else {}).get("fraction_left", 0.25))


# ---------------------------------------------------------------------------------------------------
# Import


class WorkOrderImporter(Importer):
    label = "工单"
    columns = WORKORDER_COLUMNS
    required_columns = ("order_no", "order_type", "channel", "accepted_at", "text")
    column_labels = WORKORDER_LABELS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = timezone.now()
        self.calendar = get_calendar()
        self.fraction = warning_fraction()
        self.customers: dict[str, Customer] = {}
        self.units: dict[str, OrgUnit] = {}
        self.units_by_pk: dict[int, OrgUnit] = {}
        self.taiqus: dict[str, TransformerArea] = {}
        self.existing: set[str] = set()
        # order_no -> (order or (pk, customer_id, accepted_at) from the DB)
        self.known: dict[str, object] = {}
        self.first_row: dict[str, int] = {}
        self.rejected: set[str] = set()
        self.type_choices = order_type_choices()
        self.l1_choices = category_l1_choices()
        self.l2_choices = category_l2_choices()
        self.fault_choices = fault_kind_choices()
        self.area_choices = area_kind_choices()

    def prefetch(self, rows):
        numbers = {r.text("order_no") for r in rows} - {""}
        self.existing |= set(WorkOrder.objects.filter(order_no__in=numbers).values_list("order_no", flat=True))
        if refs := {r.text("repeat_of") for r in rows} - set(self.known) - {""}:
            for pk, no, customer_id, accepted_at in WorkOrder.objects.filter(order_no__in=refs).values_list(
                    "pk", "order_no", "customer_id", "accepted_at"):
                self.known[no] = (pk, customer_id, accepted_at)
        if accounts := {r.text("account_no") for r in rows} - set(self.customers) - {""}:
            self.customers.update({c.account_no: c for c in Customer.objects.filter(account_no__in=accounts)
                                   .select_related("transformer_area")})
        if codes := {r.text("taiqu_code") for r in rows} - set(self.taiqus) - {""}:
            self.taiqus.update({t.code: t for t in TransformerArea.objects.filter(code__in=codes)})
        # the units named in the chunk, and those of its customers and 台区 (the default 责任单位)
        codes = {r.text("unit_code") for r in rows} - set(self.units) - {""}
        pks = ({c.unit_id for c in self.customers.values()} | {t.unit_id for t in self.taiqus.values()}) \
            - set(self.units_by_pk)
        if codes or pks:
            for u in OrgUnit.objects.filter(Q(code__in=codes) | Q(pk__in=pks)):
                self.units[u.code] = self.units_by_pk[u.pk] = u

    # -- validation ---------------------------------------------------------------------------------
    def validate_row(self, row):
        errors = []
        order_no = self.text(row, "order_no", errors, max_length=WorkOrder._meta.get_field("order_no").max_length,
                             required=True)
        if order_no:
            if not _ORDER_NO.match(order_no):
                errors.append(row.error("order_no", f"工单编号只能包含字母、数字、“-”和“_”（当前为“{order_no}”）"))
            elif order_no in self.first_row:
                errors.append(row.error("order_no", f"工单编号与第{self.first_row[order_no]}行重复"))
            elif order_no in self.existing:
                errors.append(row.error("order_no", f"工单编号已存在：{order_no}（导入只新增，不修改已有工单）"))
        order_type = self.parsed(row, "order_type", parse_choice, errors, self.type_choices, required=True)
        l1, l2, fault_kind = self._codes(row, order_type, errors)
        channel = self.parsed(row, "channel", parse_choice, errors, Channel.choices, required=True)
        customer, unit, taiqu, area_kind = self._place(row, errors)
        caller_phone = self.text(row, "caller_phone", errors,
                                 max_length=WorkOrder._meta.get_field("caller_phone").max_length)
        if caller_phone and not re.fullmatch(r"[0-9+\-() ]{3,20}", caller_phone):
            errors.append(row.error("caller_phone", f"来电号码只能包含数字和“+-()”（当前为“{caller_phone}”）"))
        accepted_at = self._moment(row, "accepted_at", errors, required=True)
        text = self.text(row, "text", errors, required=True)
        stages = self._stages(row, order_type, accepted_at, errors)
        satisfaction = self.parsed(row, "satisfaction", parse_choice, errors, Satisfaction.choices) or ""
        repeat_of = self._repeat_of(row, order_no, customer, accepted_at, errors)
        if order_no and order_no not in self.first_row:
            self.first_row[order_no] = row.number

        order = None
        if not errors:
            order = WorkOrder(
                order_no=order_no, order_type=order_type, channel=channel, category_l1=l1, category_l2=l2,
                fault_kind=fault_kind, customer=customer, caller_name=customer.name[:50] if customer else "",
                caller_phone=caller_phone or (customer.phone if customer else ""), area_kind=area_kind, unit=unit,
                transformer_area=taiqu, text=text, accepted_at=accepted_at, satisfaction=satisfaction,
                visit_count=1 if any(s == "visited" for s, _ in stages) and satisfaction else 0)
            if isinstance(repeat_of, WorkOrder):
                order.repeat_of = repeat_of
            elif repeat_of is not None:
                order.repeat_of_id = repeat_of[0]
            last_stage, last_at = stages[-1] if stages else ("accepted", accepted_at)
            order.stage, order.stage_entered_at = last_stage, last_at
            if last_stage == "closed":
                order.status, order.closed_at = Status.CLOSED, last_at
            else:
                try:
                    order.stage_limit_key, order.stage_due_at, order.stage_warn_at = open_stage_deadline(
                        order_type, last_stage, area_kind, accepted_at, last_at, self.calendar, self.fraction)
                except DomainError as exc:  # e.g. a working-day limit in a year the calendar does not cover
                    column = column_of_stage(order_type, last_stage) or "accepted_at"
                    errors.append(row.error(column, f"无法计算当前环节时限：{_message(exc)}"))
        if errors:
            if order_no and order_no not in self.known:
                self.rejected.add(order_no)
            return None, errors
        self.known[order_no] = order
        return (order, stages, row.text("repeat_of")), []

    def _moment(self, row, column, errors, required=False):
        value = self.parsed(row, column, parse_datetime, errors, required=required)
        if value is not None and value > self.now + FUTURE_SLACK:
            errors.append(row.error(column, f"时间不能晚于当前时间（当前为“{row.text(column)}”）"))
            return None
        return value

    def _codes(self, row, order_type, errors):
        l1 = self.parsed(row, "category_l1", parse_choice, errors, self.l1_choices) or ""
        l2 = self.parsed(row, "category_l2", parse_choice, errors, self.l2_choices) or ""
        fault_kind = self.parsed(row, "fault_kind", parse_choice, errors, self.fault_choices) or ""
        if order_type == "complaint":
            if not l2 and row.get("category_l2") is None:
                errors.append(row.error("category_l2", "投诉工单必须填写二级分类"))
            elif l2 and l1 and category_parent(l2) != l1:
                errors.append(row.error("category_l2", f"二级分类 {l2} 不属于一级分类 {l1}"
                                                       f"（应属于 {category_parent(l2)}）"))
            elif l2:
                l1 = category_parent(l2)
        elif order_type:
            for column in ("category_l1", "category_l2"):
                if row.get(column) is not None:
                    errors.append(row.error(column, "只有投诉工单有投诉分类，请留空"))
        if order_type == "fault_repair":
            if row.get("fault_kind") is None:
                errors.append(row.error("fault_kind", "故障报修工单必须填写故障类型"))
        elif order_type and row.get("fault_kind") is not None:
            errors.append(row.error("fault_kind", "只有故障报修工单有故障类型，请留空"))
        return l1, l2, fault_kind

    def _place(self, row, errors):
        """The customer (optional) and where the problem is: unit, 台区 and area kind. As at intake: a
        given taiqu_code or unit_code overrides the customer's, area_kind defaults to the customer's or
        the 台区's."""
        customer = unit = taiqu = None
        if account_no := row.text("account_no"):
            customer = self.customers.get(account_no)
            if customer is None:
                errors.append(row.error("account_no", f"户号不存在：{account_no}"))
        if taiqu_code := row.text("taiqu_code"):
            taiqu = self.taiqus.get(taiqu_code)
            if taiqu is None:
                errors.append(row.error("taiqu_code", f"台区编码不存在：{taiqu_code}"))
        elif customer is not None:
            taiqu = customer.transformer_area
        if unit_code := row.text("unit_code"):
            unit = self.units.get(unit_code)
            if unit is None:
                errors.append(row.error("unit_code", f"单位编码不存在：{unit_code}"))
        elif customer is not None:
            unit = self.units_by_pk[customer.unit_id]
        elif taiqu is not None:
            unit = self.units_by_pk[taiqu.unit_id]
        elif not account_no and not taiqu_code:
            errors.append(row.error("unit_code", "无户号时必须填写责任单位编码或台区编码"))
        area_kind = self.parsed(row, "area_kind", parse_choice, errors, self.area_choices)
        if area_kind is None and row.get("area_kind") is None:
            area_kind = customer.area_kind if customer else (taiqu.area_kind if taiqu else None)
            if area_kind is None and (unit is not None or taiqu_code or unit_code):
                errors.append(row.error("area_kind", "无户号和台区时必须填写区域类型"))
        return customer, unit, taiqu, area_kind or ""

    def _stages(self, row, order_type, accepted_at, errors) -> list[tuple[str, dt.datetime]]:
        """The present stage timestamps in workflow order; errors for a column the type has no stage for
        and for a timestamp earlier than the one before it."""
        if not order_type:
            return []
        wf = workflow(order_type)
        found = []
        for column in STAGE_COLUMNS:
            if row.get(column) is None:
                continue
            stage = stage_of_column(order_type, column)
            if stage not in wf.stages:
                label = dict(order_type_choices())[order_type]
                errors.append(row.error(column, f"{label}工单没有“{STAGE_LABELS.get(stage, stage)}”环节，请留空"))
                continue
            at = self._moment(row, column, errors)
            if at is not None:
                found.append((wf.stages.index(stage), stage, column, at))
        found.sort()
        previous_column, previous_at = "accepted_at", accepted_at
        for _index, _stage, column, at in found:
            if previous_at is not None and at < previous_at:
                errors.append(row.error(column, f"时间早于{WORKORDER_LABELS[previous_column].split('（')[0]}"
                                                f"（{previous_column}）：环节时间不能倒退"))
            previous_column, previous_at = column, at
        return [(stage, at) for _i, stage, _c, at in found]

    def _repeat_of(self, row, order_no, customer, accepted_at, errors):
        ref = row.text("repeat_of")
        if not ref:
            return None
        if ref == order_no:
            errors.append(row.error("repeat_of", "不能关联本工单自身"))
            return None
        if ref in self.rejected:
            errors.append(row.error("repeat_of", f"原工单 {ref} 所在的第{self.first_row[ref]}行未通过校验"))
            return None
        earlier = self.known.get(ref)
        if earlier is None:
            errors.append(row.error("repeat_of", f"原工单不存在：{ref}（同一文件中的原工单须写在前面的行）"))
            return None
        if isinstance(earlier, WorkOrder):
            customer_id, earlier_at = earlier.customer_id, earlier.accepted_at
        else:
            _pk, customer_id, earlier_at = earlier
        if customer is not None and customer_id is not None and customer_id != customer.pk:
            errors.append(row.error("repeat_of", f"重复来电只能关联同一客户的工单（原工单 {ref} 属于另一户号）"))
        if accepted_at is not None and earlier_at is not None and earlier_at > accepted_at:
            errors.append(row.error("repeat_of", f"原工单 {ref} 的受理时间晚于本工单"))
        return earlier

    # -- writing ------------------------------------------------------------------------------------
    def write(self, valid):
        # A repeat call's original must be stored before it. Rows are written in file order, in runs cut
        # before a row whose original is still unsaved in the current run, so that ids follow the file
        # (the export lists orders by acceptance time, then id).
        run = []
        for order, _stages, _ref in valid:
            if not _link_ready(order):
                self.create(run)
                run = []
            run.append(order)
        self.create(run)
        for order, _stages, _ref in valid:  # later rows refer to them by pk; the objects can go
            self.known[order.order_no] = (order.pk, order.customer_id, order.accepted_at)
        events = []
        for order, stages, ref in valid:
            events += history_events(order, stages, repeat_of_no=ref, note="历史工单导入")
        StageEvent.objects.bulk_create(events, batch_size=2000)


def _link_ready(order) -> bool:
    """Its original (if any) is stored, so bulk_create can take the original's pk."""
    if order.repeat_of_id is not None:
        return True
    target = order._state.fields_cache.get("repeat_of")
    return target is None or target.pk is not None


def _message(exc: DomainError) -> str:
    errors = getattr(exc, "errors", None)
    if isinstance(errors, dict):
        return "；".join(str(v) for v in errors.values())
    return str(errors or exc)


def history_events(order: WorkOrder, stages: list[tuple[str, dt.datetime]], repeat_of_no: str = "",
                   note: str = "") -> list[StageEvent]:
    """CREATE at acceptance, an ADVANCE per present stage, a VISIT with the satisfaction, and the LINK
    of a repeat call (on both orders, as the application writes it)."""
    channel = Channel(order.channel).label
    events = [StageEvent(order=order, kind=EventKind.CREATE, to_stage="accepted", at=order.accepted_at,
                         note=f"{channel}受理" + (f"（{note}）" if note else ""), data={"source": "import"})]
    previous = "accepted"
    for stage, at in stages:
        if stage == "visited" and order.satisfaction:
            events.append(StageEvent(order=order, kind=EventKind.VISIT, at=at, from_stage=previous,
                                     to_stage=previous, note=note, data={"satisfaction": order.satisfaction,
                                                                         "visit": 1}))
        events.append(StageEvent(order=order, kind=EventKind.ADVANCE, from_stage=previous, to_stage=stage, at=at,
                                 note=note))
        previous = stage
    if order.repeat_of_id:
        earlier_no = repeat_of_no or order.repeat_of.order_no
        events.append(StageEvent(order=order, kind=EventKind.LINK, at=order.accepted_at,
                                 note=f"重复来电，关联原工单 {earlier_no}", data={"earlier": earlier_no}))
        events.append(StageEvent(order_id=order.repeat_of_id, kind=EventKind.LINK, at=order.accepted_at,
                                 note=f"客户再次来电：{order.order_no}", data={"repeat": order.order_no}))
    return events


# ---------------------------------------------------------------------------------------------------
# Export


class WorkOrderExporter(Exporter):
    label = "工单"
    columns = WORKORDER_COLUMNS
    column_labels = WORKORDER_LABELS
    widths = {"order_no": 18, "order_type": 16, "category_l2": 20, "fault_kind": 16, "account_no": 13,
              "caller_phone": 15, "accepted_at": 26, "text": 60, **{c: 26 for c in STAGE_COLUMNS},
              "repeat_of": 18}
    chunk_size = 2000

    def queryset(self):
        # Oldest first, so that an original order is always written above its repeat calls.
        return (WorkOrder.objects.exclude(status=Status.MERGED)
                .select_related("customer", "unit", "transformer_area", "repeat_of").order_by("accepted_at", "id"))

    def rows(self, queryset=None):
        qs = self.queryset() if queryset is None else queryset.exclude(status=Status.MERGED)
        chunk = []
        for order in qs.iterator(chunk_size=self.chunk_size):
            chunk.append(order)
            if len(chunk) >= self.chunk_size:
                yield from self._rows(chunk)
                chunk = []
        if chunk:
            yield from self._rows(chunk)

    def _rows(self, orders):
        """One query for the chunk's history: the first entry into each stage."""
        first: dict[int, dict[str, dt.datetime]] = defaultdict(dict)
        events = (StageEvent.objects.filter(order_id__in=[o.pk for o in orders],
                                            kind__in=[EventKind.CREATE, EventKind.ADVANCE])
                  .order_by("at", "id").values_list("order_id", "to_stage", "at"))
        for order_id, stage, at in events:
            first[order_id].setdefault(stage, at)
        for order in orders:
            yield self.row(order, first.get(order.pk, {}))

    def row(self, o, entered=None):
        entered = entered or {}
        stage_values = []
        for column in STAGE_COLUMNS:
            if column == "closed_at":
                stage_values.append(o.closed_at if o.status == Status.CLOSED else None)
            else:
                stage_values.append(entered.get(stage_of_column(o.order_type, column)))
        return [o.order_no, o.order_type, o.category_l1 or None, o.category_l2 or None, o.fault_kind or None,
                o.channel, o.customer.account_no if o.customer_id else None, o.caller_phone or None,
                o.area_kind, o.unit.code, o.transformer_area.code if o.transformer_area_id else None,
                o.accepted_at, o.text, *stage_values, o.satisfaction or None,
                o.repeat_of.order_no if o.repeat_of_id else None]


register_importer("workorders", WorkOrderImporter)
register_exporter("workorders", WorkOrderExporter)
