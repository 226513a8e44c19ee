"""Calls meet outages (linking, the agent's view, feeder-fault grouping), outages.csv import, the
frequent-outage scan (CLI and the scheduled task on the real worker) and the reliability command."""
import json
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gridcare.notifications.models import Notification
from gridcare.outages.models import FeederFaultAlert, FeederFaultCall, Outage, OutageCall, WatchEntry
from gridcare.testing import ApiClient
from gridcare.workorders.models import StageEvent, WorkOrder

FAULT = {"order_type": "fault_repair", "fault_kind": "area_no_power", "text": "家里和邻居都停电了"}


def fault_outage(api, **kw):
    body = {"kind": "fault", "scope_kind": "taiqu", "taiqu_codes": ["TQ0001"], "reason": "配变故障",
            "start_at": (timezone.now() - timedelta(minutes=30)).isoformat(),
            "expected_restoration_at": (timezone.now() + timedelta(hours=2)).isoformat()}
    body.update(kw)
    resp = api.post("/api/outages/", body)
    assert resp.status_code == 201, resp.content
    return resp.json()["outage_no"]


def test_fault_call_inside_an_outage_is_linked_and_the_agent_sees_it(world, client, pg_mode):
    no = fault_outage(ApiClient(world.dispatcher))
    agent = ApiClient(world.agent)
    inside = agent.post("/api/workorders/", {**FAULT, "account_no": "3100000001"})
    outside = agent.post("/api/workorders/", {**FAULT, "account_no": "3100000101"})
    assert inside.status_code == 201 and outside.status_code == 201
    call = OutageCall.objects.get()
    assert call.work_order.order_no == inside.json()["order_no"] and call.outage.outage_no == no
    note = StageEvent.objects.get(order=call.work_order, kind="comment").note
    assert no in note and "无需另派抢修" in note
    # the order's history starts with its intake, then the link to the outage
    events = agent.get(f"/api/workorders/{inside.json()['order_no']}/events").json()
    assert [e["kind"] for e in events] == ["create", "comment"]
    calls = ApiClient(world.dispatcher).get(f"/api/outages/{no}/calls").json()
    assert calls["count"] == 1 and calls["calls"][0]["account_no"] == "3100000001"
    # a second call from the same outage is counted too; the caller is subscribed to progress
    agent.post("/api/workorders/", {**FAULT, "fault_kind": "single_no_power", "account_no": "3100000001"})
    assert Outage.objects.get(outage_no=no).call_count == 2
    # the intake lookup shows the outage, its progress and the expected restoration
    client.force_login(world.agent)
    html = client.get("/workorders/lookup/?q=3100000001").content.decode()
    assert no in html and "预计恢复" in html
    ApiClient(world.field).post(f"/api/outages/{no}/updates", {"kind": "cause_found", "cause": "低压熔丝熔断"})
    assert "低压熔丝熔断" in client.get("/workorders/lookup/?q=3100000001").content.decode()
    assert "⚡" not in client.get("/workorders/lookup/?q=3100000101").content.decode()
    # the customer page shows the outage
    page = client.get(f"/customers/{world.cust_a.account_no}/")
    assert page.status_code == 200 and no in page.content.decode()


def test_calls_from_several_taiqu_of_one_feeder_suggest_a_feeder_fault(grid, pg_mode):
    agent, dispatcher = ApiClient(grid.agent), ApiClient(grid.dispatcher)
    agent.post("/api/workorders/", {**FAULT, "account_no": "3100000001"})
    agent.post("/api/workorders/", {**FAULT, "account_no": "3100000003"})
    assert not FeederFaultAlert.objects.exists()  # two calls, one 台区
    agent.post("/api/workorders/", {**FAULT, "account_no": "3100000004"})
    alert = FeederFaultAlert.objects.get()
    assert alert.feeder.code == "F001" and alert.calls == 3 and alert.taiqu_count == 2
    assert Notification.objects.filter(user=grid.dispatcher, kind="feeder_fault").count() == 1
    agent.post("/api/workorders/", {**FAULT, "account_no": "3100000005"})
    assert FeederFaultAlert.objects.get().calls == 4
    assert Notification.objects.filter(kind="feeder_fault").count() == 1
    alerts = dispatcher.get("/api/outages/feeder-alerts").json()
    assert alerts[0]["feeder_code"] == "F001"
    calls = list(WorkOrder.objects.filter(order_type="fault_repair").order_by("accepted_at", "id")
                 .values_list("order_no", flat=True))
    assert alerts[0]["order_nos"] == calls
    # a list of alerts reads their calls in one query, however many alerts it shows
    alert = FeederFaultAlert.objects.get()
    earlier = FeederFaultAlert.objects.create(feeder=alert.feeder, first_call_at=alert.first_call_at - timedelta(days=1),
                                              last_call_at=alert.first_call_at - timedelta(days=1), calls=1,
                                              taiqu_count=1, open=False)
    FeederFaultCall.objects.create(alert=earlier, work_order=WorkOrder.objects.get(order_no=calls[0]),
                                   at=earlier.first_call_at)
    with CaptureQueriesContext(connection) as queries:
        both = dispatcher.get("/api/outages/feeder-alerts?open=false").json()
    assert {a["id"]: a["order_nos"] for a in both} == {alert.pk: calls, earlier.pk: calls[:1]}
    assert len([q for q in queries.captured_queries if "feederfaultcall" in q["sql"]]) == 1
    confirmed = dispatcher.post(f"/api/outages/feeder-alerts/{alerts[0]['id']}/confirm", {"reason": "10kV线路接地"})
    assert confirmed.status_code == 201 and confirmed.json()["scope_kind"] == "feeder"
    assert Outage.objects.get().call_count == 4 and OutageCall.objects.count() == 4


CSV = """outage_no,kind,scope_kind,scope_code,start_at,end_at,restored_at,reason,notice_sent_at
O1,planned,feeder,F001,2026-10-10 09:00,2026-10-10 12:00,2026-10-10 12:00,线路检修,2026-10-01 09:00
O2,fault,feeder,F001,2026-10-20 14:00,,2026-10-20 14:30,线路跳闸,
O3,fault,taiqu,TQ0001,2026-10-25 08:00,,2026-10-25 09:00,配变故障,
O4,fault,taiqu,TQ0002,2026-10-26 10:00,,2026-10-26 10:04,瞬时故障,
O5,fault,taiqu,TQ0001,2026-08-01 10:00,,2026-08-01 11:00,配变故障,
"""


def import_csv(tmp_path, text=CSV):
    path = tmp_path / "outages.csv"
    path.write_text(text, encoding="utf-8")
    out = StringIO()
    call_command("import", "outages", str(path), stdout=out, stderr=StringIO())
    return out.getvalue()


def run_cmd(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return json.loads(out.getvalue())


def test_import_reliability_and_scan_commands(world, tmp_path):
    out = import_csv(tmp_path)
    assert "成功 5 行" in out
    o1 = Outage.objects.get(outage_no="O1")
    assert o1.customers_affected == 2 and o1.areas.count() == 2 and o1.state == "restored" and not o1.notice_late
    r = run_cmd("reliability", "--unit", "X01", "--from", "2026-10-01", "--to", "2026-10-31", "--format", "json")
    # X01 serves 3 customers; O1 2×180 + O2 2×30 + O3 1×60 customer-minutes; O4 is momentary (4 min)
    assert r["customers_served"] == 3 and r["customer_interruptions"] == 5 and r["customer_minutes"] == 480
    assert r["saifi"] == pytest.approx(5 / 3, abs=1e-6) and r["saidi"] == pytest.approx(160)
    assert r["caidi"] == pytest.approx(96) and r["asai"] == pytest.approx(1 - 480 / (3 * 31 * 1440), abs=1e-8)
    r = run_cmd("reliability", "--unit", "X01", "--from", "2026-10-01", "--to", "2026-10-31", "--exclude-planned",
                "--format", "json")
    assert (r["customer_interruptions"], r["customer_minutes"], r["saidi"], r["caidi"]) == (3, 120, 40, 40)
    r = run_cmd("reliability", "--unit", "S02", "--from", "2026-10-01", "--to", "2026-10-31", "--format", "json")
    assert r["customers_served"] == 1 and r["saifi"] == 0 and r["asai"] == 1
    with pytest.raises(CommandError, match="单位不存在"):
        call_command("reliability", "--unit", "NOPE", "--from", "2026-10-01", "--to", "2026-10-31", "--format", "json")
    with pytest.raises(CommandError, match="不能早于"):
        call_command("reliability", "--unit", "X01", "--from", "2026-10-31", "--to", "2026-10-01")
    s = run_cmd("scan", "frequent-outages", "--as-of", "2026-10-31", "--format", "json")
    assert s["from"].startswith("2026-09-02") and s["to"].startswith("2026-11-01")
    assert [(t["taiqu_code"], t["outages"], t["outage_nos"]) for t in s["taiqu"]] == [("TQ0001", 3, ["O1", "O2", "O3"])]
    assert [(c["account_no"], c["outages"]) for c in s["customers"]] == [("3100000001", 3)]
    # a day earlier O3 … still inside; 2026-10-24: only O1, O2 → nothing
    assert run_cmd("scan", "frequent-outages", "--as-of", "2026-10-24", "--format", "json")["taiqu"] == []


def test_import_reports_bad_rows(world, tmp_path):
    bad = ("outage_no,kind,scope_kind,scope_code,start_at,end_at,restored_at,reason,notice_sent_at\n"
           "B1,fault,feeder,F999,2026-10-10 09:00,,,x,\n"
           "B2,planned,taiqu,TQ0001,2026-10-10 09:00,2026-10-10 08:00,,x,\n")
    out = StringIO()
    with pytest.raises(CommandError) as exc:
        path = tmp_path / "bad.csv"
        path.write_text(bad, encoding="utf-8")
        call_command("import", "outages", str(path), stdout=out, stderr=StringIO())
    text = out.getvalue() + str(exc.value)
    assert "第2行 scope_code: 线路不存在：F999" in text and "第3行 end_at" in text
    assert not Outage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_scheduled_scan_on_the_worker_puts_taiqu_on_the_watch_list(world, tmp_path):
    from gridcare.outages.tasks import frequent_outage_scan_task

    import_csv(tmp_path)
    frequent_outage_scan_task.enqueue(as_of="2026-10-31")
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    keys = set(WatchEntry.objects.filter(active=True).values_list("key", flat=True))
    assert keys == {"taiqu:TQ0001", "customer:3100000001"}
    # the 台区 manager (field01) and the dispatch centre are told once
    assert Notification.objects.filter(kind="frequent_outage", user=world.field).count() == 1
    assert Notification.objects.filter(kind="frequent_outage", user=world.dispatcher).count() == 1
    frequent_outage_scan_task.enqueue(as_of="2026-10-31")
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    assert Notification.objects.filter(kind="frequent_outage").count() == 2
    watch = ApiClient(world.field).get("/api/outages/watchlist?kind=taiqu").json()
    assert [(w["taiqu_code"], w["outages"]) for w in watch] == [("TQ0001", 3)]
    # two months on, the 台区 leaves the watch list
    frequent_outage_scan_task.enqueue(as_of=(date(2026, 10, 31) + timedelta(days=70)).isoformat())
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    assert not WatchEntry.objects.filter(active=True).exists()


def test_covering_outage_statement_agrees_with_outages_for(world):
    """link_call finds the outage with a fixed statement; it must pick what outages_for() picks, over
    under-way, upcoming, cancelled, restored-within-grace, restored-long-ago, partially restored and
    customer-scoped outages, for calls at several times."""
    from gridcare.outages.models import OutageArea, OutageCustomer
    from gridcare.outages.services import covering_outage_id, outages_for

    now = timezone.now().replace(microsecond=0)
    unit = world.county
    specs = [  # (name, state, start, restored_at, scope)
        ("under-way", "open", -60, None, "taiqu"),
        ("upcoming", "open", 120, None, "taiqu"),
        ("cancelled", "cancelled", -50, None, "taiqu"),
        ("restored-recently", "restored", -300, -10, "taiqu"),
        ("restored-long-ago", "restored", -900, -600, "taiqu"),
        ("part-restored", "open", -40, None, "part"),
        ("customer", "open", -30, None, "customer"),
    ]
    for i, (name, state, start, restored, scope) in enumerate(specs):
        o = Outage.objects.create(outage_no=f"T{i}", kind="fault", scope_kind="customer" if scope == "customer" else "taiqu",
                                  unit=unit, title=name, state=state, start_at=now + timedelta(minutes=start),
                                  restored_at=now + timedelta(minutes=restored) if restored is not None else None)
        if scope == "customer":
            OutageCustomer.objects.create(outage=o, customer=world.cust_b)
        else:
            OutageArea.objects.create(outage=o, transformer_area=world.taiqu_a,
                                      restored_at=now - timedelta(minutes=20) if scope == "part" else None)
    cases = 0
    for customer in (world.cust_a, world.cust_b, None):
        for taiqu in (world.taiqu_a, world.taiqu_b, None):
            for minutes in (-1000, -700, -320, -55, -45, -15, -5, 0, 30, 200):
                at = now + timedelta(minutes=minutes)
                expected = outages_for(customer, taiqu.pk if taiqu else None, at).filter(start_at__lte=at).first()
                tq = taiqu.pk if taiqu else (customer.transformer_area_id if customer else None)
                got = covering_outage_id(customer.pk if customer else None, tq, at)
                assert got == (expected.pk if expected else None), (customer, taiqu, minutes)
                cases += got is not None
    assert cases > 10  # the comparison covered linked calls, not only misses
