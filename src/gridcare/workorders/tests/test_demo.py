"""The demo's work orders: calibrated to calibration.md, with consistent histories, deterministic per seed.

One small utility is built once for the module (2,000 customers, 4,000 orders: 200 complaints, enough
for the hour-of-day peaks to be unambiguous) and rolled back at the end."""
import random
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.db import connection, transaction

from gridcare.core import demo
from gridcare.core.audit import audit_context
from gridcare.core.workcalendar import get_calendar
from gridcare.workorders import rules, services
from gridcare.workorders import demo as wo_demo
from gridcare.workorders import demo_texts
from gridcare.workorders.choices import SlaState
from gridcare.workorders.models import StageEvent, WorkOrder
from gridcare.workorders.workflow import workflow

SEED, CUSTOMERS, ORDERS = 7, 2000, 4000
TOLERANCE = 3.0  # percentage points


def wipe_orders():
    """Empties the order tables with plain SQL. The ORM's delete would visit every model of every app
    that refers to work orders (tables other capabilities may still be building); nothing in these
    tests refers to orders but their own history."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {StageEvent._meta.db_table}")
        cursor.execute(f"UPDATE {WorkOrder._meta.db_table} SET repeat_of_id = NULL")
        cursor.execute(f"DELETE FROM {WorkOrder._meta.db_table}")


def fingerprint():
    rows = WorkOrder.objects.order_by("order_no").values_list(
        "order_no", "order_type", "category_l2", "fault_kind", "customer__account_no", "accepted_at", "stage",
        "status", "repeat_of__order_no", "text", "satisfaction", "stage_due_at")
    return list(rows), StageEvent.objects.count()


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        ctx = demo.DemoContext(seed=SEED, customers=CUSTOMERS, orders=ORDERS, log=lambda m: None)
        with audit_context(None, "demo"):
            demo.run(ctx, {"org", "grid", "customers", "workorders"})
        yield {"ctx": ctx, "figures": wo_demo.calibration_figures(), "fingerprint": fingerprint()}
        transaction.set_rollback(True)


@pytest.fixture
def figures(built, db):
    return built["figures"]


def test_volumes(built, db):
    assert WorkOrder.objects.count() == ORDERS
    by_type = Counter(WorkOrder.objects.values_list("order_type", flat=True))
    assert by_type.most_common(1)[0][0] == "fault_repair"
    assert by_type["complaint"] == ORDERS * 5 // 100
    assert set(by_type) == set(wo_demo.TYPE_SHARES)
    assert wo_demo.default_order_count(50_000) == 20_000  # the documented county-scale default
    numbers = list(WorkOrder.objects.values_list("order_no", "accepted_at"))
    assert all(len(no) == 16 and no.isdigit() for no, _ in numbers)
    assert all(no[:6] == f"{at.astimezone(demo.TZ):%y%m%d}" for no, at in numbers)
    today = built["ctx"].today
    assert all(today - timedelta(days=366) <= at < today for _, at in numbers)


def test_same_seed_same_orders_other_seed_other_orders(built, db):
    wipe_orders()
    ctx = demo.DemoContext(seed=SEED, customers=CUSTOMERS, orders=ORDERS, log=lambda m: None)
    wo_demo.build_workorders(ctx)  # customers now come from the database
    assert fingerprint() == built["fingerprint"]
    assert "跳过" in wo_demo.build_workorders(ctx)  # never twice on the same table

    def plan(seed):
        rng = random.Random(seed)
        start, end = wo_demo._window(ctx)
        world = wo_demo._World(ctx, rng, start, end)
        return [(o.type, o.code, o.at, o.customer and o.customer.pk) for o in wo_demo._plan(world, 500, rng,
                                                                                           get_calendar())]

    assert plan(1) == plan(1) != plan(2)


def test_complaint_categories_and_areas(figures):
    assert figures["complaints"] == 200
    for l1, share in {"power_quality": 45.14, "business": 23.29, "service": 23.05, "outage": 4.74,
                      "grid_construction": 3.78}.items():
        assert abs(figures["l1_share"][l1] - share) <= TOLERANCE, (l1, figures["l1_share"])
    for l2, share in {"frequent_outage": 39.04, "conduct": 17.27, "voltage": 6.02}.items():
        assert abs(figures["l2_share"][l2] - share) <= TOLERANCE, (l2, figures["l2_share"])
    assert abs(figures["urban_share"] - 40.2) <= TOLERANCE


def test_complaints_peak_at_19_11_and_17_and_are_fewest_at_night(figures):
    hours = figures["hours"]
    assert figures["top_hours"] == [19, 11, 17]
    night = max(hours.get(h, 0) for h in range(1, 5))
    assert night < min(hours.get(h, 0) for h in range(8, 22))


def test_contact_is_the_stage_most_often_late(figures):
    rates = {(t, k): late / n for t, keys in figures["late_by_limit"].items() for k, (n, late) in keys.items()
             if n >= 20}
    complaint = {k: r for (t, k), r in rates.items() if t == "complaint"}
    assert max(complaint, key=complaint.get) == "contact", complaint
    assert max(rates, key=rates.get) == ("complaint", "contact"), rates
    assert 0.10 <= complaint["contact"] <= 0.30
    assert all(r > 0 for r in complaint.values())  # every stage is sometimes late


def test_repeat_callers_are_linked_to_their_first_call(built, db):
    repeats = list(WorkOrder.objects.filter(repeat_of__isnull=False).select_related("repeat_of"))
    assert len(repeats) >= 40
    for o in repeats:
        first = o.repeat_of
        assert o.customer_id == first.customer_id and o.customer_id is not None
        assert (o.order_type, o.category_l2, o.fault_kind) == (first.order_type, first.category_l2, first.fault_kind)
        assert o.accepted_at > first.accepted_at
    assert StageEvent.objects.filter(kind="link").count() == 2 * len(repeats)
    assert any(o.order_type == "complaint" for o in repeats)
    per_customer = Counter(WorkOrder.objects.exclude(customer=None).values_list("customer_id", flat=True))
    assert sum(1 for n in per_customer.values() if n >= 3) >= 20  # customers who call several times a year
    # a repeat complaint within 60 days goes to the unit's head, as the escalation rules say
    assert WorkOrder.objects.filter(order_type="complaint", repeat_of__isnull=False, escalation=2).exists()


def test_taiqu_hot_spots(figures):
    multi = figures["taiqu_multi_customer_by_month"]
    assert sum(1 for n in multi.values() if n >= 1) >= 8, multi   # most months have one
    assert sum(figures["taiqu_consecutive_months"].values()) >= 10
    # a one-year window has no month twice
    assert figures["taiqu_same_month_consecutive_years"] == {}


def test_histories_follow_the_workflow(built, db):
    events = defaultdict(list)
    for order_id, kind, from_stage, to_stage, at in StageEvent.objects.filter(
            kind__in=["create", "advance", "reject", "reopen"]).order_by("at", "id").values_list(
            "order_id", "kind", "from_stage", "to_stage", "at"):
        events[order_id].append((kind, from_stage, to_stage, at))
    orders = {o.pk: o for o in WorkOrder.objects.all()}
    for pk, history in events.items():
        o = orders[pk]
        wf = workflow(o.order_type)
        assert history[0][0] == "create" and history[0][3] == o.accepted_at
        for (kind, source, target, _at), (_k, _s, previous, _a) in zip(history[1:], history):
            assert source == previous
            if kind == "advance":
                assert wf.can_go(source, target), (o.order_no, source, target)
            else:
                assert wf.stages.index(target) < wf.stages.index(source)
        assert history[-1][2] == o.stage
        if o.status == "closed":
            assert o.stage == "closed" and history[-1][3] == o.closed_at and o.stage_due_at is None
    visits = Counter(StageEvent.objects.filter(kind="visit").values_list("data__satisfaction", flat=True))
    assert visits["satisfied"] > 0.7 * sum(visits.values())
    assert visits["dissatisfied"] > 0
    assert WorkOrder.objects.filter(status="closed", satisfaction="dissatisfied").exists()


def test_recent_orders_are_open_with_deadlines(built, db):
    today = built["ctx"].today
    open_orders = list(WorkOrder.objects.filter(status="open"))
    assert len(open_orders) >= 10
    assert len({o.stage for o in open_orders}) >= 4  # at various stages
    assert WorkOrder.objects.filter(status="closed").count() > 0.95 * ORDERS
    with_clock = [o for o in open_orders if o.stage in workflow(o.order_type).clocks]
    assert with_clock and all(o.stage_due_at and o.stage_warn_at for o in with_clock)
    for o in with_clock:
        due, warn = o.stage_due_at, o.stage_warn_at
        services.recompute_deadline(o, today)
        assert (o.stage_due_at, o.stage_warn_at) == (due, warn), o.order_no
        expected = (SlaState.OVERDUE if due <= today else SlaState.WARNING if warn <= today else SlaState.OK)
        assert o.sla_state == expected
    assert any(o.sla_state == SlaState.OVERDUE for o in with_clock)
    assert any(o.sla_state == SlaState.OK for o in with_clock)
    # most open orders are recent; a few are stuck for weeks
    assert sum(1 for o in open_orders if o.accepted_at >= today - timedelta(days=14)) > len(open_orders) / 2
    assert get_calendar() is not None


def test_texts_match_their_codes(built, db):
    complaints = list(WorkOrder.objects.filter(order_type="complaint").values_list("category_l2", "text", "reply"))
    for l2, text, reply in complaints:
        assert rules.hinted_categories(text) <= {l2}, (l2, text)
        if reply and reply not in demo_texts.VAGUE_REPLIES:
            assert rules.reply_addresses_category(reply, l2), (l2, reply)
    assert len({t for _, t, _ in complaints}) > 0.8 * len(complaints)  # varied, not one phrase per code
    faults = WorkOrder.objects.filter(order_type="fault_repair")
    assert all(o.fault_kind and o.text for o in faults)
    assert not WorkOrder.objects.exclude(order_type="complaint").exclude(category_l2="").exists()
    assert not WorkOrder.objects.exclude(order_type="fault_repair").exclude(fault_kind="").exists()
    # callers who are not customers still have a place
    strangers = WorkOrder.objects.filter(customer=None)
    assert strangers.exists() and not strangers.filter(transformer_area=None).exists()
