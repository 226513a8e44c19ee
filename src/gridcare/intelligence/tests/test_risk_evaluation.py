"""The complaint-risk evaluation (evaluation.risk_precision): hand-built cases for the metrics, the labels,
the point-in-time inputs and the replayed sensitive flag; then a small demo utility end to end, checked
against the production input builder and for leakage from later orders."""
import random
from datetime import datetime, timedelta

import pytest
from django.db import transaction

from gridcare.core import demo
from gridcare.core.audit import audit_context
from gridcare.intelligence import evaluation as ev
from gridcare.intelligence import rules, services
from gridcare.workorders import services as wo_services
from gridcare.workorders.models import WorkOrder

TZ = demo.TZ
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=TZ)
_pk = iter(range(1, 10_000))


def fact(day, order_type="inquiry", customer=None, taiqu=None, code="", text="咨询电价", channel="hotline",
         hours=0):
    fault_kind = code if order_type == "fault_repair" else ""
    l2 = code if order_type == "complaint" else ""
    return ev.OrderFact(next(_pk), order_type, l2, fault_kind, customer, taiqu, channel,
                        T0 + timedelta(days=day, hours=hours), text)


# ------------------------------------------------------------------------------ metrics on hand-built cases
def test_top_k_counts_ties_in_proportion():
    scores = [0.9, 0.8, 0.8, 0.1]
    labels = [True, False, True, False]
    top = ev.top_k(scores, labels, 0.5)  # k = 2: the 0.9 and half of the two tied at 0.8
    assert top["k"] == 2 and top["tied_at_cut"] == 2
    assert top["precision"] == pytest.approx(0.75)
    assert top["recall"] == pytest.approx(0.75)
    top = ev.top_k(scores, labels, 0.25)
    assert (top["k"], top["precision"], top["recall"]) == (1, 1.0, 0.5)
    # the answer does not depend on the order rows come in
    pairs = list(zip(scores, labels))
    random.Random(3).shuffle(pairs)
    assert ev.top_k([s for s, _ in pairs], [lab for _, lab in pairs], 0.5)["precision"] == pytest.approx(0.75)
    assert ev.top_k([], [], 0.1)["precision"] is None


def test_auc_and_wilson():
    assert ev.auc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == pytest.approx(0.75)
    assert ev.auc([0.5, 0.5], [True, False]) == pytest.approx(0.5)  # a tie counts half
    assert ev.auc([0.1, 0.2], [False, False]) is None
    lo, hi = ev.wilson(2, 286)
    assert 0 <= lo < 2 / 286 < hi <= 1
    assert ev.wilson(0, 0) is None


# ------------------------------------------------------------------------------ labels and inputs
def test_labels_customer_then_taiqu_within_the_horizon():
    inquiry = fact(0, customer=1, taiqu=10)
    passer_by = fact(0, order_type="report", taiqu=10)
    quiet = fact(0, customer=2, taiqu=11)
    facts = [inquiry, passer_by, quiet,
             fact(10, "complaint", customer=3, taiqu=10, code="frequent_outage"),   # a neighbour: 台区 only
             fact(29, "complaint", customer=1, taiqu=10, code="billing"),
             fact(31, "complaint", customer=2, taiqu=11, code="billing"),           # after the horizon
             fact(-1, "complaint", customer=2, taiqu=11, code="billing")]           # before: not a label
    labels = ev.complaint_labels(facts, [inquiry, passer_by, quiet], 30)
    assert labels == {inquiry.pk: True, passer_by.pk: True, quiet.pk: False}
    assert ev.complaint_labels(facts, [inquiry], 20)[inquiry.pk] is False


def test_inputs_use_only_what_was_known_at_acceptance():
    target = fact(0, customer=1, taiqu=10, text="又停电了，一直没人管")
    earlier = [fact(-5, customer=1, taiqu=10), fact(-70, customer=1, taiqu=10),      # one in the window
               fact(-3, "fault_repair", customer=4, taiqu=10, code="area_no_power"),
               fact(-2, "complaint", customer=5, taiqu=10, code="frequent_outage"),
               fact(-1, "fault_repair", customer=6, taiqu=10, code="single_no_power")]  # not an outage order
    later = [fact(1, customer=1, taiqu=10), fact(2, "fault_repair", customer=7, taiqu=10, code="area_no_power")]
    x = ev.inputs_at_acceptance(earlier + [target] + later, [target], 60)[target.pk]
    assert x.repeat_calls == 1
    assert x.taiqu_outages == 2
    assert x.negative_words == rules.negative_hits(target.text) > 0
    assert (x.overdue_stages, x.near_breach, x.urge_count, x.sensitive) == (0, False, 0, False)
    assert ev.inputs_at_acceptance(earlier + [target], [target], 60)[target.pk] == x


def test_sensitive_flag_is_replayed_from_the_weekly_scan():
    rule = {"window_days": 30, "min_orders": 2, "expiry_days": 90, "channels": ["hotline"]}
    facts = [fact(0, customer=1), fact(10, customer=1), fact(1, customer=2), fact(9, customer=2, channel="app")]
    first = T0.replace(hour=2, minute=0)
    history = ev.SensitiveHistory(facts, rule, None, first, T0 + timedelta(days=200))
    # scans on days 0, 7, 14, …; days 0 and 10 are in the window of the scans of days 14, 21 and 28
    assert not history.at(1, T0 + timedelta(days=12))
    assert history.at(1, first + timedelta(days=14, hours=1))
    assert history.at(1, first + timedelta(days=28 + 89))
    assert not history.at(1, first + timedelta(days=28 + 91))
    assert not history.at(2, T0 + timedelta(days=20))  # the second call came by the app, not the hotline
    same = {"window_days": 60, "min_orders": 2, "expiry_days": 90}
    history = ev.SensitiveHistory(facts, None, same, first, T0 + timedelta(days=200))
    assert history.at(2, first + timedelta(days=14, hours=1))  # two inquiries: the same problem


# ------------------------------------------------------------------------------ end to end on a small demo
@pytest.fixture(scope="module")
def small_demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        ctx = demo.DemoContext(seed=ev.RISK_EVAL_SEEDS[0], customers=1500, orders=1500, log=lambda m: None)
        with audit_context(None, "demo"):
            demo.run(ctx, {"org", "grid", "customers", "workorders"})
        yield ctx
        transaction.set_rollback(True)


def test_evaluation_on_a_small_demo_returns_sane_figures(small_demo, db):
    report = ev.risk_precision_from_db(end=small_demo.today)
    for scope in [report, *report["by_scope"].values()]:
        if not scope["evaluated"]:
            continue
        assert 0 <= scope["positives"] <= scope["evaluated"]
        assert 0 <= scope["base_rate"] <= 1
        assert sum(scope["levels"].values()) == scope["evaluated"]
        for key in ("high", "medium_or_high", "top_5pct", "top_10pct"):
            for field in ("precision", "recall"):
                value = scope[key][field]
                assert value is None or 0 <= value <= 1, (key, field, value)
        assert scope["high"]["orders"] == scope["levels"]["high"]
        assert scope["medium_or_high"]["orders"] >= scope["high"]["orders"]
        assert scope["top_10pct"]["k"] == max(1, round(scope["evaluated"] * 0.10))
    assert report["evaluated"] == report["by_scope"]["customer"]["evaluated"] + \
        report["by_scope"]["taiqu_only"]["evaluated"]
    assert report["evaluated"] > 300 and report["positives"] > 0
    assert report["auc"] is None or 0 <= report["auc"] <= 1
    # the window: no order of the first 60 days (incomplete look-back) or the last 30 (label not observed)
    assert report["from"] < report["until"]


def test_evaluation_inputs_match_the_production_builder_and_do_not_leak(small_demo, db):
    facts = ev.load_order_facts()
    window = services.config()["risk"]["window_days"]
    rng = random.Random(1)
    targets = rng.sample([f for f in facts if f.order_type != "complaint"], 60)
    repeat_rule, same_rule = wo_services.rule("sensitive_repeat_callers"), wo_services.rule("sensitive_same_problem")
    first, last = facts[0].accepted_at + timedelta(days=7), facts[-1].accepted_at

    def history(known):
        return ev.SensitiveHistory(known, repeat_rule, same_rule, first, last)

    mine = ev.inputs_at_acceptance(facts, targets, window, history(facts))
    orders = {o.pk: o for o in WorkOrder.objects.filter(pk__in=[f.pk for f in targets])}
    for f in targets:
        prod = services.risk_inputs([orders[f.pk]], now=f.accepted_at)[f.pk]
        assert (prod.repeat_calls, prod.taiqu_outages, prod.negative_words) == \
            (mine[f.pk].repeat_calls, mine[f.pk].taiqu_outages, mine[f.pk].negative_words), f
        known_then = [g for g in facts if g.accepted_at <= f.accepted_at]
        assert ev.inputs_at_acceptance(known_then, [f], window, history(known_then))[f.pk] == mine[f.pk]
    assert any(x.sensitive for x in ev.inputs_at_acceptance(facts, facts, window, history(facts)).values())
