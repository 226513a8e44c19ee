from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from gridcare.intelligence import classifier, rules, services
from gridcare.intelligence.models import CategoryFlag, PendingIntake, RepeatCandidate, Suggestion
from gridcare.workorders import services as wo

pytestmark = pytest.mark.django_db


def _order(user, text, **kw):
    data = {"order_type": "fault_repair", "fault_kind": "area_no_power", "text": text, "account_no": "3100000001"}
    data.update(kw)
    order, _ = wo.do_create_order(user, data, at=kw.pop("at", None) if "at" in kw else None)
    return order


# ------------------------------------------------------------------------------ suggestion endpoint
def test_suggest_endpoint_returns_codes_confidences_and_articles(world, api_client, model_settings):
    client = api_client(world.agent)
    r = client.get("/api/intelligence/suggest?text=" + "交了电费一天了还没给复电，我要投诉")
    assert r.status_code == 200, r.json_body
    body = r.json_body
    p = body["prediction"]
    assert p["order_type"] == "complaint" and p["category_l2"] == "arrears_disconnection"
    assert p["category_l1"] == "outage" and 0 < p["confidence"] <= 1
    assert set(p["confidences"]) >= {"order_type", "category_l1", "category_l2"}
    assert body["articles"] and body["articles"][0]["code"] == "reconnection"
    r = client.get("/api/intelligence/suggest?text=")
    assert r.status_code == 200 and r.json_body["problem"] == "empty" and r.json_body["prediction"] is None
    r = client.get("/api/intelligence/suggest?text=hello")
    assert r.json_body["problem"] == "no_chinese"


def test_suggest_requires_intake_capability(world, api_client, model_settings):
    r = api_client(world.reader).get("/api/intelligence/suggest?text=停电了")
    assert r.status_code == 403


def test_batch_classify_endpoint(world, api_client, model_settings):
    r = api_client(world.dispatcher).post("/api/intelligence/classify",
                                          {"texts": ["我家电表黑屏了，什么都不显示", "", "abc"]})
    assert r.status_code == 200
    res = r.json_body["results"]
    assert res[0]["fault_kind"] == "meter_fault" and res[1]["problem"] == "empty" and res[2]["problem"] == "no_chinese"


# ------------------------------------------------------------------------------ intake and audit hooks
def test_suggestion_log_and_accuracy_report(world, api_client, model_settings):
    o1 = _order(world.agent, "我家突然没电了，邻居家都有电", fault_kind="single_no_power")
    o2 = _order(world.agent, "营业厅的人态度很差，还骂人，我要投诉", order_type="complaint", fault_kind="",
                category_l2="billing")  # the agent chose a wrong category
    for o in (o1, o2):
        services.record_suggestion(o, world.agent)
    services.record_suggestion(o1, world.agent)  # idempotent per order
    assert Suggestion.objects.count() == 2
    r = api_client(world.supervisor_city).get("/api/intelligence/accuracy")
    assert r.status_code == 200
    assert r.json_body["orders"] == 2
    assert r.json_body["accuracy"]["order_type"] == 1.0
    assert r.json_body["accuracy"]["category_l2"] == 0.0 and r.json_body["accuracy"]["fault_kind"] == 1.0
    assert api_client(world.agent).get("/api/intelligence/accuracy").status_code == 403


def test_audit_flags_a_category_that_contradicts_a_confident_prediction(world, api_client, model_settings):
    wrong = _order(world.agent, "营业厅的人态度很差，还骂人，我要投诉", order_type="complaint", fault_kind="",
                   category_l2="billing")
    right = _order(world.agent, "营业厅的人态度很差，还骂人，我要投诉", order_type="complaint", fault_kind="",
                   category_l2="attitude")
    flags = services.flag_on_audit(wrong)
    assert [(f.field, f.chosen, f.predicted) for f in flags] == [("category_l2", "billing", "attitude")]
    assert services.flag_on_audit(right) == []
    services.flag_on_audit(wrong)  # once per order and field
    assert CategoryFlag.objects.filter(order=wrong).count() == 1
    r = api_client(world.dispatcher).get(f"/api/intelligence/orders/{wrong.order_no}/flags")
    assert r.json_body[0]["predicted"] == "attitude"
    r = api_client(world.dispatcher).post(f"/api/intelligence/flags/{flags[0].pk}", {"status": "corrected"})
    assert r.status_code == 200 and CategoryFlag.objects.get().status == "corrected"
    r = api_client(world.agent).post(f"/api/intelligence/flags/{flags[0].pk}", {"status": "dismissed"})
    assert r.status_code == 403
    assert CategoryFlag.objects.get().audit_entries().exists()  # attributable


@pytest.mark.django_db(transaction=True)
def test_intake_queues_the_order_and_the_sweep_on_the_real_worker_handles_it(world, model_settings):
    """Intake (the real service) only queues the order, in its own transaction; the scheduled sweep, run by
    the real worker, records the suggestion and the repeat search and empties the queue."""
    from gridcare.intelligence.tasks import after_intake_sweep_task

    first = _order(world.agent, "幸福小区三天两头停电，冰箱里的东西都坏了", order_type="complaint", fault_kind="",
                   category_l2="frequent_outage")
    order = _order(world.agent, "幸福小区又停电了，这个月三天两头停电，冰箱的东西都坏了", order_type="complaint",
                   fault_kind="", category_l2="frequent_outage")
    assert not Suggestion.objects.exists()  # nothing done in the intake request itself
    assert set(PendingIntake.objects.values_list("order_id", "user_id")) == {(first.pk, world.agent.pk),
                                                                           (order.pk, world.agent.pk)}
    after_intake_sweep_task.enqueue()
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    assert set(Suggestion.objects.values_list("order_id", "user_id")) == {(first.pk, world.agent.pk),
                                                                        (order.pk, world.agent.pk)}
    assert [c.earlier for c in RepeatCandidate.objects.filter(order=order)] == [first]
    assert not PendingIntake.objects.exists()


def test_the_sweep_is_bounded_and_safe_to_run_twice(world, model_settings):
    orders = [_order(world.agent, f"家里没电了，邻居家有电，第{k}次来电") for k in range(5)]
    assert services.process_pending(batch=3)["orders"] == 3
    assert PendingIntake.objects.count() == 2 and Suggestion.objects.count() == 3
    assert services.process_pending(batch=3)["orders"] == 2
    assert services.process_pending(batch=3) == {"orders": 0, "repeats": 0}
    assert sorted(Suggestion.objects.values_list("order_id", flat=True)) == sorted(o.pk for o in orders)
    # the batch suggestion is the one a single prediction gives
    one = Suggestion.objects.get(order=orders[0])
    single = services.predict(orders[0].text)
    assert (one.order_type, one.fault_kind) == (single.order_type or "", single.fault_kind or "")


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_share_the_queue_without_doing_an_order_twice(world, model_settings):
    from django.db import connection, transaction

    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip("SKIP LOCKED needs PostgreSQL; SQLite runs one writer at a time")
    import threading

    orders = [_order(world.agent, f"客户反映电压偏低，灯光昏暗，第{k}次") for k in range(6)]
    held = PendingIntake.objects.filter(order__in=orders[:2])
    claimed, release, results = threading.Event(), threading.Event(), []

    def other_worker():  # holds two rows as a sweep on another worker would
        try:
            with transaction.atomic():
                list(held.select_for_update())
                claimed.set()
                release.wait(30)
        finally:
            connection.close()

    t = threading.Thread(target=other_worker)
    t.start()
    claimed.wait(30)
    try:
        results.append(services.process_pending(batch=10))
    finally:
        release.set()
        t.join()
    assert results[0]["orders"] == 4  # the two held rows are left to their worker, not waited for or redone
    assert set(PendingIntake.objects.values_list("order_id", flat=True)) == {o.pk for o in orders[:2]}


# ------------------------------------------------------------------------------ repeats
def test_repeat_detection_same_customer_same_problem(world, api_client, model_settings):
    now = timezone.now()
    first = _order(world.agent, "幸福小区这个月停电五次了，三天两头停电，冰箱里的东西都坏了",
                   order_type="complaint", fault_kind="", category_l2="frequent_outage")
    first.accepted_at = now - timedelta(days=3)
    first.save()
    unrelated = _order(world.agent, "想问一下电费可以在哪里交", order_type="inquiry", fault_kind="")
    unrelated.accepted_at = now - timedelta(days=2)
    unrelated.save()
    old = _order(world.agent, "幸福小区三天两头停电，冰箱的东西都坏了", order_type="complaint", fault_kind="",
                 category_l2="frequent_outage")
    old.accepted_at = now - timedelta(days=200)  # outside the window
    old.save()
    again = _order(world.agent, "客户再次来电，幸福小区又停电了，这个月三天两头停电，要求给说法",
                   order_type="complaint", fault_kind="", category_l2="frequent_outage")
    found = services.find_repeats(again)
    assert [c.earlier for c in found] == [first]
    assert found[0].same_customer and found[0].proposal == "merge"
    # the same problem on the same 台区 from another customer is found too, at a stricter threshold
    world.cust_a.transformer_area  # noqa: B018
    r = api_client(world.agent).get("/api/intelligence/similar", data=None) if False else None
    r = api_client(world.agent).get("/api/intelligence/similar?taiqu_code=TQ0001&text="
                                    "幸福小区这个月停电五次了，三天两头停电，冰箱里的东西都坏了")
    assert r.status_code == 200 and first.order_no in [c["order_no"] for c in r.json_body["candidates"]]
    r = api_client(world.agent).get("/api/intelligence/similar?text=停电")
    assert r.status_code == 400 and r.json_body["errors"][0]["field"] == "account_no"
    # proposals through the API, applied through the work-order services
    r = api_client(world.dispatcher).get(f"/api/intelligence/orders/{again.order_no}/repeats")
    cand = r.json_body["candidates"][0]
    assert cand["earlier"] == first.order_no
    r = api_client(world.dispatcher).post(f"/api/intelligence/repeats/{cand['id']}", {"action": "link"})
    assert r.status_code == 200 and r.json_body["status"] == "linked"
    again.refresh_from_db()
    assert again.repeat_of == first
    assert services.repeat_counts([world.cust_a.pk], now - timedelta(days=30)) == {world.cust_a.pk: 1}
    assert RepeatCandidate.objects.get().audit_entries().exists()


# ------------------------------------------------------------------------------ complaint risk
RISK = services.config()["risk"]


@given(st.integers(0, 6), st.booleans(), st.integers(0, 8), st.integers(0, 4), st.booleans(), st.integers(0, 6),
       st.integers(0, 5), st.sampled_from(["repeat_calls", "taiqu_outages", "overdue_stages", "negative_words",
                                           "urge_count", "sensitive", "near_breach"]))
def test_risk_score_is_monotonic_and_bounded(rc, sens, outages, overdue, near, neg, urge, factor):
    x = rules.RiskInput(rc, sens, outages, overdue, near, neg, urge)
    s = rules.risk_score(x, RISK["weights"])
    assert 0 <= s < 1
    bumped = dict(x.__dict__)
    bumped[factor] = True if isinstance(bumped[factor], bool) else bumped[factor] + 1
    assert rules.risk_score(rules.RiskInput(**bumped), RISK["weights"]) >= s


def test_risk_score_zero_without_factors_and_levels():
    assert rules.risk_score(rules.RiskInput(), RISK["weights"]) == 0
    assert rules.risk_level(0.0, RISK["thresholds"]) == "low"
    assert rules.risk_level(0.99, RISK["thresholds"]) == "high"


def test_annotate_risk_on_orders_and_template_tag(world, model_settings, django_assert_max_num_queries):
    from django.template import Context, Template

    calm = _order(world.agent, "我家突然没电了", fault_kind="single_no_power", account_no="3100000101")
    for _ in range(2):
        _order(world.agent, "幸福小区停电了", fault_kind="area_no_power")
    angry = _order(world.agent, "又停电了，一直没人来修，我要投诉你们，要求赔偿损失", fault_kind="area_no_power")
    complaint = _order(world.agent, "我要投诉", order_type="complaint", fault_kind="", category_l2="attitude")
    orders = list(type(calm).objects.filter(pk__in=[calm.pk, angry.pk, complaint.pk]).order_by("pk"))
    with django_assert_max_num_queries(4):
        services.annotate_risk(orders)
    by = {o.pk: o for o in orders}
    assert by[complaint.pk].complaint_risk is None  # complaints are already complaints
    assert by[angry.pk].complaint_risk > by[calm.pk].complaint_risk
    html = Template("{% load intelligence_tags %}{% complaint_risk o %}").render(Context({"o": by[angry.pk]}))
    assert "data-risk" in html
    r = services.risk_inputs([by[angry.pk]])[angry.pk]
    assert r.repeat_calls >= 2 and r.taiqu_outages >= 2 and r.negative_words >= 3


# ------------------------------------------------------------------------------ training from orders
def test_train_classifier_from_orders(world, tmp_path, model_settings):
    texts = {"single_no_power": "就我家没电，邻居都有电", "meter_fault": "电表黑屏不显示了", "area_no_power": "整片都停电了"}
    for kind, text in texts.items():
        for i in range(4):
            _order(world.agent, f"{text}{i}", fault_kind=kind)
    for i in range(4):
        _order(world.agent, f"想咨询一下电费怎么交{i}", order_type="inquiry", fault_kind="")
    out = tmp_path / "orders.gcm"
    from io import StringIO

    buf = StringIO()
    call_command("train-classifier", "--from-orders", "--output", str(out), stdout=buf)
    meta = classifier.read_header(out)
    assert meta["source"] == "orders" and meta["samples"] == 16
    assert meta["labels"]["order_type"] == ["fault_repair", "inquiry"]
    assert meta["labels"]["fault_kind"] == ["area_no_power", "meter_fault", "single_no_power"]
    assert "版本" in buf.getvalue()
    model = classifier.load(out)
    assert model.predict_one("电表黑屏不显示").fault_kind == "meter_fault"


def test_train_from_orders_without_orders_is_a_clear_error(db, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="没有可用于训练的历史工单"):
        call_command("train-classifier", "--from-orders", "--output", str(tmp_path / "x.gcm"))


def test_train_from_orders_since_a_date(world, tmp_path):
    """`--since` filters by the day accepted; a date after every order leaves nothing to train on."""
    from django.core.management.base import CommandError

    for i in range(4):
        _order(world.agent, f"整片都停电了{i}")
    assert len(services.order_samples(since=timezone.localdate())) == 4
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    with pytest.raises(CommandError, match="没有可用于训练的历史工单"):
        call_command("train-classifier", "--from-orders", "--since", tomorrow, "--output", str(tmp_path / "x.gcm"))


@pytest.mark.parametrize("since", ["notadate", "2026-13-01", "20260101", "2026-1-1"])
def test_train_classifier_refuses_a_wrong_since_date(db, tmp_path, since):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as exc:
        call_command("train-classifier", "--from-orders", "--since", since, "--output", str(tmp_path / "x.gcm"))
    assert str(exc.value) == f"--since 须为日期 YYYY-MM-DD，收到：{since}" and exc.value.returncode == 2
    assert not (tmp_path / "x.gcm").exists()


def test_train_classifier_wrong_since_on_the_command_line(tmp_path):
    """The command line as a script sees it: one Chinese line on stderr, exit status 2, no traceback."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    gridcare = Path(sys.executable).parent / "gridcare"
    env = {**os.environ, "GRIDCARE_VAR_DIR": str(tmp_path)}
    proc = subprocess.run([str(gridcare), "train-classifier", "--from-orders", "--since", "notadate",
                           "--output", str(tmp_path / "x.gcm")], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == "--since 须为日期 YYYY-MM-DD，收到：notadate"
    assert "Traceback" not in proc.stderr and "ValidationError" not in proc.stderr
    proc = subprocess.run([str(gridcare), "train-classifier", "--since", "2026-01-01", "--output",
                           str(tmp_path / "x.gcm")], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2 and "只能与 --from-orders 同用" in proc.stderr
    assert not (tmp_path / "x.gcm").exists()
