"""Keeping the reporting store (models.py) up to date.

`refresh()` is incremental: the orders with StageEvent rows newer than the watermark are rebuilt
(their facts deleted and written again), in bounded batches, and the watermark moves on; ids missing
below it are looked for again for a while (`GAP_WAIT`), for events that commit after later ones. Every change
the work-order engine makes writes a StageEvent, so an order whose facts may have changed always shows
up. Safe to run twice and concurrently with itself (a second run finds nothing new, or rebuilds the
same orders to the same rows). `rebuild_all()` starts again from nothing (after a bulk load by SQL).

The work per order (stage deadlines on the working-day calendar, jieba segmentation) is done here,
once per change, never while a report runs.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from gridcare.core.api_support import DomainError
from gridcare.core.workcalendar import get_calendar
from gridcare.workorders import clock
from gridcare.workorders.models import StageEvent, WorkOrder
from gridcare.workorders.workflow import WORKFLOWS

from . import rules
from .models import COMPLAINT_STAGE_KEYS, ComplaintFact, FactWatermark, OrderDaily, StageFact

TZ = rules.TZ
HISTORY_KINDS = ("create", "advance", "reopen", "reject")
WATERMARK = "stage_events"


# An id below the watermark that was missing when it moved on is looked for again on each run for this long:
# its transaction may commit after a later one did (an intake holds its event until COMMIT; ids are given
# when a row is written, not when it commits). Longer than any transaction that writes StageEvents.
GAP_WAIT = dt.timedelta(minutes=30)
MAX_GAPS = 2000  # ranges kept; beyond that the oldest are given up


def refresh(batch_events: int = 20000, max_batches: int | None = None, progress=None) -> dict:
    """Brings the facts up to date; returns {"orders": rebuilt, "events": last event id}.

    The watermark is the last StageEvent id processed. Ids missing below it when it moved on (a transaction
    rolled back, or not committed yet while a later one had) are kept as ranges and looked for on each run
    for GAP_WAIT; an event found there has its order rebuilt like any new one."""
    wm, _ = FactWatermark.objects.get_or_create(name=WATERMARK)
    last, batches = wm.last_event_id, 0
    rebuilt, gaps = _recheck_gaps(wm.pending_gaps)
    total = StageEvent.objects.filter(id__gt=last).count() if progress else 0
    done = 0
    while max_batches is None or batches < max_batches:
        rows = list(StageEvent.objects.filter(id__gt=last).order_by("id").values_list("id", "order_id")[:batch_events])
        if not rows:
            break
        ids = sorted({order_id for _id, order_id in rows})
        seen = timezone.now().timestamp()
        gaps = (gaps + [[lo, hi, seen] for lo, hi in rules.id_gaps(last, [i for i, _o in rows])])[-MAX_GAPS:]
        with transaction.atomic():
            rebuilt += rebuild_orders(ids)
            last = rows[-1][0]
            FactWatermark.objects.filter(name=WATERMARK).update(last_event_id=last, pending_gaps=gaps)
        batches += 1
        done += len(rows)
        if progress and total:
            progress(min(done / total, 1.0))
    return {"orders": rebuilt, "events": last}


def _recheck_gaps(gaps: list) -> tuple[int, list]:
    """Rebuilds the orders of events that have appeared in the pending gaps; returns (orders rebuilt, the
    gaps still pending). Gaps older than GAP_WAIT are given up."""
    cutoff = (timezone.now() - GAP_WAIT).timestamp()
    live = [g for g in gaps if g[2] >= cutoff]
    found = []
    if live:
        q = Q()
        for lo, hi, _seen in live:
            q |= Q(id__gte=lo, id__lte=hi)
        found = list(StageEvent.objects.filter(q).values_list("id", "order_id"))
    rebuilt = 0
    remaining = live
    if found:
        remaining = [list(g) for g in rules.without_ids(live, [i for i, _o in found])]
    if found or len(remaining) != len(gaps):
        with transaction.atomic():
            if found:
                rebuilt = rebuild_orders(sorted({o for _i, o in found}))
            FactWatermark.objects.filter(name=WATERMARK).update(pending_gaps=remaining)
    return rebuilt, remaining


def rebuild_all() -> dict:
    with transaction.atomic():
        ComplaintFact.objects.all().delete()
        StageFact.objects.all().delete()
        OrderDaily.objects.all().delete()
        FactWatermark.objects.update_or_create(name=WATERMARK, defaults={"last_event_id": 0, "pending_gaps": []})
    return refresh()


def _local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(TZ)


def rebuild_orders(order_ids: list[int], chunk: int = 2000) -> int:
    """Deletes and rewrites the facts of these orders, and the daily counts of the days they fall on."""
    cal = get_calendar()
    count = 0
    days: set[dt.date] = set()
    for start in range(0, len(order_ids), chunk):
        ids = order_ids[start:start + chunk]
        orders = list(WorkOrder.objects.filter(pk__in=ids).values(
            "pk", "order_type", "area_kind", "accepted_at", "unit_id", "category_l1", "category_l2", "channel",
            "transformer_area_id", "customer_id", "repeat_of_id", "satisfaction", "text", "status"))
        history = defaultdict(list)
        for order_id, kind, to_stage, at, actor in StageEvent.objects.filter(
                order_id__in=ids, kind__in=HISTORY_KINDS).order_by("order_id", "at", "id").values_list(
                "order_id", "kind", "to_stage", "at", "actor_id"):
            history[order_id].append((kind, to_stage, at, actor))
        old_days = set(ComplaintFact.objects.filter(order_id__in=ids).values_list("day", flat=True))
        ComplaintFact.objects.filter(order_id__in=ids).delete()
        StageFact.objects.filter(order_id__in=ids).delete()
        complaints, stages = [], []
        for o in orders:
            local = _local(o["accepted_at"])
            days.add(local.date())
            if o["status"] == "merged":
                continue  # a merged order is counted in the order it was merged into
            order_stages = _stage_facts(o, history.get(o["pk"], []), cal)
            if o["order_type"] == "complaint":
                complaints.append(_with_stages(ComplaintFact(
                    order_id=o["pk"], accepted_at=o["accepted_at"], day=local.date(),
                    month=rules.month_key(local.year, local.month), hour=local.hour, weekday=local.isoweekday(),
                    unit_id=o["unit_id"], category_l1=o["category_l1"], category_l2=o["category_l2"],
                    channel=o["channel"], area_kind=o["area_kind"], taiqu_id=o["transformer_area_id"],
                    customer_id=o["customer_id"], repeat=o["repeat_of_id"] is not None,
                    satisfaction=o["satisfaction"], terms=" ".join(rules.segment(o["text"]))), order_stages))
            stages += order_stages
        ComplaintFact.objects.bulk_create(complaints, batch_size=2000)
        StageFact.objects.bulk_create(stages, batch_size=2000)
        days |= old_days
        count += len(orders)
    _rebuild_daily(days)
    return count


def _with_stages(fact: ComplaintFact, stages: list[StageFact]) -> ComplaintFact:
    for sf in stages:
        if sf.limit_key not in COMPLAINT_STAGE_KEYS:
            continue
        if sf.ended_at is None:
            fact.open_limit_key, fact.open_due_at = sf.limit_key, sf.due_at
        else:
            setattr(fact, f"{sf.limit_key}_minutes", sf.minutes)
            setattr(fact, f"{sf.limit_key}_late", sf.late)
    return fact


def _stage_facts(o: dict, events: list[tuple], cal) -> list[StageFact]:
    wf = WORKFLOWS.get(o["order_type"])
    if wf is None:
        return []
    out = []
    for span in rules.stage_spans(wf.clocks, o["accepted_at"], events):
        due = None
        try:
            limit = clock.limit_for(o["order_type"], span.limit_key, o["area_kind"] or None)
            due = clock.due_at(span.start, limit, cal)
        except DomainError:  # no limit for this area, or a year the calendar does not cover
            pass
        minutes = (span.end - span.start).total_seconds() / 60 if span.end else None
        out.append(StageFact(
            order_id=o["pk"], order_type=o["order_type"], accepted_at=o["accepted_at"], unit_id=o["unit_id"],
            area_kind=o["area_kind"], limit_key=span.limit_key, started_at=span.start, ended_at=span.end,
            due_at=due, minutes=minutes, late=bool(span.end and due and span.end > due), actor_id=span.actor_id))
    return out


def _rebuild_daily(days: set[dt.date]):
    """Recounts whole days (a day's orders in one indexed range query)."""
    for day in sorted(days):
        start = dt.datetime.combine(day, dt.time(), TZ)
        end = start + dt.timedelta(days=1)
        rows = (WorkOrder.objects.filter(accepted_at__gte=start, accepted_at__lt=end).exclude(status="merged")
                .values("unit_id", "order_type", "channel").annotate(n=Count("id")))
        OrderDaily.objects.filter(day=day).delete()
        OrderDaily.objects.bulk_create([OrderDaily(day=day, unit_id=r["unit_id"], order_type=r["order_type"],
                                                   channel=r["channel"], orders=r["n"]) for r in rows])


def lag() -> int:
    """StageEvents not yet in the facts (0 = up to date)."""
    wm = FactWatermark.objects.filter(name=WATERMARK).values_list("last_event_id", flat=True).first() or 0
    newest = StageEvent.objects.aggregate(m=Max("id"))["m"] or 0
    return max(newest - wm, 0)
