"""Demo work orders: a year of 95598 orders for the demo customers, calibrated to
shared/domain/calibration.md, with their stage histories, so that the queue, the SLA dashboard and
the reports look like a real county-scale utility's.

Volumes (a choice, documented here because someone will ask):
* ORDERS_PER_CUSTOMER_YEAR = 0.40 orders of all types per customer and year: a 50,000-customer utility
  gets ~20,000 orders a year (the 15–25k a county of that size sees).
* Complaints are 5 % of orders: 1,000 a year, ~250 a quarter for 50,000 customers. At that rate the
  calibration's 378 complaints in a quarter (one city company) belong to a company of ~75,000 customers.
  Their area split is the calibration's 152 urban / 223 rural / 3 remote of 378 (40 % urban), although
  48 % of the demo's customers are urban: rural customers complain more.
* Fault repairs are the largest group (42 %), then inquiries (25 %), service requests (17 %), opinions,
  praise, reports and suggestions.

How the calibration is reproduced:
* Shares are allotted, not drawn: complaint categories (first level 45.14/23.29/23.05/4.74/3.78 %,
  频繁停电 39.04 %, 服务规范 17.27 %, 电压 6.10 %), complaint areas, and every type's hour of day are
  split by largest remainder and shuffled, so even a small demo has the calibrated shares and the
  complaint peaks at 19, 11 and 17 h (fewest at 2–4 h). Days are drawn with seasonal weights (load peaks
  in summer and winter for faults and supply-quality complaints; working days for business).
* 台区 hot spots: 12 % of each area's 台区 are fragile. Each is "active" for one or two runs of 1–4
  consecutive months, and 30 % also have a season (a calendar month they are active in every year).
  Supply-quality, outage and facility complaints go to 台区 active that month (78 %), to other hot spots
  (10 %) or anywhere in the area, each from a different customer of the 台区 where possible; area
  outages (区域停电 repairs) come in incidents of 1–6 calls from one 台区, 45 % of them at active hot spots.
  So in a month many 台区 have complaints from 2+ customers, several in consecutive months. "The same
  month of two consecutive years" needs a window over 12 months: the one-year default cannot show it
  (March 2026 has no March 2025 before it); with `DemoContext.months` ≥ 13 the seasonal hot spots show it.
* Repeat callers: 12 % of complaints, 6 % of fault repairs and a few % of other orders are second calls
  about the same problem by the same customer, days (hours for repairs) after the first, linked with
  `repeat_of` and LINK events; a complaint's second call while it is open escalates it to the unit's
  leadership, a second complaint within 60 days goes to the unit's head, as the escalation rules say.
  Besides, 1.4 % of customers are frequent callers who get 12 % of the orders.
* Complaints that follow an earlier call (`_follow_ups`): 30 % of the complaints that are not second
  calls are lodged by a customer who called about something else in the 30 days before, four times
  likelier one whose call was a repeat call (not resolved the first time) and three times likelier one
  whose 台区 had 区域停电 calls on two days of the last 60 (a repeat outage). Only the complainant
  changes, so the shares, areas and hours above are untouched. This is a plausible mechanism written by
  hand, not a calibrated figure (calibration.md has none); the complaint-risk evaluation
  (intelligence/evaluation.py) measures against it and says so.
* Stage durations are drawn against each stage's own deadline (time-limits.yaml through the clock
  functions and the working-day calendar): a share is late, the rest on time. 联系客户 (contact, 1
  working day) is late for 18 % of complaints; every other stage of every type for 3–9 %, so contact is
  the stage most often over its limit.
* Orders whose history reaches past `ctx.today` stop there: recent orders are open at the stage they
  had reached, with their deadline stored (clock functions, calendar loaded once) and their SLA state at
  `ctx.today`; 5 % of the complaints, reports, opinions and service requests of the last 45 days are
  stuck (a customer who cannot be reached, work waiting for material) and still open at `ctx.today`,
  most of them overdue, so the dashboard has overdue work as well as near-breach work.
* Return visits: mostly 满意; a dissatisfied first visit reopens the order (REOPEN event, escalation),
  a second visit follows; the few still dissatisfied are closed after review.

Texts come from demo_texts.py. Everything is drawn from one generator seeded from the demo's seed, and
written with bulk_create: 50,000 customers (20,000 orders, ~150,000 stage events) take ~15 s on SQLite.
"""
from __future__ import annotations

import math
import random
import re
from bisect import bisect_left
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from itertools import accumulate

from gridcare.accounts.demo import person_name
from gridcare.accounts.models import OrgUnit, User
from gridcare.core.audit import record_bulk
from gridcare.core.demo import TZ, register_step
from gridcare.core.workcalendar import CalendarNotCovered, get_calendar
from gridcare.customers.models import Customer
from gridcare.grid.models import TransformerArea

from . import clock, rules
from . import demo_texts as T
from .choices import Channel, Escalation, EventKind, SlaState, Status
from .importers import open_stage_deadline, warning_fraction
from .models import StageEvent, WorkOrder
from .workflow import workflow

# --------------------------------------------------------------------------------------------------
# Calibration (see the module docstring)

ORDERS_PER_CUSTOMER_YEAR = 0.40
TYPE_SHARES = {"fault_repair": 42.0, "inquiry": 25.0, "service_request": 17.0, "complaint": 5.0, "opinion": 4.5,
               "praise": 3.5, "report": 1.5, "suggestion": 1.5}
# % of all complaints. First level from calibration.md; second level: 频繁停电 39.04, 服务规范 17.27 and
# voltage 6.02 (6.10 here, so that power quality adds up to its 45.14) are calibrated, the rest plausible.
COMPLAINT_SHARES = {
    "power_quality": {"frequent_outage": 39.04, "voltage": 6.10},
    "business": {"billing": 6.50, "meter_reading": 5.00, "metering": 4.50, "connection": 3.20, "payment": 2.60,
                 "fee": 1.49},
    "service": {"conduct": 17.27, "attitude": 3.50, "hall": 1.38, "channel": 0.90},
    "outage": {"repair_timeliness": 1.80, "outage_notice": 1.30, "plan_execution": 0.90,
               "arrears_disconnection": 0.74},
    "grid_construction": {"facility_safety": 1.60, "construction_conduct": 1.20, "facility_upgrade": 0.98},
}
COMPLAINT_AREAS = {"urban": 152, "rural": 223, "remote": 3}
FAULT_KIND_SHARES = {"area_no_power": 30, "single_no_power": 27, "customer_side": 15, "meter_fault": 10,
                     "voltage_problem": 9, "safety_hazard": 9}
# Complaints about where the supply is (clustered at 台区 hot spots) rather than about a person or a bill.
CLUSTERED = {"frequent_outage", "voltage", "outage_notice", "plan_execution", "repair_timeliness", "facility_safety",
             "facility_upgrade"}
LOAD_DRIVEN_L1 = {"power_quality", "outage", "grid_construction"}

HOURS = {  # relative calls per hour of day, 0–23 h
    "complaint": [0.5, 0.3, 0.2, 0.2, 0.3, 0.6, 1.4, 3.0, 4.8, 6.0, 6.8, 8.6,
                  5.4, 4.6, 5.4, 5.8, 6.4, 7.8, 6.9, 9.6, 6.6, 4.4, 2.6, 1.2],
    "fault": [1.2, 0.8, 0.6, 0.5, 0.6, 0.9, 1.8, 3.2, 4.4, 5.0, 5.4, 6.4,
              5.0, 4.6, 5.2, 5.6, 6.0, 7.0, 7.6, 8.4, 7.0, 5.0, 3.0, 1.8],
    "office": [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.6, 2.0, 6.0, 9.0, 9.4, 8.6,
               4.6, 5.0, 8.0, 8.4, 7.6, 6.2, 4.2, 4.0, 3.2, 2.0, 0.9, 0.4],
}
MONTH_LOAD = {1: 1.25, 2: 1.15, 3: 0.85, 4: 0.8, 5: 0.9, 6: 1.05, 7: 1.45, 8: 1.45, 9: 1.0, 10: 0.85, 11: 0.85,
              12: 1.05}
CHANNELS = {
    "complaint": {"hotline": 88, "app": 4, "wechat": 3, "web": 1, "hall": 2, "12398": 2},
    "fault_repair": {"hotline": 85, "app": 9, "wechat": 6},
    "inquiry": {"hotline": 70, "app": 14, "wechat": 12, "web": 2, "hall": 2},
    "service_request": {"hotline": 30, "app": 42, "wechat": 10, "web": 3, "hall": 15},
    "other": {"hotline": 75, "app": 10, "wechat": 10, "web": 5},
}
HOT_SHARE = 0.12
FREQUENT_CALLERS = 0.014
FREQUENT_SHARE = 0.12
# Complaints that follow an earlier call of the same customer about something else which went badly (see
# _follow_ups): a share, a look-back and how much likelier an unresolved call or a repeat outage makes it.
FOLLOW_UP_SHARE, FOLLOW_UP_DAYS = 0.30, 30
FOLLOW_UP_WEIGHT = {"unresolved": 4.0, "repeat_outage": 3.0, "other": 1.0}
REPEAT_RATE = {"complaint": 0.12, "fault_repair": 0.06, "opinion": 0.05, "service_request": 0.04, "inquiry": 0.03}
NO_CUSTOMER = {"report": 0.6, "suggestion": 0.3, "inquiry": 0.12, "opinion": 0.1, "praise": 0.05,
               "safety_hazard": 0.4, "new_connection": 0.7, "ev_charger": 0.2}
STUCK_RATE, STUCK_DAYS = 0.05, 45
# Share of orders over each stage's limit (the limit keys of time-limits.yaml).
LATE = {
    "complaint": {"dispatch": 0.04, "receive": 0.05, "contact": 0.18, "handle": 0.06, "audit": 0.03, "visit": 0.04},
    "fault_repair": {"dispatch": 0.05, "arrival": {"urban": 0.06, "rural": 0.09, "remote": 0.09},
                     "restoration_after_arrival": 0.07, "reply_after_restoration": 0.05},
    "other": {"dispatch": 0.04, "handle": 0.05, "audit": 0.03, "visit": 0.03},
}
SATISFACTION = {"complaint": {"satisfied": 70, "neutral": 18, "dissatisfied": 12},
                "fault_repair": {"satisfied": 90, "neutral": 7, "dissatisfied": 3},
                "other": {"satisfied": 88, "neutral": 9, "dissatisfied": 3},
                "second": {"satisfied": 55, "neutral": 30, "dissatisfied": 15}}
VAGUE_REPLY_RATE = 0.04
CLOSE_ON_INTAKE = {"inquiry": 0.72, "praise": 0.85}
HANDLE_DAYS = {"report": 9, "opinion": 9, "service_request": 5, "suggestion": 9}
ARRIVAL_MINUTES = {"urban": 45, "rural": 90, "remote": 120}
RESTORATION_MINUTES = {"urban": 180, "rural": 240, "remote": 240}


# --------------------------------------------------------------------------------------------------
# Small helpers


def _quota(total: int, weights: dict) -> dict:
    """Split `total` in proportion to `weights` by largest remainder (ties: first key first)."""
    s = sum(weights.values())
    if total <= 0 or s <= 0:
        return {k: 0 for k in weights}
    raw = {k: total * w / s for k, w in weights.items()}
    out = {k: int(x) for k, x in raw.items()}
    left = total - sum(out.values())
    for k in sorted(raw, key=lambda k: -(raw[k] - int(raw[k])))[:left]:
        out[k] += 1
    return out


def _spread(total: int, weights: dict, rng) -> list:
    """The keys of `_quota`, each as often as its quota, shuffled."""
    out = [k for k, n in _quota(total, weights).items() for _ in range(n)]
    rng.shuffle(out)
    return out


def _pick(rng, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _mobile(rng) -> str:
    return f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}"


def _minutes(m: float) -> timedelta:
    return timedelta(minutes=m)


def _office(rng, t: datetime) -> datetime:
    """The moment, moved later into 08:00–21:00 when staff call customers (never earlier)."""
    if t.hour < 8:
        return t.replace(hour=8, minute=rng.randrange(60))
    if t.hour >= 21:
        return (t + timedelta(days=1)).replace(hour=8, minute=rng.randrange(60))
    return t


def _natural(rng, start: datetime, limit_minutes: float, late_rate: float) -> datetime:
    """The end of a stage with a natural-time limit: over it with probability `late_rate`."""
    if rng.random() < late_rate:
        return start + _minutes(limit_minutes * (1 + rng.lognormvariate(math.log(0.5), 0.8)))
    return start + _minutes(limit_minutes * (0.08 + 0.87 * rng.random() ** 1.4))


def _working(rng, cal, start: datetime, days: int, late_rate: float, late_hours: float = 5.0) -> datetime:
    """The end of a stage with a working-day limit (due by the calendar): late with `late_rate`,
    otherwise in office hours before the deadline where possible."""
    due = cal.add_working_days(start, days)
    if rng.random() < late_rate:
        return _office(rng, due + timedelta(hours=rng.lognormvariate(math.log(late_hours), 0.9)))
    t = start + (due - start) * (0.03 + 0.85 * rng.random() ** 2)
    moved = _office(rng, t)
    return moved if moved < due else t


def _late(table: dict, key: str, area: str) -> float:
    value = table[key]
    return value[area] if isinstance(value, dict) else value


def _place(taiqu_name: str) -> str:
    """"人民路12号小区3号台区" → "人民路12号小区"; "东山村2号台区" → "东山村"."""
    return re.sub(r"\d+号台区$", "", taiqu_name) or taiqu_name


# --------------------------------------------------------------------------------------------------
# The world the orders happen in


class _World:
    def __init__(self, ctx, rng, start, end):
        self.rng = rng
        customers = ctx.out.get("customers")
        if customers is None:
            customers = list(Customer.objects.order_by("pk").only(
                "pk", "account_no", "name", "phone", "customer_class", "area_kind", "unit_id", "transformer_area_id"))
        self.customers = customers
        self.taiqus = {t.pk: t for t in TransformerArea.objects.order_by("pk").only("pk", "name", "area_kind",
                                                                                       "unit_id")}
        self.places = {pk: _place(t.name) for pk, t in self.taiqus.items()}
        self.units = {u.pk: u.name for u in OrgUnit.objects.only("pk", "name")}
        self.by_taiqu = defaultdict(list)
        self.by_area = defaultdict(list)
        for c in customers:
            self.by_taiqu[c.transformer_area_id].append(c)
            self.by_area[c.area_kind].append(c)
        self.taiqus_by_area = defaultdict(list)
        for pk, t in self.taiqus.items():
            if self.by_taiqu.get(pk):
                self.taiqus_by_area[t.area_kind].append(pk)
        frequent = rng.sample(customers, max(1, round(len(customers) * FREQUENT_CALLERS))) if customers else []
        self.frequent_by_area = defaultdict(list)
        for c in frequent:
            self.frequent_by_area[c.area_kind].append(c)
        self.frequent = frequent
        self.start, self.end = start, end
        self.months = self.month_index(end - timedelta(seconds=1)) + 1
        self._hot_spots()
        self._staff()

    def month_index(self, at: datetime) -> int:
        return (at.year - self.start.year) * 12 + at.month - self.start.month

    def _hot_spots(self):
        rng, months = self.rng, self.months
        self.hot = {}
        self.active = defaultdict(list)       # (area, month index) -> hot 台区 active then
        self.active_any = defaultdict(list)   # month index -> hot 台区 of any area
        for area, pks in self.taiqus_by_area.items():
            hot = rng.sample(pks, max(1, round(len(pks) * HOT_SHARE)))
            self.hot[area] = hot
            for pk in hot:
                active = set()
                for _run in range(1 + (rng.random() < 0.35)):
                    first, length = rng.randrange(months), rng.choice([1, 2, 2, 3, 3, 4])
                    active.update(range(first, min(months, first + length)))
                if rng.random() < 0.3:  # a seasonal hot spot: the same calendar month every year
                    season = rng.randrange(12)
                    active.update(m for m in range(months) if (self.start.month - 1 + m) % 12 == season)
                for m in sorted(active):
                    self.active[(area, m)].append(pk)
                    self.active_any[m].append(pk)

    def _staff(self):
        self.by_role = defaultdict(list)
        self.by_role_unit = defaultdict(list)
        for u in User.objects.filter(is_active=True).order_by("pk").only("pk", "name", "username", "role", "unit_id"):
            who = (u.pk, u.name or u.username)
            self.by_role[u.role].append(who)
            self.by_role_unit[(u.role, u.unit_id)].append(who)

    def staff(self, role, unit_id=None):
        people = (unit_id is not None and self.by_role_unit.get((role, unit_id))) or self.by_role.get(role) \
            or self.by_role.get("supervisor") or [(None, "系统")]
        return self.rng.choice(people)

    # -- who calls --------------------------------------------------------------------------------
    def customer(self, area=None):
        rng = self.rng
        if rng.random() < FREQUENT_SHARE:
            pool = self.frequent_by_area.get(area) if area else self.frequent
            if pool:
                return rng.choice(pool)
        return rng.choice(self.by_area[area] if area else self.customers)

    def clustered_taiqu(self, area, month):
        rng = self.rng
        r = rng.random()
        active = self.active.get((area, month))
        if active and r < 0.78:
            return rng.choice(active)
        if r < 0.88 and self.hot.get(area):
            return rng.choice(self.hot[area])
        return self.customer(area).transformer_area_id


class _Order:
    __slots__ = ("type", "code", "topic", "area", "at", "hour", "customer", "taiqu", "unit_id", "channel",
                 "repeat_of", "repeats", "incident", "caller_name", "caller_phone", "text", "stuck", "h")

    def __init__(self, order_type, code="", topic=""):
        self.type, self.code, self.topic = order_type, code, topic
        self.area = self.customer = self.taiqu = self.unit_id = self.at = self.repeat_of = None
        self.hour, self.repeats, self.incident, self.stuck = 0, 0, False, False
        self.channel = "hotline"
        self.caller_name = self.caller_phone = self.text = ""
        self.h = None

    def set_customer(self, c):
        self.customer, self.taiqu, self.unit_id, self.area = c, c.transformer_area_id, c.unit_id, c.area_kind

    def set_place(self, world, taiqu_pk):
        t = world.taiqus[taiqu_pk]
        self.customer, self.taiqu, self.unit_id, self.area = None, taiqu_pk, t.unit_id, t.area_kind


# --------------------------------------------------------------------------------------------------
# Planning: what is called in, when and by whom


def _plan(world, n_total, rng, cal):
    counts = _quota(n_total, TYPE_SHARES)
    orders = []
    # complaints: category and area allotted
    n = counts["complaint"]
    l1_counts = _quota(n, {l1: sum(c.values()) for l1, c in COMPLAINT_SHARES.items()})
    codes = []
    for l1, children in COMPLAINT_SHARES.items():
        codes += [k for k, m in _quota(l1_counts[l1], children).items() for _ in range(m)]
    rng.shuffle(codes)
    areas = _spread(n, {a: w for a, w in COMPLAINT_AREAS.items() if world.by_area.get(a)} or {"rural": 1}, rng)
    for code, area in zip(codes, areas):
        o = _Order("complaint", code)
        o.area = area
        orders.append(o)
    faults = _spread(counts["fault_repair"], FAULT_KIND_SHARES, rng)
    orders += [_Order("fault_repair", k) for k in faults]
    for order_type, topics in T.TOPICS.items():
        for topic in _spread(counts[order_type], {k: w for k, (w, _c) in topics.items()}, rng):
            orders.append(_Order(order_type, topic=topic))
    _times(world, orders, rng, cal)
    _places(world, orders, rng)
    _repeats(world, orders, rng)
    _follow_ups(world, orders, rng)
    for o in orders:
        table = CHANNELS.get(o.type, CHANNELS["other"])
        o.channel = _pick(rng, table)
        if o.repeat_of is not None and o.channel == "12398":
            o.channel = "hotline"
    orders.sort(key=lambda o: o.at)
    return orders


def _day_weights(world, cal):
    days = []
    d = world.start.date()
    while datetime.combine(d, datetime.min.time(), tzinfo=TZ) < world.end:
        days.append(d)
        d += timedelta(days=1)

    def workday(day):
        try:
            return cal.is_workday(day)
        except CalendarNotCovered:
            return day.weekday() < 5

    load = [MONTH_LOAD[d.month] * (1.08 if d.weekday() >= 5 else 1.0) for d in days]
    office = [1.0 if workday(d) else 0.5 for d in days]
    return days, {"load": list(accumulate(load)), "office": list(accumulate(office))}


def _times(world, orders, rng, cal):
    days, cumulative = _day_weights(world, cal)
    groups = defaultdict(list)
    for o in orders:
        groups[o.type].append(o)
    for order_type, members in groups.items():
        profile = {"complaint": "complaint", "fault_repair": "fault"}.get(order_type, "office")
        hours = _spread(len(members), dict(enumerate(HOURS[profile])), rng)
        for o, hour in zip(members, hours):
            if order_type == "fault_repair" or (order_type == "complaint"
                                                and _l1(o.code) in LOAD_DRIVEN_L1):
                weights = cumulative["load"]
            else:
                weights = cumulative["office"]
            o.hour = hour
            for _try in range(20):
                d = rng.choices(days, cum_weights=weights)[0]
                o.at = datetime(d.year, d.month, d.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=TZ)
                if world.start <= o.at < world.end:
                    break
            else:
                o.at = world.end - timedelta(hours=1)


def _l1(l2):
    for l1, children in COMPLAINT_SHARES.items():
        if l2 in children:
            return l1
    return ""


def _places(world, orders, rng):
    used = defaultdict(set)  # (台区, month) -> customers who complained there
    area_outages = []
    for o in orders:
        if o.type == "complaint":
            if o.code in CLUSTERED:
                month = world.month_index(o.at)
                pk = world.clustered_taiqu(o.area, month)
                people = world.by_taiqu[pk]
                c = rng.choice(people)
                for _try in range(3):
                    if c.pk not in used[(pk, month)]:
                        break
                    c = rng.choice(people)
                used[(pk, month)].add(c.pk)
                o.set_customer(c)
            else:
                o.set_customer(world.customer(o.area))
            continue
        if o.type == "fault_repair" and o.code == "area_no_power":
            area_outages.append(o)
            continue
        key = o.code if o.type == "fault_repair" else o.topic
        if rng.random() < NO_CUSTOMER.get(key, NO_CUSTOMER.get(o.type, 0.01)):
            o.set_place(world, world.customer().transformer_area_id)
        elif o.type == "fault_repair" and o.code == "voltage_problem" and rng.random() < 0.4:
            pk = rng.choice(world.active_any.get(world.month_index(o.at)) or [world.customer().transformer_area_id])
            o.set_customer(rng.choice(world.by_taiqu[pk]))
        else:
            o.set_customer(world.customer())
    _incidents(world, area_outages, rng)


def _incidents(world, outages, rng):
    """区域停电 calls come in incidents: several customers of one 台区 within the hour."""
    i = 0
    while i < len(outages):
        size = rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6])
        members = outages[i:i + size]
        i += size
        lead = members[0]
        month = world.month_index(lead.at)
        active = world.active_any.get(month)
        pk = rng.choice(active) if active and rng.random() < 0.45 else world.customer().transformer_area_id
        people = rng.sample(world.by_taiqu[pk], min(len(members), len(world.by_taiqu[pk])))
        at = lead.at
        for k, o in enumerate(members):
            if k:
                at = at + _minutes(rng.randint(1, 25))
                if at >= world.end:
                    at = o.at  # keep its own time: a separate call
                o.at = at
                o.incident = True
            if k < len(people) and rng.random() >= 0.03:
                o.set_customer(people[k])
            else:
                o.set_place(world, pk)


def _repeats(world, orders, rng):
    """Second calls about the same problem by the same customer, linked to the first."""
    groups = defaultdict(list)
    for o in orders:
        if o.customer is not None and not o.incident and o.type in REPEAT_RATE:
            groups[(o.type, o.code or o.topic, o.area)].append(o)
    for key in sorted(groups):
        members = sorted(groups[key], key=lambda o: o.at)
        rate = REPEAT_RATE[key[0]]
        for j in members:
            if j.repeats or rng.random() >= rate:
                continue
            i = rng.choice(members)
            if i is j or i.repeat_of is not None:
                continue
            if j.type == "fault_repair":
                at = i.at + _minutes(rng.randint(20, 600))
            else:
                gaps = [1, 1, 2, 2, 3, 4, 5, 7, 10, 14, 20] if j.type == "complaint" else [1, 2, 3, 5, 7, 14]
                days = rng.choice(gaps)
                d = i.at.date() + timedelta(days=days)
                at = datetime(d.year, d.month, d.day, j.at.hour, j.at.minute, j.at.second, tzinfo=TZ)
            if at >= world.end:
                continue
            j.at = at
            j.set_customer(i.customer)
            j.repeat_of = i
            i.repeats += 1


def _follow_ups(world, orders, rng):
    """Complaints that follow an earlier call: FOLLOW_UP_SHARE of the complaints (not second calls) are
    lodged by a customer who called about something else in the FOLLOW_UP_DAYS before, preferably one
    whose call was not resolved (they had to call again: a repeat call) or whose 台区 had a repeat
    outage (区域停电 calls on two different days in the 60 days before). Only who complains changes:
    category, area (the caller is of the complaint's area), hour and day stay as allotted, and a
    clustered complaint stays on its 台区 (the caller must be of that 台区, and not one who already
    complained there that month). Without this pass complaints were independent of earlier calls."""
    calls = sorted((o for o in orders if o.type != "complaint" and o.customer is not None), key=lambda o: o.at)
    times = [o.at for o in calls]
    outages = defaultdict(list)
    for o in orders:
        if o.type == "fault_repair" and o.code == "area_no_power" and o.taiqu is not None:
            outages[o.taiqu].append(o.at)
    for v in outages.values():
        v.sort()

    def repeat_outage(taiqu, at):
        lo = bisect_left(outages[taiqu], at - timedelta(days=60))
        return len({t.date() for t in outages[taiqu][lo:bisect_left(outages[taiqu], at)]}) >= 2

    complaints = sorted((o for o in orders if o.type == "complaint"), key=lambda o: o.at)
    complained = defaultdict(set)  # (台区, month) -> customers who complained there
    for o in complaints:
        complained[(o.taiqu, world.month_index(o.at))].add(o.customer.pk)
    for o in complaints:
        if o.repeat_of is not None or o.repeats or rng.random() >= FOLLOW_UP_SHARE:
            continue
        month = world.month_index(o.at)
        lo, hi = bisect_left(times, o.at - timedelta(days=FOLLOW_UP_DAYS)), bisect_left(times, o.at)
        taken = complained[(o.taiqu, month)]
        if o.code in CLUSTERED:
            candidates = [c for c in calls[lo:hi]
                          if c.taiqu == o.taiqu and c.area == o.area and c.customer.pk not in taken]
        else:
            candidates = [c for c in calls[lo:hi] if c.area == o.area]
        if not candidates:
            continue
        weights = [FOLLOW_UP_WEIGHT["unresolved"] if c.repeat_of is not None or c.repeats
                   else FOLLOW_UP_WEIGHT["repeat_outage"] if repeat_outage(c.taiqu, c.at)
                   else FOLLOW_UP_WEIGHT["other"] for c in candidates]
        c = rng.choices(candidates, weights=weights)[0]
        taken.discard(o.customer.pk)
        o.set_customer(c.customer)
        complained[(o.taiqu, month)].add(o.customer.pk)


# --------------------------------------------------------------------------------------------------
# Histories


class _History:
    """An order's events as they happened, cut at `end` (the demo's today): whatever would happen
    later has not happened yet, and the order is open at the stage it had reached."""

    def __init__(self, o, end):
        self.o, self.end = o, end
        self.events = []
        self.stage, self.entered, self.last = "accepted", o.at, o.at
        self.cut = False
        self.closed_at = None
        self.assignee = None
        self.reply = ""
        self.satisfaction = ""
        self.visits = self.urges = self.rejects = 0
        self.escalation, self.escalation_reason = Escalation.NONE, ""
        self.flags = []

    def _ok(self, at):
        if self.cut or at >= self.end:
            self.cut = True
            return False
        return True

    def event(self, kind, at, actor, note="", from_stage="", to_stage="", **data):
        at = max(at.replace(microsecond=0), self.last)
        if not self._ok(at):
            return False
        self.events.append((kind, at, actor, note, from_stage, to_stage, data))
        self.last = at
        return True

    def move(self, to, at, actor, note="", kind=EventKind.ADVANCE):
        at = max(at.replace(microsecond=0), self.last + timedelta(seconds=1))
        if not self.event(kind, at, actor, note, self.stage, to):
            return False
        self.stage, self.entered = to, at
        if to == "closed":
            self.closed_at = at
        return True

    def add_later(self, kind, at, actor, note="", **data):
        """An event another order causes (a repeat call's LINK), written into this history afterwards."""
        self.events.append((kind, at, actor, note, "", "", data))

    def escalate(self, level, reason, at, actor):
        if level > self.escalation and self.event(EventKind.ESCALATE, at, actor, reason, level=int(level)):
            self.escalation, self.escalation_reason = level, reason

    def open_at(self, at) -> bool:
        return self.closed_at is None or self.closed_at > at


def _texts(o, world, rng):
    slots = {"place": world.places.get(o.taiqu, "本地"), "days": rng.randint(3, 12), "times": rng.randint(3, 6),
             "hours": rng.randint(3, 12), "appliance": rng.choice(T.APPLIANCES), "person": rng.choice(T.PEOPLE),
             "account": o.customer.account_no if o.customer else ""}
    if o.type == "complaint":
        core = rng.choice(T.COMPLAINT_CORES[o.code]).format(**slots)
        demand = rng.choice(T.COMPLAINT_DEMANDS)
        reply = rng.choice(T.COMPLAINT_REPLIES[o.code]).format(**slots)
    elif o.type == "fault_repair":
        core = rng.choice(T.FAULT_CORES[o.code]).format(**slots)
        demand = ""
        reply = rng.choice(T.FAULT_REPLIES[o.code])
    else:
        core = rng.choice(T.TOPICS[o.type][o.topic][1]).format(**slots)
        demand = ""
        reply = rng.choice(T.TOPIC_REPLIES[o.type])
    if o.repeat_of is not None:
        suffix = T.REPEAT_SUFFIX.get(o.type, T.REPEAT_SUFFIX["other"])
        text = rng.choice(T.REPEAT_PREFIX) + core + rng.choice(suffix)
    else:
        text = rng.choice(T.OPENERS) + core + demand
    return text, reply


def _visit(h, o, rng, world, at):
    """回访, then 归档: a dissatisfied first visit reopens the order for a second round."""
    wf = workflow(o.type)
    agent = world.staff("agent")
    first = _pick(rng, SATISFACTION.get(o.type, SATISFACTION["other"]))
    if not h.event(EventKind.VISIT, at, agent, "", h.stage, h.stage, satisfaction=first, visit=1):
        return
    h.visits, h.satisfaction = 1, first
    if first == "dissatisfied":
        if not h.move(wf.reopen_to, at, agent, "回访不满意，重新处理", kind=EventKind.REOPEN):
            return
        h.escalate(Escalation.LEADERSHIP, "首次回访客户不满意，升级至单位领导", at, agent)
        t = at
        handler = h.assignee or world.staff("handler", o.unit_id)
        for stage in wf.stages[wf.stages.index(wf.reopen_to) + 1: wf.stages.index("visited")]:
            t = _office(rng, t + timedelta(hours=rng.uniform(2, 30)))
            actor = world.staff("dispatcher") if stage == "audited" else handler
            if not h.move(stage, t, actor, "二次处理" if stage == "replied" else ""):
                return
        t = _office(rng, t + timedelta(hours=rng.uniform(2, 24)))
        second = _pick(rng, SATISFACTION["second"])
        if not h.event(EventKind.VISIT, t, agent, "", h.stage, h.stage, satisfaction=second, visit=2):
            return
        h.visits, h.satisfaction = 2, second
        note = "二次回访仍不满意，诉求超出政策范围，经审核办结" if second == "dissatisfied" else ""
        if not h.move("visited", t, agent, note):
            return
        at = t
    elif not h.move("visited", at, agent):
        return
    h.move("closed", at + _minutes(rng.uniform(2, 40)), agent)


def _audit(h, o, rng, world, at, text, reply):
    """审核: quality checks; a vague reply is sometimes sent back (回退) and rewritten."""
    dispatcher = world.staff("dispatcher")
    flags = rules.quality_flags(order_type=o.type, category_l2=o.code if o.type == "complaint" else "", text=text,
                                reply=h.reply, has_region=o.taiqu is not None, reject_count=h.rejects)
    if flags and h.reply != reply and rng.random() < 0.6:
        back = workflow(o.type).stages[workflow(o.type).stages.index("replied") - 1]
        if not h.move(back, at, dispatcher, "回单内容未说明处理结果，请补充", kind=EventKind.REJECT):
            return False
        h.rejects += 1
        h.reply = reply
        t = _office(rng, at + timedelta(hours=rng.uniform(1, 20)))
        if not h.move("replied", t, h.assignee or dispatcher, "补充回单"):
            return False
        at = _office(rng, t + timedelta(hours=rng.uniform(0.5, 6)))
        flags = rules.quality_flags(order_type=o.type, category_l2=o.code if o.type == "complaint" else "",
                                    text=text, reply=h.reply, has_region=o.taiqu is not None, reject_count=h.rejects)
    if flags:
        if not h.event(EventKind.QUALITY, at, dispatcher, "；".join(f["message"] for f in flags), h.stage, h.stage,
                       flags=flags):
            return False
        h.flags = flags
    return h.move("audited", at, dispatcher)


def _reply_for(rng, reply):
    return rng.choice(T.VAGUE_REPLIES) if rng.random() < VAGUE_REPLY_RATE else reply


def _complaint(h, o, rng, world, cal, text, reply):
    late = LATE["complaint"]
    unit = world.units.get(o.unit_id, "")
    t = _natural(rng, o.at, 20, late["dispatch"])
    if not h.move("dispatched", t, world.staff("dispatcher"), f"派发至{unit}"):
        return
    h.assignee = handler = world.staff("handler", o.unit_id)
    t = _natural(rng, t, 120, late["receive"])
    if not h.move("received", t, handler):
        return
    due = cal.add_working_days(t, 1)
    contacted = _working(rng, cal, t, 1, late["contact"])
    if o.stuck and rng.random() < 0.5:  # the customer cannot be reached, or nobody tried
        contacted = h.end + timedelta(days=rng.uniform(1, 20))
    if contacted > due and rng.random() < 0.35:
        h.event(EventKind.URGE, min(contacted, due + timedelta(hours=rng.uniform(0.5, 4))), world.staff("agent"),
                "联系客户超时，催办", h.stage, h.stage, count=1)
        h.urges = 1
    if not h.move("contacted", contacted, handler, "已电话联系客户，约定处理时间"):
        return
    handle_due = cal.add_working_days(o.at, 5)
    if o.stuck:
        replied = max(contacted, h.end) + timedelta(days=rng.uniform(1, 20))
    elif rng.random() < late["handle"] or contacted + timedelta(hours=1) >= handle_due:
        replied = max(handle_due, contacted + timedelta(hours=1)) + timedelta(
            hours=rng.lognormvariate(math.log(8), 0.9))
    else:
        replied = contacted + timedelta(hours=1) + (handle_due - contacted - timedelta(hours=1)) * (
            0.05 + 0.8 * rng.random() ** 1.5)
    handled = max(contacted + _minutes(5), replied - _minutes(rng.uniform(10, 180)))
    if not h.move("handled", handled, handler):
        return
    h.reply = _reply_for(rng, reply)
    if not h.move("replied", replied, handler):
        return
    if not _audit(h, o, rng, world, _working(rng, cal, h.last, 1, late["audit"]), text, reply):
        return
    _visit(h, o, rng, world, _working(rng, cal, h.last, 1, late["visit"]))


def _fault(h, o, rng, world, cal, text, reply):
    late = LATE["fault_repair"]
    area = o.area or "rural"
    t = _natural(rng, o.at, 3, late["dispatch"])
    if not h.move("dispatched", t, world.staff("dispatcher"), "派发抢修班组"):
        return
    h.assignee = crew = world.staff("field", o.unit_id)
    t = _natural(rng, t, ARRIVAL_MINUTES[area], _late(late, "arrival", area))
    if not h.move("arrived", t, crew):
        return
    if o.code == "customer_side":
        t = t + _minutes(rng.uniform(10, 40))
    else:
        t = _natural(rng, t, RESTORATION_MINUTES[area], late["restoration_after_arrival"])
    if not h.move("restored", t, crew):
        return
    t = _natural(rng, t, 30, late["reply_after_restoration"])
    h.reply = reply
    if not h.move("replied", t, crew):
        return
    if not _audit(h, o, rng, world, _office(rng, t + timedelta(hours=rng.lognormvariate(math.log(4), 0.8))), text,
                  reply):
        return
    _visit(h, o, rng, world, _office(rng, h.last + timedelta(hours=rng.lognormvariate(math.log(10), 0.8))))


def _handled_type(h, o, rng, world, cal, text, reply):
    """举报、意见、业务申请: dispatch, receive, handle within N working days from acceptance, reply, audit,
    visit."""
    late = LATE["other"]
    t = _natural(rng, o.at, 20, late["dispatch"])
    if not h.move("dispatched", t, world.staff("dispatcher"), f"派发至{world.units.get(o.unit_id, '')}"):
        return
    h.assignee = handler = world.staff("handler", o.unit_id)
    t = _office(rng, t + _minutes(rng.uniform(5, 240)))
    if not h.move("received", t, handler):
        return
    due = cal.add_working_days(o.at, HANDLE_DAYS[o.type])
    if o.stuck:  # waiting for material, a construction permit, the customer
        replied = max(t, h.end) + timedelta(days=rng.uniform(1, 20))
    elif rng.random() < late["handle"] or t + timedelta(hours=1) >= due:
        replied = max(due, t + timedelta(hours=1)) + timedelta(hours=rng.lognormvariate(math.log(10), 0.9))
    else:
        # work on time tends to be finished towards the deadline rather than at once
        window = due - t - timedelta(hours=1)
        replied = _office(rng, t + timedelta(hours=1) + window * (0.05 + 0.9 * rng.random() ** 0.7))
        if replied >= due:
            replied = due - _minutes(rng.uniform(30, 300))
    if not h.move("handled", max(t + _minutes(5), replied - _minutes(rng.uniform(10, 120))), handler):
        return
    h.reply = _reply_for(rng, reply)
    if not h.move("replied", replied, handler):
        return
    if not _audit(h, o, rng, world, _working(rng, cal, h.last, 1, late["audit"]), text, reply):
        return
    _visit(h, o, rng, world, _working(rng, cal, h.last, 1, late["visit"]))


def _suggestion(h, o, rng, world, cal, text, reply):
    t = _office(rng, o.at + _minutes(rng.uniform(10, 120)))
    if not h.move("dispatched", t, world.staff("dispatcher")):
        return
    h.assignee = handler = world.staff("handler", o.unit_id)
    handled = _working(rng, cal, o.at, HANDLE_DAYS["suggestion"], 0.04, late_hours=20)
    if not h.move("handled", max(handled, t + _minutes(30)), handler):
        return
    h.reply = reply
    if not h.move("replied", h.last + _minutes(rng.uniform(10, 120)), handler):
        return
    h.move("closed", _office(rng, h.last + timedelta(hours=rng.uniform(1, 24))), world.staff("agent"))


def _quick(h, o, rng, world, cal, text, reply):
    """咨询、表扬: mostly answered or thanked on the call; otherwise handled by a station."""
    agent = world.staff("agent")
    h.reply = reply
    if rng.random() < CLOSE_ON_INTAKE[o.type]:
        h.move("closed", o.at + _minutes(rng.uniform(2, 12)), agent, "受理时直接办结")
        return
    h.assignee = handler = world.staff("handler", o.unit_id)
    limit_days = 1 if o.type == "inquiry" else 5
    handled = _working(rng, cal, o.at, limit_days, 0.06)
    if not h.move("handled", max(handled, o.at + _minutes(20)), handler):
        return
    if o.type == "inquiry" and not h.move("replied", h.last + _minutes(rng.uniform(5, 60)), handler):
        return
    h.move("closed", _office(rng, h.last + _minutes(rng.uniform(10, 240))), agent)


TIMELINES = {"complaint": _complaint, "fault_repair": _fault, "report": _handled_type, "opinion": _handled_type,
             "service_request": _handled_type, "suggestion": _suggestion, "inquiry": _quick, "praise": _quick}


# --------------------------------------------------------------------------------------------------
# The step


def _window(ctx):
    end = ctx.today.astimezone(TZ)
    year, month = end.year, end.month - ctx.months
    while month <= 0:
        month += 12
        year -= 1
    return end.replace(year=year, month=month, day=min(end.day, 28)), end


def default_order_count(customers: int, months: int = 12) -> int:
    return round(customers * ORDERS_PER_CUSTOMER_YEAR * months / 12)


@register_step(40, "workorders")
def build_workorders(ctx):
    if WorkOrder.objects.exists():
        return "已有工单，跳过（工单演示数据只在空的工单表上生成）"
    rng = random.Random(f"gridcare-demo-workorders-{ctx.seed}")
    start, end = _window(ctx)
    cal = get_calendar()  # once: every clock below uses it
    fraction = warning_fraction()
    world = _World(ctx, rng, start, end)
    if not world.customers:
        return "没有客户，跳过"
    n_total = ctx.orders if ctx.orders is not None else default_order_count(len(world.customers), ctx.months)
    orders = _plan(world, n_total, rng, cal)
    recent = [o for o in orders if o.at >= end - timedelta(days=STUCK_DAYS)
              and o.type in ("complaint", "report", "opinion", "service_request")]
    for o in rng.sample(recent, round(len(recent) * STUCK_RATE)):
        o.stuck = True

    objs, numbers, last_complaint = {}, set(), {}
    for o in orders:  # in order of acceptance: an original's history exists when its repeat call comes
        text, reply = _texts(o, world, rng)
        creator = world.staff("clerk") if o.channel == "hall" else world.staff("agent")
        o.h = _History(o, end)
        _intake(o, creator, last_complaint)
        TIMELINES[o.type](o.h, o, rng, world, cal, text, reply)
        objs[o] = _order_row(o, rng, text, creator, numbers)
    for o, wo in objs.items():  # final state, now that later calls have added their links and escalations
        _final_state(o, wo, end, cal, fraction)

    WorkOrder.objects.bulk_create(list(objs.values()), batch_size=1000)
    linked = []
    for o, wo in objs.items():
        if o.repeat_of is not None:
            wo.repeat_of_id = objs[o.repeat_of].pk
            linked.append(wo)
    WorkOrder.objects.bulk_update(linked, ["repeat_of"], batch_size=1000)
    record_bulk(objs.values(), "create", note="demo-data")
    events = [event for o, wo in objs.items() for event in _stage_events(o, wo, objs)]
    StageEvent.objects.bulk_create(events, batch_size=5000)

    ctx.out["workorders"] = list(objs.values())
    counts = Counter(o.type for o in orders)
    n_open = sum(1 for wo in objs.values() if wo.status == Status.OPEN)
    return (f"{len(objs)} work orders ({counts['complaint']} complaints, {counts['fault_repair']} fault repairs, "
            f"{n_open} open, {len(linked)} repeat calls), {len(events)} stage events")


def _intake(o, creator, last_complaint):
    """受理: the CREATE event, the intake escalations of a complaint and the link of a repeat call, as
    services.do_create_order applies them."""
    h, c = o.h, o.customer
    h.event(EventKind.CREATE, o.at, creator, f"{Channel(o.channel).label}受理", "", "accepted")
    if o.type == "complaint":
        if o.channel == "12398":
            h.escalate(Escalation.HEAD, "12398监管热线投诉，由单位负责人亲自处理", o.at, creator)
        elif c is not None and c.pk in last_complaint and o.at - last_complaint[c.pk] <= timedelta(days=60):
            h.escalate(Escalation.HEAD, "95598重复投诉，由单位负责人亲自处理", o.at, creator)
        if c is not None:
            last_complaint[c.pk] = o.at
    first = o.repeat_of
    if first is not None:
        h.event(EventKind.LINK, o.at, creator, earlier=first)
        first.h.add_later(EventKind.LINK, o.at, creator, repeat=o)
        if first.type == "complaint" and first.h.open_at(o.at) and first.h.escalation < Escalation.LEADERSHIP:
            reason = "投诉工单客户二次来电，升级至单位领导"
            first.h.add_later(EventKind.ESCALATE, o.at, creator, reason, level=int(Escalation.LEADERSHIP))
            first.h.escalation, first.h.escalation_reason = Escalation.LEADERSHIP, reason


def _order_row(o, rng, text, creator, numbers) -> WorkOrder:
    c = o.customer
    if c is not None:
        caller_name = c.name if c.customer_class == "residential" else person_name(rng)
        caller_phone = c.phone or _mobile(rng)
    else:
        caller_name, caller_phone = person_name(rng), _mobile(rng)
    while True:  # 16 characters like the engine's: yymmdd + 10 digits
        number = f"{o.at:%y%m%d}{rng.randrange(10 ** 10):010d}"
        if number not in numbers:
            numbers.add(number)
            break
    return WorkOrder(
        order_no=number, order_type=o.type, channel=o.channel,
        category_l1=_l1(o.code) if o.type == "complaint" else "",
        category_l2=o.code if o.type == "complaint" else "",
        fault_kind=o.code if o.type == "fault_repair" else "", customer=c, caller_name=caller_name[:50],
        caller_phone=caller_phone, area_kind=o.area, unit_id=o.unit_id, transformer_area_id=o.taiqu, text=text,
        accepted_at=o.at, created_by_id=creator[0])


def _final_state(o, wo, end, cal, fraction):
    h = o.h
    wo.stage, wo.stage_entered_at = h.stage, h.entered
    wo.reply, wo.satisfaction, wo.visit_count = h.reply, h.satisfaction, h.visits
    wo.urge_count, wo.reject_count, wo.quality_flags = h.urges, h.rejects, h.flags
    wo.escalation, wo.escalation_reason = h.escalation, h.escalation_reason
    wo.assignee_id = h.assignee[0] if h.assignee and h.stage != "accepted" else None
    if h.closed_at is not None:
        wo.status, wo.closed_at = Status.CLOSED, h.closed_at
        return
    key, due, warn = open_stage_deadline(o.type, h.stage, o.area, o.at, h.entered, cal, fraction)
    wo.stage_limit_key, wo.stage_due_at, wo.stage_warn_at = key, due, warn
    if due is not None and due <= end:
        wo.sla_state = SlaState.OVERDUE
    elif warn is not None and warn <= end:
        wo.sla_state = SlaState.WARNING


def _stage_events(o, wo, objs):
    for kind, at, actor, note, from_stage, to_stage, data in o.h.events:
        if "earlier" in data:
            number = objs[data["earlier"]].order_no
            note, data = f"重复来电，关联原工单 {number}", {"earlier": number}
        elif "repeat" in data:
            number = objs[data["repeat"]].order_no
            note, data = f"客户再次来电：{number}", {"repeat": number}
        yield StageEvent(order_id=wo.pk, kind=kind, from_stage=from_stage, to_stage=to_stage, actor_id=actor[0],
                         actor_name=actor[1][:50], at=at, note=note, data=data)


# --------------------------------------------------------------------------------------------------
# Checking the calibration against what is stored


def calibration_figures(since: datetime | None = None, until: datetime | None = None) -> dict:
    """The calibration.md figures as the stored orders show them (for the tests and for whoever wants to
    see that the demo is calibrated): complaint shares, areas, hours, 台区 hot spots, and per stage
    limit the share of closed orders that were over it (first pass through the stages)."""
    qs = WorkOrder.objects.all()
    if since:
        qs = qs.filter(accepted_at__gte=since)
    if until:
        qs = qs.filter(accepted_at__lt=until)
    complaints = list(qs.filter(order_type="complaint").values_list(
        "category_l1", "category_l2", "area_kind", "accepted_at", "transformer_area_id", "customer_id"))
    n = len(complaints) or 1
    l1 = Counter(r[0] for r in complaints)
    l2 = Counter(r[1] for r in complaints)
    areas = Counter("urban" if r[2] == "urban" else "rural" for r in complaints)
    hours = Counter(r[3].astimezone(TZ).hour for r in complaints)
    per_month = defaultdict(lambda: defaultdict(set))
    for r in complaints:
        if r[4] is not None:
            local = r[3].astimezone(TZ)
            per_month[(local.year, local.month)][r[4]].add(r[5])
    months = sorted(per_month)
    multi = {m: sum(1 for people in per_month[m].values() if len(people) >= 2) for m in months}
    consecutive = {}
    for m in months:
        prev = (m[0], m[1] - 1) if m[1] > 1 else (m[0] - 1, 12)
        if prev in per_month:
            consecutive[m] = len(set(per_month[m]) & set(per_month[prev]))
    same_month_years = {}
    for m in months:
        if (m[0] - 1, m[1]) in per_month:
            same_month_years[m] = len(set(per_month[m]) & set(per_month[(m[0] - 1, m[1])]))
    return {
        "orders": qs.count(),
        "by_type": dict(Counter(qs.values_list("order_type", flat=True))),
        "open": qs.filter(status=Status.OPEN).count(),
        "complaints": len(complaints),
        "l1_share": {k: round(100 * v / n, 2) for k, v in l1.most_common()},
        "l2_share": {k: round(100 * v / n, 2) for k, v in l2.most_common()},
        "urban_share": round(100 * areas["urban"] / n, 1),
        "top_hours": [h for h, _ in hours.most_common(3)],
        "hours": dict(sorted(hours.items())),
        "taiqu_multi_customer_by_month": {f"{y}-{m:02d}": v for (y, m), v in multi.items()},
        "taiqu_consecutive_months": {f"{y}-{m:02d}": v for (y, m), v in consecutive.items()},
        "taiqu_same_month_consecutive_years": {f"{y}-{m:02d}": v for (y, m), v in same_month_years.items()},
        "late_by_limit": late_by_limit(qs.filter(status=Status.CLOSED)),
    }


def late_by_limit(orders_qs) -> dict:
    """{order_type: {limit key: (orders that passed through it, how many were over it)}} from the
    histories of `orders_qs`: a stage is over its limit when the order left it after the deadline the
    clock gives (time-limits.yaml, working-day calendar). Only the first pass counts (up to a reopen or
    a rejection)."""
    cal = get_calendar()
    info = {pk: (t, a, acc) for pk, t, a, acc in orders_qs.values_list("pk", "order_type", "area_kind", "accepted_at")}
    out = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    history = defaultdict(list)
    ids = list(info)
    for start in range(0, len(ids), 5000):
        for order_id, kind, to_stage, at in StageEvent.objects.filter(
                order_id__in=ids[start:start + 5000],
                kind__in=[EventKind.CREATE, EventKind.ADVANCE, EventKind.REOPEN, EventKind.REJECT]).order_by(
                "order_id", "at", "id").values_list("order_id", "kind", "to_stage", "at"):
            history[order_id].append((kind, to_stage, at))
    for order_id, events in history.items():
        order_type, area, accepted = info[order_id]
        wf = workflow(order_type)
        passes = []
        for kind, stage, at in events:
            passes.append((stage, at))
            if kind in (EventKind.REOPEN, EventKind.REJECT):
                break  # it ends the stage it leaves; what follows is a second pass
        verdict = {}
        for (stage, entered), (_next, left) in zip(passes, passes[1:]):
            spec = wf.clocks.get(stage)
            if spec is None:
                continue
            key, ref = spec
            limit = clock.limit_for(order_type, key, area)
            due = clock.due_at(accepted if ref == "accepted" else entered, limit, cal)
            verdict[key] = verdict.get(key, False) or left > due
        for key, late in verdict.items():
            out[order_type][key][0] += 1
            out[order_type][key][1] += late
    return {t: {k: tuple(v) for k, v in keys.items()} for t, keys in out.items()}
