"""The queue flow through the real HTTP API (token auth): take, call, transfer, finish, rate; bad input."""
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from gridcare.hall.models import Appointment, SmsMessage, Ticket, TicketEvent, Window
from gridcare.testing import ApiClient

pytestmark = pytest.mark.django_db

BASE = "/api/hall"


@pytest.fixture
def clerk(world, hall):
    return ApiClient(world.clerk)


def take(api, service_type="payment", **extra):
    r = api.post(f"{BASE}/halls/H01/tickets", {"service_type": service_type, **extra})
    assert r.status_code == 201, r.json_body
    return r.json_body


def test_queue_flow_take_call_transfer_finish_rate(world, hall, clerk):
    a1 = take(clerk, "payment", phone="13900000001")
    assert a1["number"] == "A001" and a1["ahead_at_issue"] == 0 and a1["estimated_wait_seconds"] == 0
    a2 = take(clerk, "payment")
    assert a2["number"] == "A002" and a2["ahead_at_issue"] == 1
    old = take(clerk, "payment", priority_reason="elderly")
    assert old["priority"] == 1 and old["ahead_at_issue"] == 0   # before the walk-ins

    # the customer's status page (public, no token)
    from django.test import Client
    st = Client().get(f"{BASE}/tickets/{a2['token']}").json()
    assert st["ahead"] == 2 and st["status"] == "waiting"
    # SMS with the status link went out after commit
    sms = SmsMessage.objects.get(purpose="ticket")
    assert sms.phone == "13900000001" and "前面还有0人" in sms.text and a1["token"] in sms.text

    r = clerk.post(f"{BASE}/halls/H01/windows/1/call")
    assert r.status_code == 200 and r.json_body["number"] == old["number"] and r.json_body["window"] == 1
    # calling while the window has a customer: refused, nothing changed
    r = clerk.post(f"{BASE}/halls/H01/windows/1/call")
    assert r.status_code == 409 and "正在办理" in r.json_body["detail"]
    assert Ticket.objects.filter(status="called").count() == 1

    r = clerk.post(f"{BASE}/halls/H01/windows/1/recall")
    assert r.status_code == 200 and r.json_body["number"] == old["number"]

    # identify the customer at the counter: customer, open orders, arrears (from billing; none owed here)
    r = clerk.post(f"{BASE}/halls/H01/windows/1/identify", {"q": "13900000001"})
    assert r.status_code == 200, r.json_body
    assert r.json_body["customer"]["account_no"] == "3100000001"
    assert r.json_body["arrears"]["available"] is True and r.json_body["arrears"]["total"] == "0.00"
    assert Ticket.objects.get(number=old["number"]).customer.account_no == "3100000001"

    # transfer to the business counter: window 1 is free again, window 3 gets it first
    take(clerk, "application")
    r = clerk.post(f"{BASE}/halls/H01/windows/1/transfer", {"service_type": "application"})
    assert r.status_code == 200 and r.json_body["status"] == "waiting" and r.json_body["service_type"] == "application"
    assert Window.objects.get(hall=hall, number=1).current_ticket_id is None
    r = clerk.post(f"{BASE}/halls/H01/windows/3/call")
    assert r.json_body["number"] == old["number"]
    r = clerk.post(f"{BASE}/halls/H01/windows/3/finish")
    assert r.status_code == 200 and r.json_body["status"] == "done"

    # window 1 calls A001 and finishes; the rating link is sent; the customer rates once
    r = clerk.post(f"{BASE}/halls/H01/windows/1/call")
    assert r.json_body["number"] == "A001"
    clerk.post(f"{BASE}/halls/H01/windows/1/finish")
    assert SmsMessage.objects.filter(purpose="rating", phone="13900000001").exists()
    anon = Client()
    r = anon.post(f"{BASE}/tickets/{a1['token']}/rate", json.dumps({"score": 5, "channel": "device"}),
                  content_type="application/json")
    assert r.status_code == 200 and r.json()["rating"] == 5
    r = anon.post(f"{BASE}/tickets/{a1['token']}/rate", json.dumps({"score": 1}), content_type="application/json")
    assert r.status_code == 409
    r = anon.post(f"{BASE}/tickets/{a2['token']}/rate", json.dumps({"score": 4}), content_type="application/json")
    assert r.status_code == 409 and "办结后" in r.json()["detail"]

    # no-show
    clerk.post(f"{BASE}/halls/H01/windows/2/call")
    r = clerk.post(f"{BASE}/halls/H01/windows/2/no-show")
    assert r.json_body["status"] == "no_show"
    # history: every step attributable
    kinds = list(TicketEvent.objects.filter(ticket__number=old["number"]).values_list("kind", "actor__username"))
    assert [k for k, _ in kinds] == ["issue", "call", "recall", "identify", "transfer", "call", "finish"]
    assert all(u == "clerk01" for _, u in kinds)

    # quality figures for the supervisor
    sup = ApiClient(world.supervisor_county)
    q = sup.get(f"{BASE}/halls/H01/quality").json_body
    assert q["overall"]["tickets"] == 4 and q["overall"]["served"] == 2
    assert q["overall"]["no_show_rate"] == 0.25 and q["overall"]["average_rating"] == 5
    assert q["estimate_accuracy"]["count"] == 3


def test_bad_input_changes_nothing(world, hall, clerk):
    r = clerk.post(f"{BASE}/halls/H01/tickets", {"service_type": "teleport"})
    assert r.status_code == 400 and r.json_body["errors"][0]["field"] == "service_type"
    # a service no window serves today
    Window.objects.filter(hall=hall, number=3).update(is_open=False)
    r = clerk.post(f"{BASE}/halls/H01/tickets", {"service_type": "complaint"})
    assert r.status_code == 400 and "没有开放" in r.json_body["detail"]
    # closed hall
    hall.opening_hours = {}
    hall.save()
    r = clerk.post(f"{BASE}/halls/H01/tickets", {"service_type": "payment"})
    assert r.status_code == 400 and "营业时间" in r.json_body["detail"]
    assert Ticket.objects.count() == 0
    # empty queue
    r = clerk.post(f"{BASE}/halls/H01/windows/2/call")
    assert r.status_code == 409 and r.json_body["detail"] == "当前没有等候的客户"
    # staffing API refuses zero/negative figures in Chinese
    r = clerk.get(f"{BASE}/staffing?arrivals_per_hour=0&service_minutes=10&target_seconds=600&service_level=0.8")
    assert r.status_code == 400 and "到达" in r.json_body["detail"]
    r = clerk.get(f"{BASE}/staffing?arrivals_per_hour=10&service_minutes=-3&target_seconds=600&service_level=0.8")
    assert r.status_code == 400 and "办理时长" in r.json_body["detail"]


def test_permissions(world, hall):
    agent = ApiClient(world.agent)
    assert agent.post(f"{BASE}/halls/H01/tickets", {"service_type": "payment"}).status_code == 403
    other = ApiClient(world.handler_other)
    assert other.post(f"{BASE}/halls/H01/windows/1/call").status_code == 403
    clerk = ApiClient(world.clerk)
    assert clerk.get(f"{BASE}/halls/H01/quality").status_code == 403


def test_claim_skips_a_ticket_another_window_took(world, hall):
    """The SQLite path of call-next: a candidate taken between the read and the UPDATE is skipped."""
    from gridcare.hall import services

    t1 = services.do_issue_ticket(world.clerk, "H01", "payment")
    t2 = services.do_issue_ticket(world.clerk, "H01", "payment")
    w1, w2 = Window.objects.get(hall=hall, number=1), Window.objects.get(hall=hall, number=2)
    assert services._claim([t1.pk], w2, world.clerk, timezone.now()) == t1.pk
    assert services._claim([t1.pk, t2.pk], w1, world.clerk, timezone.now()) == t2.pk
    assert services._claim([t1.pk, t2.pk], w1, world.clerk, timezone.now()) is None


def test_appointments(world, hall, clerk):
    from django.test import Client

    anon = Client()
    now = timezone.localtime()
    day = (now + timedelta(days=1)).date()
    slots = anon.get(f"{BASE}/halls/H01/slots?day={day}&service_type=application").json()
    assert len(slots) == 48 and all(s["left"] == 2 for s in slots)
    start = slots[20]["start"]
    body = {"service_type": "application", "slot_start": start, "name": "张三", "phone": "13900000001"}
    for _ in range(2):
        r = anon.post(f"{BASE}/halls/H01/appointments", json.dumps(body), content_type="application/json")
        assert r.status_code == 201
    r = anon.post(f"{BASE}/halls/H01/appointments", json.dumps(body), content_type="application/json")
    assert r.status_code == 409 and "已满" in r.json()["detail"]
    past = dict(body, slot_start=(now - timedelta(hours=1)).replace(minute=0, second=0, microsecond=0).isoformat())
    r = anon.post(f"{BASE}/halls/H01/appointments", json.dumps(past), content_type="application/json")
    assert r.status_code == 400 and "已经过去" in r.json()["detail"]
    assert Appointment.objects.count() == 2
    # check-in with the appointment code: priority over walk-ins, and cancellation is then refused
    appt = Appointment.objects.first()
    Appointment.objects.filter(pk=appt.pk).update(slot_start=now - timedelta(minutes=5),
                                                  slot_end=now + timedelta(minutes=25))
    take(clerk, "application")
    t = take(clerk, appointment_token=appt.token)
    assert t["priority_reason"] == "appointment" and t["ahead_at_issue"] == 0
    r = anon.post(f"{BASE}/appointments/{appt.token}/cancel")
    assert r.status_code == 409


def test_applications_become_service_request_orders(world, hall, clerk, django_capture_on_commit_callbacks):
    from django.test import Client

    from gridcare.workorders.models import WorkOrder

    with django_capture_on_commit_callbacks(execute=True):
        r = Client().post(f"{BASE}/public/applications", json.dumps({
        "kind": "new_connection", "applicant_name": "陈六", "phone": "13911112222", "hall_code": "H01",
            "address": "城关镇新街9号", "area_kind": "urban"}), content_type="application/json")
    assert r.status_code == 201, r.json()
    order = WorkOrder.objects.get(order_no=r.json()["order_no"])
    assert order.order_type == "service_request" and order.channel == "web" and order.unit.code == "X01"
    assert order.stage_due_at is not None                       # the work-order clock runs
    sms = SmsMessage.objects.get(purpose="documents")
    assert sms.phone == "13911112222" and "身份证明" in sms.text and "2个工作日" in sms.text
    # online, the phone must be the account's
    r = Client().post(f"{BASE}/public/applications", json.dumps({
        "kind": "meter_test", "applicant_name": "张三", "phone": "13911112222", "account_no": "3100000001"}),
        content_type="application/json")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "phone"
    # at the counter: no SMS, the order is filed for the customer
    r = clerk.post(f"{BASE}/applications", {"kind": "name_change", "applicant_name": "张三", "phone": "13900000001",
                                            "account_no": "3100000001", "hall_code": "H01"})
    assert r.status_code == 201, r.json_body
    order = WorkOrder.objects.get(order_no=r.json_body["order_no"])
    assert order.customer.account_no == "3100000001" and order.channel == "hall"
    assert SmsMessage.objects.filter(purpose="documents").count() == 1


def test_inspection_training_and_clerk_page(world, hall):
    from gridcare.workorders.services import do_create_order

    sup = ApiClient(world.supervisor_county)
    results = {"attire": True, "etiquette": True, "language": False, "accuracy": True, "desk": True}
    r = sup.post(f"{BASE}/inspections", {"hall_code": "H01", "clerk": "clerk01", "results": results})
    assert r.status_code == 201 and r.json_body["score"] == 80
    r = sup.post(f"{BASE}/inspections", {"hall_code": "H01", "clerk": "clerk01", "results": {"attire": True}})
    assert r.status_code == 400 and "缺少" in r.json_body["detail"]
    r = sup.post(f"{BASE}/clerk-records", {"clerk": "clerk01", "kind": "certificate", "title": "供电营业员（中级）",
                                           "on": "2025-06-01", "valid_until": "2028-06-01"})
    assert r.status_code == 201
    do_create_order(world.agent, {"order_type": "complaint", "category_l2": "attitude", "account_no": "3100000001",
                                  "text": "客户投诉城关营业厅营业员小赵态度生硬"})
    do_create_order(world.agent, {"order_type": "complaint", "category_l2": "attitude", "account_no": "3100000001",
                                  "text": "客户投诉抢修人员态度差"})
    page = sup.get(f"{BASE}/clerks/clerk01").json_body
    assert len(page["inspections"]) == 1 and page["records"][0]["title"] == "供电营业员（中级）"
    assert len(page["complaints"]) == 1 and "小赵" in page["complaints"][0]["text"]


def test_self_service(world, hall):
    from django.test import Client

    anon = Client()
    r = anon.post(f"{BASE}/public/self-service", json.dumps({"account_no": "3100000001", "phone": "13900000009"}),
                  content_type="application/json")
    assert r.status_code == 400
    r = anon.post(f"{BASE}/public/self-service", json.dumps({"account_no": "3100000001", "phone": "13900000001"}),
                  content_type="application/json")
    body = r.json()
    assert r.status_code == 200 and body["customer"]["name"] == "张*"
    assert body["payment_channels"] and body["faq"]["items"]
    page = anon.post("/hall/self/", {"account_no": "3100000001", "phone": "13900000001"}, follow=True)
    assert "缴费渠道" in page.content.decode() and "网上国网" in page.content.decode()


def test_sweep_marks_yesterdays_waiting_tickets_abandoned(world, hall):
    from gridcare.hall import services

    t = services.do_issue_ticket(world.clerk, "H01", "payment")
    assert services.sweep_abandoned(timezone.now()) == 0
    assert services.sweep_abandoned(timezone.now() + timedelta(days=1)) == 1
    assert services.sweep_abandoned(timezone.now() + timedelta(days=1)) == 0
    t.refresh_from_db()
    assert t.status == "abandoned"


def test_staffing_cli_contract(capsys):
    call_command("hall", "staffing", "--arrivals-per-hour", "200", "--service-minutes", "3", "--target-seconds", "20",
                 "--service-level", "80", "--format", "json")
    out = json.loads(capsys.readouterr().out)
    assert out["windows"] == 14 and out["stable"] is True and out["offered_load"] == 10.0
    assert out["probability_wait"] == pytest.approx(0.174132, abs=1e-6)
    assert out["service_level"] == pytest.approx(0.88835, abs=1e-5)
    assert out["average_wait_seconds"] == pytest.approx(7.836, abs=1e-3)
    call_command("hall", "staffing", "--arrivals-per-hour", "40", "--service-minutes", "10", "--target-seconds", "600",
                 "--service-level", "0.8", "--windows", "3", "--format", "json")
    out = json.loads(capsys.readouterr().out)
    assert out["windows"] == 3 and out["stable"] is False
    assert out["probability_wait"] is None and out["service_level"] is None and out["average_wait_seconds"] is None


def test_staffing_cli_errors_in_chinese():
    """One real process for the contract (stderr, exit status); the other refusals through call_command."""
    import subprocess
    import sys
    from pathlib import Path

    from django.core.management.base import CommandError

    gridcare = Path(sys.executable).parent / "gridcare"
    p = subprocess.run([str(gridcare), "hall", "staffing", "--arrivals-per-hour", "-3", "--service-minutes", "10",
                        "--target-seconds", "600", "--service-level", "0.8", "--format", "json"],
                       capture_output=True, text=True)
    assert p.returncode != 0 and "到达" in p.stderr and p.stdout == ""
    for args, word in ((["--arrivals-per-hour", "0", "--service-minutes", "10"], "到达"),
                       (["--arrivals-per-hour", "10", "--service-minutes", "0"], "办理时长"),
                       (["--arrivals-per-hour", "10", "--service-minutes", "-1"], "办理时长")):
        with pytest.raises(CommandError, match=word):
            call_command("hall", "staffing", *args, "--target-seconds", "600", "--service-level", "0.8",
                         "--format", "json")
    with pytest.raises(CommandError, match="服务水平"):
        call_command("hall", "staffing", "--arrivals-per-hour", "10", "--service-minutes", "5", "--target-seconds",
                     "60", "--service-level", "100", "--format", "json")
