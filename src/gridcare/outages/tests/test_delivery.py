"""Notices through the real task worker to a real local HTTP gateway, and exactly-once delivery across a
worker crash between send and mark."""
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from gridcare.notifications import delivery
from gridcare.notifications.models import Delivery
from gridcare.outages.gateway import Gateway
from gridcare.testing import ApiClient


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)


@pytest.fixture
def gateway(settings):
    with Gateway() as gw:
        settings.GRIDCARE_NOTIFY_GATEWAY_URL = gw.url
        settings.GRIDCARE_NOTIFY_GATEWAY_BATCH = 2
        settings.GRIDCARE_NOTIFY_ROUTES = "sms=http,wechat=http,email=http"
        yield gw


@pytest.mark.django_db(transaction=True)
def test_planned_notice_is_delivered_by_the_worker_once(grid, gateway):
    now = timezone.now()
    resp = ApiClient(grid.dispatcher).post("/api/outages/", {
        "kind": "planned", "scope_kind": "feeder", "feeder_code": "F001", "reason": "线路检修",
        "start_at": (now + timedelta(days=8)).isoformat(), "end_at": (now + timedelta(days=8, hours=5)).isoformat()})
    assert resp.status_code == 201
    assert gateway.state.applied == {}  # nothing leaves before a worker runs
    run_worker()
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    applied = gateway.state.applied
    assert sorted(m["to"] for m in applied.values()) == ["13900000001", "13900000003", "user4@example.cn"]
    assert {m["channel"] for m in applied.values()} == {"sms", "wechat", "email"}
    assert all("线路检修" in m["body"] for m in applied.values())
    assert dict(Delivery.objects.values_list("customer__account_no", "status")) == {
        "3100000001": "sent", "3100000003": "sent", "3100000004": "sent",
        "3100000002": "unreachable", "3100000005": "unreachable"}
    # a second worker run (and a retried event) sends nothing more
    delivery.deliver_task.enqueue()
    run_worker()
    assert gateway.state.duplicates_received == 0 and len(applied) == 3


@pytest.mark.django_db(transaction=True)
def test_exactly_once_across_a_worker_crash_between_send_and_mark(grid, gateway, settings):
    api = ApiClient(grid.dispatcher)
    resp = api.post("/api/outages/", {"kind": "fault", "scope_kind": "feeder", "feeder_code": "F001",
                                      "start_at": (timezone.now() - timedelta(minutes=20)).isoformat(),
                                      "reason": "线路跳闸"})
    assert resp.status_code == 201
    crashed = []

    def crash(rows, results):
        crashed.extend(r["id"] for r in rows)
        raise delivery.SimulatedCrash("worker killed after sending, before marking")

    # worker 1 claims, sends to the gateway, and dies before it can mark the rows
    with pytest.raises(delivery.SimulatedCrash):
        delivery.run(worker="w1", batch=10, crash_after_send=crash)
    assert len(crashed) == 3 and len(gateway.state.applied) == 3
    assert set(Delivery.objects.filter(id__in=crashed).values_list("status", flat=True)) == {"sending"}
    # the real worker runs while the lease still holds: it must not touch worker 1's rows
    run_worker()
    assert sum(gateway.state.received.values()) == 3
    assert set(Delivery.objects.filter(id__in=crashed).values_list("status", flat=True)) == {"sending"}
    # the lease expires (crashed worker): the next run claims the rows again and re-sends with the same keys
    settings.GRIDCARE_NOTIFY_LEASE_SECONDS = 0
    delivery.deliver_task.enqueue()
    run_worker()
    assert set(Delivery.objects.filter(id__in=crashed).values_list("status", flat=True)) == {"sent"}
    state = gateway.state
    assert all(n == 2 for n in state.received.values())      # each key posted twice …
    assert len(state.applied) == 3                            # … applied once: the customer got one message
    expected = {f"{d.event.key}/{d.customer_id}" for d in Delivery.objects.filter(id__in=crashed).select_related("event")}
    assert set(state.applied) == expected
    assert list(Delivery.objects.filter(id__in=crashed).values_list("attempts", flat=True)) == [2, 2, 2]
    # and the same event cannot be queued twice for a customer
    from gridcare.customers.models import Customer
    from gridcare.notifications.models import OutboundEvent

    ev = OutboundEvent.objects.get()
    again = delivery.queue_event(ev.key, ev.kind, ev.body, Customer.objects.all(), kick=False)
    assert again["queued"] == Delivery.objects.filter(event=ev).count()
    assert Delivery.objects.filter(event=ev).values("customer").distinct().count() == Delivery.objects.filter(event=ev).count()


@pytest.mark.django_db(transaction=True)
def test_gateway_down_keeps_messages_for_a_retry(grid, gateway, settings):
    gateway.state.fail_next = 100
    ApiClient(grid.dispatcher).post("/api/outages/", {"kind": "fault", "scope_kind": "taiqu", "taiqu_codes": ["TQ0001"],
                                                      "start_at": timezone.now().isoformat(), "reason": "配变故障"})
    run_worker()
    rows = list(Delivery.objects.values_list("status", "error"))
    assert rows and all(s == "sending" and "503" in e for s, e in rows)
    gateway.state.fail_next = 0
    settings.GRIDCARE_NOTIFY_LEASE_SECONDS = 0
    delivery.deliver_task.enqueue()
    run_worker()
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"} and len(gateway.state.applied) == 2
