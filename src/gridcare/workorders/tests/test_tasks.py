"""SLA sweep and sensitive-customer scan, enqueued on the Django Tasks queue and run by the real
database worker (`db_worker --batch`)."""
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from gridcare.customers.models import Customer
from gridcare.notifications.models import Notification
from gridcare.testing import ApiClient
from gridcare.workorders.models import StageEvent, WorkOrder
from gridcare.workorders.tasks import scan_sensitive, sensitive_scan_task, sla_sweep_task

COMPLAINT = {"order_type": "complaint", "category_l2": "voltage", "account_no": "3100000001", "text": "电压低，灯很暗"}


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)


def take(api, minutes_ago, **extra):
    at = (timezone.now() - timedelta(minutes=minutes_ago)).isoformat()
    resp = api.post("/api/workorders/", {**COMPLAINT, "accepted_at": at, **extra})
    assert resp.status_code == 201, resp.content.decode()
    return resp.json()["order_no"]


# The worker closes its database connection when it finishes, as a real worker process does, so these
# tests commit for real instead of running inside a rolled-back transaction.
@pytest.mark.django_db(transaction=True)
def test_sweep_marks_warning_and_overdue_once_and_notifies(world):
    world.station_a.head = world.handler_a
    world.station_a.save()
    agent = ApiClient(world.agent)
    fresh = take(agent, 1)        # 19 of 20 minutes left: nothing
    near = take(agent, 16)        # 4 minutes left (< 25%): warning
    late = take(agent, 45)        # overdue
    sla_sweep_task.enqueue()
    run_worker()
    assert DBTaskResult.objects.get(task_path__endswith="sla_sweep_task").status == "SUCCESSFUL"
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}  # intake tasks too
    states = dict(WorkOrder.objects.values_list("order_no", "sla_state"))
    assert states == {fresh: 0, near: 1, late: 2}
    assert StageEvent.objects.filter(kind="sla").count() == 2
    notes = Notification.objects.filter(user=world.handler_a)
    assert {n.kind for n in notes} == {"sla_warning", "sla_overdue"} and notes.count() == 2
    # a second sweep changes nothing and sends nothing
    sla_sweep_task.enqueue()
    run_worker()
    assert StageEvent.objects.filter(kind="sla").count() == 2 and Notification.objects.filter(
        kind__startswith="sla").count() == 2


def test_sweep_is_bounded_per_run(world):
    from gridcare.workorders.tasks import sweep_sla

    agent = ApiClient(world.agent)
    for _ in range(5):
        take(agent, 60)
    assert sweep_sla(batch=3) == {"已超时": 3, "即将超时": 0}  # the 2 left are overdue, not "about to be"
    assert sweep_sla(batch=3)["已超时"] == 2
    assert sweep_sla(batch=3)["已超时"] == 0
    assert set(StageEvent.objects.filter(kind="sla").values_list("data__state", flat=True)) == {2}


def test_new_stage_resets_the_sla_state(world):
    agent = ApiClient(world.agent)
    no = take(agent, 45)
    from gridcare.workorders.tasks import sweep_sla

    sweep_sla()
    assert WorkOrder.objects.get(order_no=no).sla_state == 2
    resp = ApiClient(world.dispatcher).post(f"/api/workorders/{no}/advance", {"to": "dispatched"})
    assert resp.json()["sla_state"] == 0 and resp.json()["stage_limit"] == "receive"


@pytest.mark.django_db(transaction=True)
def test_weekly_scan_flags_repeat_callers_and_agents_see_it(world):
    agent = ApiClient(world.agent)
    take(agent, 60 * 24 * 3)
    take(agent, 60, order_type="inquiry", category_l2=None, text="咨询电费")
    agent.post("/api/workorders/", {"order_type": "inquiry", "account_no": "3100000101", "text": "咨询"})
    sensitive_scan_task.enqueue()
    run_worker()
    c = Customer.objects.get(account_no="3100000001")
    assert c.sensitive and "95598" in c.sensitive_reason and c.sensitive_until > timezone.now() + timedelta(days=80)
    assert not Customer.objects.get(account_no="3100000101").sensitive
    lookup = agent.get("/api/workorders/lookup?q=3100000001").json()[0]
    assert lookup["sensitive"] and lookup["sensitive_reason"] == c.sensitive_reason
    # expiry clears the scan's flag
    assert scan_sensitive(as_of=timezone.now() + timedelta(days=200)) == {"flagged": 0, "cleared": 1}
    assert not Customer.objects.get(account_no="3100000001").sensitive


def test_scan_flags_same_problem_outside_the_hotline(world):
    agent = ApiClient(world.agent)
    for days in (40, 10):
        take(agent, 60 * 24 * days, channel="app")
    result = scan_sensitive()
    assert result["flagged"] == 1
    assert "同一问题" in Customer.objects.get(account_no="3100000001").sensitive_reason


@pytest.mark.django_db(transaction=True)
def test_the_order_is_queued_for_the_intelligence_sweep_in_the_intake_transaction(world):
    """The queue row for the intelligence sweep commits or rolls back with its order (no second
    transaction after commit that a crash could lose)."""
    from django.db import transaction

    from gridcare.intelligence.models import PendingIntake
    from gridcare.workorders.services import do_create_order

    class Abandon(Exception):
        pass

    with pytest.raises(Abandon):
        with transaction.atomic():
            order, _ = do_create_order(world.agent, COMPLAINT)
            assert PendingIntake.objects.filter(order=order, user=world.agent).exists()
            raise Abandon  # the caller's transaction fails after the intake
    assert not WorkOrder.objects.exists() and not PendingIntake.objects.exists()
    order, _ = do_create_order(world.agent, COMPLAINT)
    assert PendingIntake.objects.get().order == order
    assert not DBTaskResult.objects.exists()  # no task per intake


def test_scan_works_in_chunks_and_writes_only_the_flag_columns(world, monkeypatch):
    monkeypatch.setattr("gridcare.workorders.tasks.SCAN_CHUNK", 1)
    agent = ApiClient(world.agent)
    accounts = ["3100000001", "3100000002", "3100000101"]
    for account in accounts:
        for minutes in (60 * 24 * 2, 60):
            take(agent, minutes, account_no=account)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as sql:
        assert scan_sensitive() == {"flagged": 3, "cleared": 0}  # one customer per chunk
    assert all(c.sensitive for c in Customer.objects.filter(account_no__in=accounts))
    # only the flag columns are written: an agent's edit of the phone meanwhile is not overwritten
    updates = [q["sql"] for q in sql.captured_queries if q["sql"].startswith('UPDATE "customers_customer"')]
    assert len(updates) == 3
    for update in updates:
        assigned = re.findall(r'"(\w+)" = ', update.split(" WHERE ")[0])
        assert assigned == ["sensitive", "sensitive_reason", "sensitive_until"]
    assert scan_sensitive(as_of=timezone.now() + timedelta(days=200)) == {"flagged": 0, "cleared": 3}
    assert not Customer.objects.filter(account_no__in=accounts, sensitive=True).exists()
