"""Demo hall data (step 80): a year of queue tickets in the demo's halls, calibrated to the business-hall
study (calibration.md, hall.yaml `demo`):

* Counter payments 36,000 a month across the company's halls (scaled by customers / 50,000) until
  individual payments move online on the switch month (2026-05, the middle of the demo year), then 3,900
  a month. Other business (applications, invoices, inquiries, complaints) keeps its volume.
* Bills are computed on the 1st–9th, so payments come on the 10th–25th (weight 3 per day against 0.4 on
  the 1st–9th and 1 after the 25th) and between 09:00 and 16:00 (9–11 h the busiest).
* Service times are drawn around hall.yaml's minutes per type (10 min a payment) with a coefficient of
  variation of 0.6. Each day of each hall is simulated first come first served over its open windows (8
  before the switch, 3 after — what the staffing plan says after the move online), so waits, the people
  ahead at issue, the stored estimate and its error, no-shows (2 %), customers who leave after a long
  wait (abandoned) and ratings (35 % of served tickets) come out of the same run.

Tickets are written with bulk_create (no per-ticket history events: the timestamps on the row are the
history of a demo ticket); halls, windows, inspections and training records go through the audited models.
"""
from __future__ import annotations

import bisect
import heapq
from collections import Counter
from datetime import date, datetime, timedelta

from gridcare.core.demo import TZ, register_step

from . import rules
from .config import config, service_types
from .models import ClerkRecord, Hall, Inspection, Ticket, Window

SWITCH = date(2026, 5, 1)
OTHER_PER_MONTH = {"application": 900, "invoice": 1200, "inquiry": 1500, "complaint": 60}
HOUR_WEIGHT = {8: 0.5, 9: 3.0, 10: 3.2, 11: 2.4, 12: 1.2, 13: 1.6, 14: 2.2, 15: 2.0, 16: 1.0, 17: 0.4}


def _dom_weight(day: int) -> float:
    return 0.4 if day <= 9 else (3.0 if day <= 25 else 1.0)


def _months(today: date, n: int):
    first = date(today.year, today.month, 1)
    return [rules._add_months(first, -k) for k in range(n, 0, -1)]


@register_step(80, "hall")
def build_hall(ctx):
    rng = ctx.rng
    cfg = config()
    halls_units = ctx.out.get("halls") or []
    if not halls_units:
        return "no halls"
    from gridcare.accounts.models import User

    scale = ctx.customers / 50_000
    halls = []
    for unit in halls_units:
        hall = Hall.objects.create(unit=unit, opening_hours=cfg["opening_hours"],
                                   slot_minutes=cfg["appointments"]["slot_minutes"],
                                   slot_capacity=cfg["appointments"]["capacity_per_slot"],
                                   target_seconds=cfg["service_target"]["target_seconds"],
                                   service_level=cfg["service_target"]["service_level"])
        clerks = list(User.objects.filter(unit=unit, role="clerk").order_by("username"))
        for n in range(1, 9):
            types = ["payment", "application", "inquiry", "complaint"] if n == 3 else ["payment", "invoice"]
            Window.objects.create(hall=hall, number=n, service_types=types, is_open=n <= 3,
                                  clerk=clerks[(n - 1) % len(clerks)] if clerks and n <= 3 else None)
        halls.append((hall, clerks, {w.number: w for w in Window.objects.filter(hall=hall)}))
    today = ctx.today.date()
    months = _months(today, ctx.months)
    tickets = []
    minutes = {k: v["minutes"] for k, v in service_types().items()}
    for month in months:
        after = month >= SWITCH
        payments = cfg["demo"]["counter_payments_after" if after else "counter_payments_before"]
        volume = {"payment": payments, **OTHER_PER_MONTH}
        days = []
        d = month
        while d.month == month.month:
            days.append(d)
            d += timedelta(days=1)
        for hall, clerks, wmap in halls:
            hour_weights = {}
            for day in days:
                open_hours = rules.open_hours_of_day(hall.opening_hours, day.weekday())
                hour_weights[day] = [(h, HOUR_WEIGHT.get(h, 0.3)) for h in open_hours]
            day_w = [_dom_weight(day.day) * (0.8 if day.weekday() >= 5 else 1.0) for day in days]
            per_day = Counter()
            for stype, monthly in volume.items():
                n = int(round(monthly * scale / len(halls)))
                w = day_w if stype == "payment" else [1.0] * len(days)
                for day in rng.choices(days, weights=w, k=n):
                    per_day[(day, stype)] += 1
            for day in days:
                arrivals = []
                hw = hour_weights[day]
                if not hw:
                    continue
                total = sum(w for _, w in hw)
                for stype in volume:
                    for _ in range(per_day[(day, stype)]):
                        r = rng.random() * total
                        for h, w in hw:
                            r -= w
                            if r <= 0:
                                break
                        start_h = h
                        minute = rng.random() * 60
                        at = datetime(day.year, day.month, day.day, start_h, 0, tzinfo=TZ) + timedelta(minutes=minute)
                        arrivals.append((at, stype))
                arrivals.sort()
                tickets.extend(_simulate_day(rng, hall, clerks, wmap, day, arrivals, 3 if after else 8, minutes))
    _insert(tickets)
    _quality_records(rng, halls, today)
    return f"{len(halls)} halls, {len(tickets)} tickets over {len(months)} months (counter payments switch online {SWITCH:%Y-%m})"


COLUMNS = ("hall_id", "day", "service_type", "number", "status", "priority", "priority_reason", "phone", "window_id",
           "clerk_id", "issued_at", "first_called_at", "called_at", "finished_at", "recall_count", "transfer_count",
           "estimated_wait_seconds", "ahead_at_issue", "token", "rating", "rating_comment", "rating_channel")


def _insert(tickets):
    """One prepared INSERT run with executemany: Django's bulk_create spends most of a year's demo
    preparing values field by field; these rows need no conversion beyond dates."""
    from django.db import connection

    from .models import new_token

    ops = connection.ops
    dt = ops.adapt_datetimefield_value
    table = Ticket._meta.db_table
    sql = (f"INSERT INTO {connection.ops.quote_name(table)} ({', '.join(COLUMNS)}) "
           f"VALUES ({', '.join(['%s'] * len(COLUMNS))})")
    rows = [(t.hall_id, ops.adapt_datefield_value(t.day), t.service_type, t.number, t.status, t.priority,
             t.priority_reason, "", t.window_id, t.clerk_id, dt(t.issued_at), dt(t.first_called_at), dt(t.called_at),
             dt(t.finished_at), 0, 0, t.estimated_wait_seconds, t.ahead_at_issue, new_token(), t.rating, "",
             t.rating_channel or "") for t in tickets]
    with connection.cursor() as cur:
        for i in range(0, len(rows), 20000):
            cur.executemany(sql, rows[i:i + 20000])


def _simulate_day(rng, hall, clerks, wmap, day, arrivals, windows, minutes):
    """First come first served over `windows` counters; returns the day's Ticket objects."""
    free = [(datetime(day.year, day.month, day.day, 0, tzinfo=TZ), n) for n in range(1, windows + 1)]
    heapq.heapify(free)
    starts: list[datetime] = []          # FCFS start times are non-decreasing in arrival order
    seq = Counter()
    out = []
    mean_service = {k: v * 60 for k, v in minutes.items()}
    close = datetime(day.year, day.month, day.day, 17, 30, tzinfo=TZ)
    for at, stype in arrivals:
        seq[stype] += 1
        earliest, number = free[0]
        start = max(earliest, at)
        ahead = len(starts) - bisect.bisect_right(starts, at)
        busy = sum(1 for f, _n in free if f > at)
        est = rules.estimate_wait_seconds(ahead, windows, mean_service[stype], busy)
        wait_min = (start - at).total_seconds() / 60
        t = Ticket(hall=hall, day=day, service_type=stype, number=f"{service_types()[stype]['prefix']}{seq[stype]:03d}",
                   issued_at=at, estimated_wait_seconds=est, ahead_at_issue=ahead)
        if rng.random() < 0.06:
            t.priority, t.priority_reason = 1, rng.choice(["elderly", "elderly", "disabled", "pregnant"])
        leaves = wait_min > 60 and rng.random() < min(0.9, (wait_min - 60) / 120)
        if leaves or start > close + timedelta(hours=1):
            t.status = "abandoned"
            out.append(t)
            continue
        clerk = clerks[(number - 1) % len(clerks)] if clerks else None
        if rng.random() < 0.02:
            duration = 60.0
            t.status = "no_show"
        else:
            duration = max(60.0, rng.gammavariate(1 / 0.36, mean_service[stype] * 0.36))
            t.status = "done"
            if rng.random() < 0.35:
                t.rating = rng.choices([5, 4, 3, 2, 1], weights=[70, 20, 6, 3, 1])[0]
                t.rating_channel = rng.choice(["device", "sms"])
        t.first_called_at = t.called_at = start
        t.finished_at = start + timedelta(seconds=duration)
        t.clerk = clerk
        t.window = wmap.get(number)
        starts.append(start)
        heapq.heapreplace(free, (t.finished_at, number))
        out.append(t)
    return out


def _quality_records(rng, halls, today):
    from .config import checklist

    items = checklist()
    for hall, clerks, _w in halls:
        for clerk in clerks:
            for k in range(4):
                results = {i["code"]: rng.random() > 0.12 for i in items}
                Inspection.objects.create(hall=hall, clerk=clerk, inspector=None,
                                          at=datetime(today.year, today.month, 1, 10, tzinfo=TZ) - timedelta(days=30 * k + 7),
                                          results=results, score=sum(i["weight"] for i in items if results[i["code"]]))
            ClerkRecord.objects.create(clerk=clerk, kind="training", title="营业厅服务规范与新业务培训",
                                       on=today - timedelta(days=rng.randint(20, 200)), hours=8, issuer="市公司营销部")
            if rng.random() < 0.7:
                on = today - timedelta(days=rng.randint(200, 900))
                ClerkRecord.objects.create(clerk=clerk, kind="certificate", title="供电营业员职业技能等级证书（中级）",
                                           on=on, valid_until=on + timedelta(days=3 * 365), issuer="省公司技能鉴定中心")
