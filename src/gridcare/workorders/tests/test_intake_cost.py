"""What keeps the 95598 intake cheap, and that it stays correct: the create answer built from the saved
order, the per-process copies of the escalation rules and the calendar check, the feeder-fault grouping
restricted to the feeder, and the statements an intake costs."""
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gridcare.outages.models import FeederFaultAlert
from gridcare.testing import ApiClient
from gridcare.workorders import services
from gridcare.workorders.models import EscalationRule, StageEvent, WorkOrder

COMPLAINT = {"order_type": "complaint", "category_l2": "frequent_outage", "account_no": "3100000001",
             "text": "客户反映近两个月经常停电，要求解决"}
FAULT = {"order_type": "fault_repair", "fault_kind": "single_no_power", "text": "家里没电了"}


def _statements(captured):
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]


@pytest.fixture
def settled(monkeypatch):
    """The caches as in a server that has seen no rule or calendar change for a while."""
    from gridcare.core import calendar_services
    from gridcare.workorders import limits

    services._rules.settle()
    limits._table.settle()
    monkeypatch.setattr(calendar_services, "_cached", None)
    monkeypatch.setattr(calendar_services, "_written_at", float("-inf"))


@pytest.mark.parametrize("body", [COMPLAINT, {**FAULT, "account_no": "3100000001"},
                                  {"order_type": "inquiry", "account_no": "3100000101", "text": "咨询电价",
                                   "close_now": True, "reply": "已答复"}])
def test_create_answer_is_the_stored_order(world, body):
    agent = ApiClient(world.agent)
    created = agent.post("/api/workorders/", body, headers={"Idempotency-Key": f"k-{body['order_type']}"})
    assert created.status_code == 201, created.content
    stored = agent.get(f"/api/workorders/{created.json()['order_no']}")
    assert stored.status_code == 200
    a, b = created.json(), stored.json()
    assert set(a) == set(b)
    for key in a:
        if key.endswith("_at") and a[key] is not None:  # the same instant (the offset may be written differently)
            assert datetime.fromisoformat(a[key]) == datetime.fromisoformat(b[key]), key
        else:
            assert a[key] == b[key], key
    # the replay answers from the database, 200, the same order
    again = agent.post("/api/workorders/", body, headers={"Idempotency-Key": f"k-{body['order_type']}"})
    assert again.status_code == 200 and again.json()["order_no"] == a["order_no"]


def test_create_still_needs_the_view_capability(world, monkeypatch):
    from django.core.exceptions import PermissionDenied

    def refuse(user, cap, unit=None):
        if cap == "workorder.view":
            raise PermissionDenied("无权查看工单")

    monkeypatch.setattr(services, "require", refuse)
    resp = ApiClient(world.agent).post("/api/workorders/", COMPLAINT)
    assert resp.status_code == 403


def test_intake_statements_with_settled_caches(world, settled):
    agent = ApiClient(world.agent)
    agent.post("/api/workorders/", {"order_type": "service_request", "account_no": "3100000002", "text": "预热"})
    with CaptureQueriesContext(connection) as captured:
        resp = agent.post("/api/workorders/", {"order_type": "service_request", "account_no": "3100000002",
                                               "text": "申请新装"}, headers={"Idempotency-Key": "n-1"})
    assert resp.status_code == 201
    sql = _statements(captured)
    # token (+user, unit), customer (+unit, 台区), INSERT order, audit row, create event, the order's row
    # in the intelligence sweep's queue;
    # no idempotency look-up before the INSERT (its unique index answers a retry), no user re-read while
    # the user's role and unit are unchanged, no rule, time-limit, calendar or read-back query
    assert len(sql) == 6, "\n".join(sql)
    assert not any("escalationrule" in s or "calendar" in s or "timelimitoverride" in s for s in sql)
    assert resp.json()["stage_due_at"]


def test_rule_change_in_this_process_is_used_at_once(world, settled):
    agent = ApiClient(world.agent)
    first = agent.post("/api/workorders/", COMPLAINT).json()
    second = agent.post("/api/workorders/", COMPLAINT).json()
    assert first["escalation"] == 0 and second["escalation"] == 2  # repeat complaint (cached rule)
    rule = EscalationRule.objects.get(code="repeat_complaint")
    rule.enabled = False
    rule.save()
    third = agent.post("/api/workorders/", COMPLAINT).json()
    assert third["escalation"] == 0
    assert services.rule("repeat_complaint") is None


def test_rule_change_elsewhere_is_used_within_the_max_age(world, settled, monkeypatch):
    import time

    assert services.rule("repeat_complaint") is not None
    EscalationRule.objects.filter(code="repeat_complaint").update(enabled=False)  # no signal: another process
    assert services.rule("repeat_complaint") is not None  # the copy, until it is RULES_MAX_AGE old
    later = time.monotonic() + services.RULES_MAX_AGE + 0.1
    monkeypatch.setattr(services.time, "monotonic", lambda: later)
    assert services.rule("repeat_complaint") is None


def test_calendar_change_in_this_process_moves_the_deadline_at_once(world, settled):
    from gridcare.core.models import CalendarDay, CalendarYear

    agent = ApiClient(world.agent)
    body = {"order_type": "service_request", "account_no": "3100000002", "text": "申请新装"}
    before = agent.post("/api/workorders/", body).json()
    due = datetime.fromisoformat(before["stage_due_at"])
    # the next three working days become holidays: the deadline moves out
    days, d = [], timezone.localdate()
    while len(days) < 3:
        d += timedelta(days=1)
        if d.weekday() < 5:
            days.append(d)
    for day in days:
        year = CalendarYear.objects.get(year=day.year)
        CalendarDay.objects.update_or_create(calendar_year=year, date=day,
                                             defaults={"is_workday": False, "name": "临时放假（测试）"})
    after = agent.post("/api/workorders/", body).json()
    assert datetime.fromisoformat(after["stage_due_at"]) > due


def _grid_customer(world, account_no, taiqu):
    from gridcare.customers.models import Customer

    return Customer.objects.create(account_no=account_no, name="王五", customer_class="residential",
                                   unit=taiqu.unit, transformer_area=taiqu, area_kind="urban",
                                   phone="13900000999")


def test_feeder_fault_counts_only_the_feeders_calls(world):
    agent = ApiClient(world.agent)
    # two calls on the other feeder (TQ0101) do not count for F001
    agent.post("/api/workorders/", {**FAULT, "account_no": "3100000101"})
    agent.post("/api/workorders/", {**FAULT, "account_no": "3100000101"})
    agent.post("/api/workorders/", {**FAULT, "account_no": "3100000001"})   # TQ0001
    agent.post("/api/workorders/", {**FAULT, "account_no": "3100000002"})   # TQ0002
    assert not FeederFaultAlert.objects.filter(feeder=world.feeder1).exists()
    # a call without a 台区 of its own counts at its customer's 台区 (TQ0002 on F001)
    cust = _grid_customer(world, "3100000009", world.taiqu_a2)
    order = WorkOrder.objects.filter(customer=world.cust_a).first()
    late = WorkOrder(order_no="X000000000000001", order_type="fault_repair", fault_kind="single_no_power",
                     customer=cust, area_kind="urban", unit=order.unit, transformer_area=None, text="没电",
                     accepted_at=timezone.now(), stage_entered_at=timezone.now())
    late.save()  # post_save: the outages hook groups it
    alert = FeederFaultAlert.objects.get(feeder=world.feeder1)
    assert alert.calls == 3 and alert.taiqu_count == 2
    assert set(alert.order_nos) == set(WorkOrder.objects.filter(
        transformer_area__feeder=world.feeder1).values_list("order_no", flat=True)) | {"X000000000000001"}
    assert not FeederFaultAlert.objects.filter(feeder=world.feeder2).exists()
    assert StageEvent.objects.filter(kind="create").count() == 4


def test_a_call_on_a_feeder_under_suspicion_joins_the_alert_without_reading_the_window(world):
    from gridcare.core.models import AuditLog
    from gridcare.grid.models import TransformerArea

    agent = ApiClient(world.agent)
    for account in ("3100000001", "3100000001", "3100000002"):  # TQ0001 twice, TQ0002: F001 under suspicion
        assert agent.post("/api/workorders/", {**FAULT, "account_no": account}).status_code == 201
    alert = FeederFaultAlert.objects.get(feeder=world.feeder1)
    assert (alert.calls, alert.taiqu_count, sorted(alert.taiqu_ids)) == (3, 2, sorted([world.taiqu_a.pk, world.taiqu_a2.pk]))
    # a further call from a third 台区 of F001 joins it: one more call and 台区, its number on the list,
    # and the calls already grouped are not read again
    taiqu3 = TransformerArea.objects.create(code="TQ0003", name="城关三号台区", feeder=world.feeder1, unit=world.station_a,
                                            area_kind="urban", capacity_kva=200)
    cust = _grid_customer(world, "3100000009", taiqu3)
    with CaptureQueriesContext(connection) as captured:
        resp = agent.post("/api/workorders/", {**FAULT, "account_no": cust.account_no})
    assert resp.status_code == 201
    assert not any("UNION ALL" in s for s in _statements(captured)), "the window was read again"
    alert.refresh_from_db()
    assert (alert.calls, alert.taiqu_count) == (4, 3) and resp.json()["order_no"] in alert.order_nos
    # a call from a 台区 already counted adds a call, not a 台区; the audit rows keep counts, not the lists
    agent.post("/api/workorders/", {**FAULT, "account_no": "3100000002"})
    alert.refresh_from_db()
    assert (alert.calls, alert.taiqu_count, len(alert.order_nos)) == (5, 3, 5)
    updates = AuditLog.objects.filter(content_type__model="feederfaultalert", object_pk=str(alert.pk), action="update")
    assert updates.count() == 2
    assert all("calls" in u.changes and "order_nos" not in u.changes for u in updates)
    # a call on the other feeder is not grouped with F001
    agent.post("/api/workorders/", {**FAULT, "account_no": "3100000101"})
    alert.refresh_from_db()
    assert alert.calls == 5 and not FeederFaultAlert.objects.filter(feeder=world.feeder2).exists()


@pytest.mark.django_db(transaction=True)
def test_an_order_number_clash_is_taken_again_in_a_new_transaction(world, monkeypatch):
    """The intake has no savepoint: a clashing number rolls the whole intake back and it is taken again
    with a new number, leaving exactly one order, one create event and one audit row."""
    from gridcare.core.models import AuditLog

    agent = ApiClient(world.agent)
    first = agent.post("/api/workorders/", COMPLAINT, headers={"Idempotency-Key": "clash-1"}).json()["order_no"]
    numbers, fresh = iter([first, first, "2612040000000042"]), services.new_order_no
    monkeypatch.setattr(services, "new_order_no", lambda at: next(numbers, None) or fresh(at))
    resp = agent.post("/api/workorders/", {**FAULT, "account_no": "3100000002"}, headers={"Idempotency-Key": "clash-2"})
    assert resp.status_code == 201 and resp.json()["order_no"] == "2612040000000042"
    order = WorkOrder.objects.get(order_no="2612040000000042")
    assert WorkOrder.objects.count() == 2
    assert StageEvent.objects.filter(order=order, kind="create").count() == 1
    assert AuditLog.objects.filter(content_type__model="workorder", object_pk=str(order.pk), action="create").count() == 1
    assert StageEvent.objects.filter(kind="create").count() == 2
    # the retry of the first call still finds its order (the conflict is on the key, not the number)
    again = agent.post("/api/workorders/", COMPLAINT, headers={"Idempotency-Key": "clash-1"})
    assert again.status_code == 200 and again.json()["order_no"] == first


@pytest.mark.django_db(transaction=True)
def test_simultaneous_retries_with_one_key_make_one_order(world):
    import threading

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL; SQLite serialises them")
    statuses, order_nos, barrier = [], set(), threading.Barrier(4)

    def call():
        try:
            barrier.wait()
            resp = ApiClient(world.agent).post("/api/workorders/", COMPLAINT, headers={"Idempotency-Key": "same-call"})
            statuses.append(resp.status_code)
            order_nos.add(resp.json()["order_no"])
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 200, 200, 201]
    assert len(order_nos) == 1 and WorkOrder.objects.count() == 1
    assert StageEvent.objects.filter(kind="create").count() == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_first_calls_on_a_feeder_open_one_alert(world):
    """Calls that bring a feeder under suspicion at the same moment: one alert, holding every call."""
    import threading

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL; SQLite serialises them")
    agent = ApiClient(world.agent)
    for _ in range(2):  # two calls from TQ0001: one 台区, no suspicion yet
        agent.post("/api/workorders/", {**FAULT, "account_no": "3100000001"})
    assert not FeederFaultAlert.objects.exists()
    extra = [_grid_customer(world, f"31000000{20 + k}", world.taiqu_a2).account_no for k in range(6)]
    barrier, statuses = threading.Barrier(len(extra)), []

    def call(account):
        try:
            barrier.wait()
            statuses.append(ApiClient(world.agent).post("/api/workorders/", {**FAULT, "account_no": account}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(a,)) for a in extra]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [201] * len(extra)
    alert = FeederFaultAlert.objects.get(feeder=world.feeder1)  # one, not one per simultaneous call
    assert alert.calls == 8 and alert.taiqu_count == 2 and len(alert.order_nos) == 8
