"""Reminders (催费) sent through the exactly-once delivery layer by the real task worker; prepaid (费控) bills
paid from the balance at issue time, low-balance alert once per crossing, re-armed by a top-up."""
import datetime as dt
import json
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from gridcare.billing import services
from gridcare.billing.models import Bill, BillingAccount, BillRun, Payment, Reminder
from gridcare.billing.tests.test_runs import reads
from gridcare.notifications.models import Delivery, OutboundEvent
from gridcare.testing import ApiClient

TZ = ZoneInfo("Asia/Shanghai")


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)


def bill(customer, no, amount, due, period=dt.date(2026, 7, 1), paid="0.00"):
    return Bill.objects.create(
        bill_no=no, customer=customer, unit=customer.unit, period=period, period_start=period,
        period_end=period.replace(day=28), tariff_code="EX-RES-TIERED", kwh=D(100), amount=D(amount), paid=D(paid),
        status="paid" if D(paid) >= D(amount) else "issued", due_date=due, lines=[],
        issued_at=dt.datetime(2026, 8, 10, 2, tzinfo=TZ))


def lines_of(path):
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


@pytest.mark.django_db(transaction=True)
def test_reminders_are_sent_once_by_the_worker_before_and_after_the_due_date(world, settings, tmp_path):
    out = tmp_path / "notices.jsonl"
    settings.GRIDCARE_NOTIFY_FILE = str(out)
    due = dt.date(2026, 8, 25)
    b1 = bill(world.cust_a, "B1", "123.45", due)                   # mobile phone, SMS wanted
    b2 = bill(world.cust_a2, "B2", "880.00", due)                  # the hospital: a landline only, no e-mail
    bill(world.cust_b, "B3", "50.00", due, paid="50.00")           # paid: nothing to remind
    bill(world.cust_a, "B4", "70.00", dt.date(2026, 9, 25), period=dt.date(2026, 8, 1))  # not due soon
    day = due - dt.timedelta(days=3)
    first = services.send_reminders(today=day)
    again = services.send_reminders(today=day)                     # the sweep runs twice: nothing new
    assert first["reminders"] == 2 and first["unreachable"] == 1 and again["reminders"] == 0
    run_worker()
    services.send_reminders(today=day + dt.timedelta(days=1))       # within the catch-up days: still nothing new
    run_worker()
    text = services.reminder_text("before_due", "3100000001", dt.date(2026, 7, 1), D("123.45"), due)
    assert "2026年07月电费123.45元将于08月25日到期" in text
    sent = lines_of(out)
    assert [m["body"] for m in sent].count(text) == 1 and len(sent) == 1
    assert sent[0]["to"] == "13900000001" and sent[0]["channel"] == "sms"
    assert sent[0]["idempotency_key"] == f"billing-reminder:{b1.pk}:before_due/{world.cust_a.pk}"
    # the bill (API and page) shows what was sent and how the delivery went; the hospital is unreachable
    api = ApiClient(world.admin)
    got = api.get("/api/billing/bills/B1").json()["reminders"]
    assert [(r["kind"], r["channel"], r["delivery_status"], r["text"]) for r in got] == [
        ("before_due", "sms", "sent", text)]
    got = api.get("/api/billing/bills/B2").json()["reminders"]
    assert [(r["channel"], r["delivery_status"]) for r in got] == [("none", "unreachable")]
    page = api.client
    page.force_login(world.admin)
    html = page.get("/billing/bills/B1/").content.decode()
    assert "到期前提醒" in html and "已发送" in html
    from gridcare.customers.timeline import timeline

    assert any(e["kind"] == "催费" and e["title"] == "到期前提醒（短信）" for e in timeline(world.cust_a))
    # a day after the due date: the overdue reminder, once; after paying, no more reminders
    services.do_record_payment(world.admin, world.cust_a2, {"channel": "counter", "amount": "880.00",
                                                          "paid_at": dt.datetime(2026, 8, 24, 10, tzinfo=TZ)})
    for _ in range(2):
        services.send_reminders(today=due + dt.timedelta(days=1))
        run_worker()
    overdue = [m for m in lines_of(out) if "已于08月25日到期" in m["body"]]
    assert len(overdue) == 1 and "电费123.45元" in overdue[0]["body"]
    assert set(Reminder.objects.values_list("bill__bill_no", "kind")) == {
        ("B1", "before_due"), ("B2", "before_due"), ("B1", "after_due_1")}
    assert OutboundEvent.objects.filter(key__startswith="billing-reminder:").count() == 3


@pytest.mark.django_db
def test_reminder_sweep_is_bounded_and_catches_up():
    plans = {k: (a, b) for k, a, b in services.reminder_plans(dt.date(2026, 8, 22))}
    # before: due in 3 days (or up to 2 days later, a missed sweep); after: 1 day (until day 3), 10 days on
    assert plans["before_due"] == (dt.date(2026, 8, 23), dt.date(2026, 8, 25))
    assert plans["after_due_1"] == (dt.date(2026, 8, 19), dt.date(2026, 8, 21))
    assert plans["after_due_10"] == (dt.date(2026, 8, 10), dt.date(2026, 8, 12))


def run_july(world):
    run = BillRun.objects.create(unit=world.cust_a.unit.parent, period=dt.date(2026, 7, 1), started_by=world.admin)
    return services.execute_run(run)


@pytest.mark.django_db
def test_prepaid_bill_paid_from_the_balance_at_issue(world):
    reads(world)
    BillingAccount.objects.filter(customer=world.cust_a).update(prepaid=True, balance=D("500.00"))
    run = run_july(world)
    assert run.bills == 1
    b = Bill.objects.get(customer=world.cust_a)
    assert b.amount == D("297.92") and b.paid == D("297.92") and b.status == "paid"
    acc = BillingAccount.objects.get(customer=world.cust_a)
    assert acc.balance == D("202.08") and acc.low_balance_alerted_at is None
    p = Payment.objects.get(customer=world.cust_a)
    assert (p.channel, p.amount, p.reference) == ("prepaid", D("297.92"), f"PREPAID-{b.bill_no}")
    assert p.allocations.get().bill == b and p.audit_entries().exists() and acc.audit_entries().exists()
    assert not Delivery.objects.exists()  # still above the 20-yuan threshold: no alert
    # settling again (a retried run) deducts nothing twice; a deduction is not a channel customers choose
    assert services.settle_prepaid(Bill.objects.all())["settled"] == 0
    mix = {m["channel"] for m in services.channel_mix(world.admin)}
    assert "prepaid" not in mix
    r = ApiClient(world.admin).post("/api/billing/payments", {"account_no": "3100000001", "channel": "prepaid",
                                                              "amount": "5.00"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "channel"


@pytest.mark.django_db
def test_prepaid_partial_deduction_alerts_once_per_crossing_and_top_up_rearms(world):
    reads(world)
    BillingAccount.objects.filter(customer=world.cust_a).update(prepaid=True, balance=D("100.00"))
    run_july(world)
    b = Bill.objects.get(customer=world.cust_a)
    assert b.paid == D("100.00") and b.status == "issued" and b.owed == D("197.92")   # the rest stays owed
    acc = BillingAccount.objects.get(customer=world.cust_a)
    assert acc.balance == D("0.00") and acc.low_balance_alerted_at is not None
    alert = Delivery.objects.select_related("event").get()
    assert alert.channel == "sms" and alert.address == "13900000001" and alert.event.kind == "billing_low_balance"
    assert "余额为0.00元，已低于预警线20.00元" in alert.event.body
    # a further deduction below the threshold does not alert again
    BillingAccount.objects.filter(pk=acc.pk).update(balance=D("10.00"))
    b2 = bill(world.cust_a, "B-AUG", "6.00", dt.date(2026, 9, 25), period=dt.date(2026, 8, 1))
    assert services.settle_prepaid(Bill.objects.filter(pk=b2.pk)) == {"settled": 1, "amount": D("6.00"), "alerts": 0}
    assert Delivery.objects.count() == 1
    # a top-up pays the debt first, the rest goes to the balance, above the threshold: re-armed
    r = ApiClient(world.admin).post("/api/billing/payments", {"account_no": "3100000001", "channel": "wechat",
                                                              "amount": "300.00", "paid_at": "2026-08-12T10:00:00+08:00"})
    assert r.status_code == 201 and r.json()["to_balance"] == "102.08"
    acc.refresh_from_db()
    assert acc.balance == D("106.08") and acc.low_balance_alerted_at is None
    # the next crossing alerts again (a new event)
    b3 = bill(world.cust_a, "B-SEP", "90.00", dt.date(2026, 10, 25), period=dt.date(2026, 9, 1))
    assert services.settle_prepaid(Bill.objects.filter(pk=b3.pk))["alerts"] == 1
    acc.refresh_from_db()
    assert acc.balance == D("16.08") and acc.low_balance_alerted_at is not None
    bodies = list(OutboundEvent.objects.filter(kind="billing_low_balance").order_by("id").values_list("body", flat=True))
    assert len(bodies) == 2 and "余额为16.08元" in bodies[1]
