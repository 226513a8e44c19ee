"""The demo data's complaint report shows calibration.md's figures (within a few percentage points), and
agrees exactly with the demo generator's own count of them (workorders.demo.calibration_figures)."""
import datetime as dt

import pytest
from django.db import transaction

from gridcare.analytics import facts, reports, rules
from gridcare.core import demo
from gridcare.core.audit import audit_context
from gridcare.workorders import demo as wo_demo

SEED, CUSTOMERS, ORDERS = 11, 2000, 4000
TOLERANCE = 3.0  # percentage points

# calibration.md, provincial 95598 complaint analysis (% of all complaints)
L1 = {"power_quality": 45.14, "business": 23.29, "service": 23.05, "outage": 4.74, "grid_construction": 3.78}
L2 = {"frequent_outage": 39.04, "conduct": 17.27, "voltage": 6.02}
URBAN = 100 * 152 / 378


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        ctx = demo.DemoContext(seed=SEED, customers=CUSTOMERS, orders=ORDERS, log=lambda m: None)
        with audit_context(None, "demo"):
            demo.run(ctx, {"org", "grid", "customers", "workorders"})
        facts.refresh()
        from gridcare.accounts.models import OrgUnit

        root = OrgUnit.objects.filter(parent__isnull=True).get()
        end = ctx.today.astimezone(rules.TZ).date() - dt.timedelta(days=1)
        year = rules.Period(end - dt.timedelta(days=364), end)
        month = rules.Period(dt.date(2026, 7, 1), dt.date(2026, 7, 31))
        from gridcare.analytics.models import COMPLAINT_STAGE_KEYS, ComplaintFact
        from gridcare.workorders.models import WorkOrder

        closed = ComplaintFact.objects.filter(order__status="closed")
        mine = {k: (closed.exclude(**{f"{k}_minutes": None}).count(), closed.filter(**{f"{k}_late": True}).count())
                for k in COMPLAINT_STAGE_KEYS}
        theirs = wo_demo.late_by_limit(WorkOrder.objects.filter(order_type="complaint", status="closed"))
        yield {"stage_check": (mine, theirs.get("complaint", {})),
               "year": reports.complaint_report(root, year, now=ctx.today),
               "month": reports.complaint_report(root, month, now=ctx.today),
               "figures": wo_demo.calibration_figures(since=year.start_at, until=year.end_at),
               "july": wo_demo.calibration_figures(since=month.start_at, until=month.end_at)}
        transaction.set_rollback(True)


def test_first_and_second_level_shares(built, db):
    r = built["year"]
    assert r["total"] == ORDERS * 5 // 100
    for code, target in L1.items():
        assert abs(r["by_category_l1"][code]["percent"] - target) <= TOLERANCE, code
    for code, target in L2.items():
        assert abs(r["by_category_l2"][code]["percent"] - target) <= TOLERANCE, code
    # the same shares the generator counts itself
    assert {k: v["percent"] for k, v in r["by_category_l1"].items() if v["count"]} == built["figures"]["l1_share"]


def test_urban_rural_split_and_hours(built, db):
    r = built["year"]
    urban = 100 * r["urban_rural"]["urban"] / r["total"]
    assert abs(urban - URBAN) <= TOLERANCE
    assert set(r["load_peaks"]["top_hours"]) == {19, 11, 17}            # calibration: 19, 11, 17 h
    night = sum(r["by_hour"][h] for h in range(0, 6))
    assert night < min(r["by_hour"][h] for h in (11, 17, 19))
    assert r["load_peaks"]["share"] > r["load_peaks"]["hours_share"]    # complaints gather at the load peaks


def test_contact_is_the_stage_most_often_late(built, db):
    r = built["year"]
    s = r["stage_durations"]
    assert r["stage_most_overdue"] == "contact"
    assert s["contact"]["overdue_share"] > max(v["overdue_share"] for k, v in s.items() if k != "contact")
    assert all(v["median_minutes"] is not None and v["p90_minutes"] >= v["median_minutes"] for v in s.values())


def test_taiqu_hot_spots_match_the_generator(built, db):
    r, july = built["month"], built["july"]
    assert len(r["taiqu_multi_customer"]) == july["taiqu_multi_customer_by_month"].get("2026-07", 0) > 0
    # consecutive months: July against June (June lies before the period and is looked back at)
    june_july = wo_demo.calibration_figures(since=rules.Period(dt.date(2026, 6, 1), dt.date(2026, 7, 31)).start_at,
                                            until=rules.Period(dt.date(2026, 6, 1), dt.date(2026, 7, 31)).end_at)
    assert len(r["taiqu_consecutive_months"]) == june_july["taiqu_consecutive_months"]["2026-07"] > 0


def test_satisfaction_and_repeat_calls(built, db):
    r = built["year"]
    assert r["repeat_calls"] > 0 and r["repeat_customers"] > 0
    assert 0.55 <= r["satisfaction"]["satisfied_rate"] <= 0.85          # the demo's 70 % satisfied at first visit
    assert r["top_terms"]["power_quality"]["terms"]


def test_stage_verdicts_agree_with_the_generators_own_check(built, db):
    """Two implementations of "over its limit" (the facts' and workorders.demo.late_by_limit) agree,
    order by order count, on the closed complaints."""
    mine, theirs = built["stage_check"]
    assert theirs and {k: v for k, v in mine.items() if v[0]} == {k: tuple(v) for k, v in theirs.items()}
