"""Agent and unit KPIs (绩效考核) and the dashboards' figures: SQL aggregations, grouped rows only."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Q, Sum
from django.utils import timezone

from gridcare.accounts.models import OrgUnit, User
from gridcare.workorders.choices import SlaState, Status
from gridcare.workorders.clock import STAGE_LABELS as LIMIT_LABELS
from gridcare.workorders.models import WorkOrder

from . import reports, rules
from .models import ComplaintFact, OrderDaily, StageFact

KPI_STAGES = ("dispatch", "receive", "contact", "handle", "arrival", "restoration_after_arrival", "audit", "visit")


def _orders(ids, period):
    return WorkOrder.objects.filter(unit_id__in=ids, accepted_at__gte=period.start_at, accepted_at__lt=period.end_at)


def _stage_rows(ids, period, field, now):
    qs = StageFact.objects.filter(unit_id__in=ids, accepted_at__gte=period.start_at, accepted_at__lt=period.end_at)
    out = defaultdict(dict)
    for r in qs.values(field, "limit_key").annotate(n=Count("pk"), overdue=Count("pk", filter=reports.overdue_q(now))
                                                   ).order_by():
        out[r[field]][r["limit_key"]] = {"count": r["n"], "on_time": r["n"] - r["overdue"],
                                         "on_time_rate": rules.share(r["n"] - r["overdue"], r["n"])}
    return out


def _people_rows(qs, field):
    return {r[field]: r for r in qs.values(field).annotate(
        orders=Count("pk"), rejects=Sum("reject_count"), flagged=Count("pk", filter=~Q(quality_flags=[])),
        visited=Count("pk", filter=~Q(satisfaction="")), satisfied=Count("pk", filter=Q(satisfaction="satisfied")),
    ).order_by()}


def unit_kpis(unit: OrgUnit, period: rules.Period, now: dt.datetime | None = None) -> list[dict]:
    """Per unit of the subtree that has orders in the period."""
    now = now or timezone.now()
    ids = reports.subtree_ids(unit)
    people = _people_rows(_orders(ids, period).exclude(status=Status.MERGED), "unit_id")
    complaints = {r["unit_id"]: r["n"] for r in reports.complaint_facts(ids, period).values("unit_id")
                  .annotate(n=Count("pk")).order_by()}
    stages = _stage_rows(ids, period, "unit_id", now)
    units = {u.pk: u for u in OrgUnit.objects.filter(pk__in=set(people) | set(complaints))}
    rows = []
    for pk, u in units.items():
        rows.append(_kpi_row(u.code, u.name, people.get(pk, {}), stages.get(pk, {}), complaints.get(pk, 0)))
    rows.sort(key=lambda r: (-(r["on_time_rate"] or 0), r["complaints"], r["code"]))
    for i, r in enumerate(rows, start=1):
        r["rank"] = i
    return rows


def agent_kpis(unit: OrgUnit, period: rules.Period, now: dt.datetime | None = None) -> list[dict]:
    """Per person: the orders assigned to them, and the stages they moved on (on time or not)."""
    now = now or timezone.now()
    ids = reports.subtree_ids(unit)
    people = _people_rows(_orders(ids, period).exclude(status=Status.MERGED).filter(assignee__isnull=False),
                          "assignee_id")
    complaints = {r["assignee_id"]: r["n"] for r in _orders(ids, period).filter(order_type="complaint",
                  assignee__isnull=False).values("assignee_id").annotate(n=Count("pk")).order_by()}
    stages = _stage_rows(ids, period, "actor_id", now)
    users = {u.pk: u for u in User.objects.filter(pk__in=(set(people) | set(stages)) - {None})}
    rows = []
    for pk, u in users.items():
        row = _kpi_row(u.username, u.name or u.username, people.get(pk, {}), stages.get(pk, {}),
                       complaints.get(pk, 0))
        row["role"] = u.get_role_display()
        rows.append(row)
    rows.sort(key=lambda r: (-r["handled"], r["code"]))
    return rows


def _kpi_row(code, name, p, stages, complaints):
    total = sum(s["count"] for s in stages.values())
    on_time = sum(s["on_time"] for s in stages.values())
    visited = p.get("visited", 0)
    return {"code": code, "name": name, "orders": p.get("orders", 0),
            "handled": sum(s["count"] for k, s in stages.items()),
            "stages": {k: {**v, "label": LIMIT_LABELS.get(k, k)} for k, v in stages.items()},
            "on_time_rate": rules.share(on_time, total) if total else None,
            "rejects": p.get("rejects") or 0, "quality_flagged": p.get("flagged", 0),
            "satisfaction_rate": rules.share(p.get("satisfied", 0), visited) if visited else None,
            "complaints": complaints}


# ------------------------------------------------------------------------------------------ dashboards


def supervisor_dashboard(user, unit: OrgUnit, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    ids = reports.subtree_ids(unit)
    today = timezone.localdate(now)
    start_today = dt.datetime.combine(today, dt.time(), rules.TZ)
    orders = WorkOrder.objects.filter(unit_id__in=ids)
    open_orders = orders.filter(status=Status.OPEN)
    overdue_by_unit = list(open_orders.filter(stage_due_at__lt=now).values("unit__code", "unit__name")
                           .annotate(n=Count("pk")).order_by("-n", "unit__code")[:20])
    this_month = rules.preset_period("month", today)
    last_month = rules.preset_period("last_month", today)
    by_day = {}
    for key, p in (("this", this_month), ("last", last_month)):
        rows = {r["day"]: r["n"] for r in reports.complaint_facts(ids, p).values("day").annotate(n=Count("pk"))
                .order_by()}
        by_day[key] = [rows.get(p.start + dt.timedelta(days=i), 0) for i in range(p.days)]
    return {
        "today_intake": orders.filter(accepted_at__gte=start_today, accepted_at__lte=now).count(),
        "open": open_orders.count(),
        "near_breach": open_orders.filter(stage_warn_at__lte=now, stage_due_at__gt=now).count(),
        "overdue": open_orders.filter(stage_due_at__lte=now).count(),
        "overdue_by_unit": [{"code": r["unit__code"], "name": r["unit__name"], "overdue": r["n"]}
                            for r in overdue_by_unit],
        "complaints_this_month": sum(by_day["this"]), "complaints_last_month": sum(by_day["last"]),
        "complaints_by_day": by_day, "month_label": this_month.label(), "last_month_label": last_month.label(),
    }


def live_board(unit: OrgUnit, now: dt.datetime | None = None) -> dict:
    """The dispatch centre's live page: today's intake per hour and type, open orders per stage, the
    orders closest to their deadline."""
    now = now or timezone.now()
    ids = reports.subtree_ids(unit)
    start_today = dt.datetime.combine(timezone.localdate(now), dt.time(), rules.TZ)
    from django.db.models.functions import ExtractHour

    hours = {r["h"]: r["n"] for r in WorkOrder.objects.filter(
        unit_id__in=ids, accepted_at__gte=start_today, accepted_at__lte=now).annotate(
        h=ExtractHour("accepted_at", tzinfo=rules.TZ)).values("h").annotate(n=Count("pk")).order_by()}
    per_hour = [hours.get(h, 0) for h in range(24)]
    open_orders = WorkOrder.objects.filter(unit_id__in=ids, status=Status.OPEN)
    from gridcare.workorders.workflow import STAGE_LABELS

    by_stage = [{"stage": r["stage"], "label": STAGE_LABELS.get(r["stage"], r["stage"]), "n": r["n"]}
                for r in open_orders.values("stage").annotate(n=Count("pk")).order_by("stage")]
    urgent = list(open_orders.filter(stage_due_at__isnull=False).select_related("unit")
                  .order_by("stage_due_at")[:15])
    return {"per_hour": per_hour, "today": sum(per_hour), "by_stage": by_stage, "urgent": urgent, "now": now,
            "warning": open_orders.filter(sla_state=SlaState.WARNING).count(),
            "overdue": open_orders.filter(stage_due_at__lte=now).count()}


def daily_orders(ids, period) -> int:
    return OrderDaily.objects.filter(unit_id__in=ids, day__gte=period.start, day__lte=period.end).aggregate(
        n=Sum("orders"))["n"] or 0


def complaints_count(ids, period) -> int:
    return ComplaintFact.objects.filter(unit_id__in=ids, accepted_at__gte=period.start_at,
                                        accepted_at__lt=period.end_at).count()
