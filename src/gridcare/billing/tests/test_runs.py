"""Bill run through the real task worker; payments allocated oldest first with 违约金; bad payments refused."""
import datetime as dt
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from gridcare.billing.models import Bill, BillingAccount, BillRun
from gridcare.grid.models import Meter
from gridcare.metering import services as metering
from gridcare.testing import ApiClient

TZ = ZoneInfo("Asia/Shanghai")


def reads(world):
    m1 = Meter.objects.create(meter_no="M0001", customer=world.cust_a, transformer_area=world.taiqu_a)
    m2 = Meter.objects.create(meter_no="M0002", customer=world.cust_a2, transformer_area=world.taiqu_a2)
    BillingAccount.objects.create(customer=world.cust_a, tariff_code="EX-RES-TIERED")
    BillingAccount.objects.create(customer=world.cust_a2, tariff_code="EX-NONRES-FLAT")
    now = dt.datetime(2026, 8, 5, 12, tzinfo=TZ)
    for meter, c, a, b in ((m1, world.cust_a, "1000", "1520"), (m2, world.cust_a2, "5000", "5000")):
        metering.do_record_read(world.admin, c, meter.meter_no, dt.datetime(2026, 7, 2, 9, tzinfo=TZ), a, now=now)
        metering.do_record_read(world.admin, c, meter.meter_no, dt.datetime(2026, 8, 3, 9, tzinfo=TZ), b, now=now)


@pytest.mark.django_db(transaction=True)
def test_bill_run_through_the_worker_holds_exceptions(world):
    reads(world)  # the hospital's zero consumption is an open exception: held, not billed
    api = ApiClient(world.admin)
    r = api.post("/api/billing/runs", {"unit_code": "S01", "period": "2026-07-01"})
    assert r.status_code == 201, r.content
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    run = api.get(f"/api/billing/runs/{r.json()['id']}").json()
    assert run["status"] == "done" and run["progress"] == 100 and run["bills"] == 1 and run["held"] == 1
    bill = Bill.objects.get()
    # 520 kWh on EX-RES-TIERED: 253.92 + 8.00 + 36.00, the water fund included in a residential price (test_rules)
    assert bill.amount == D("297.92") and bill.customer == world.cust_a and bill.due_date == dt.date(2026, 8, 25)
    page = api.client
    page.force_login(world.admin)
    html = page.get(f"/billing/bills/{bill.bill_no}/").content.decode()
    assert "阶梯加价（第三档）" in html and "297.92" in html
    assert BillRun.objects.get().audit_entries().exists()


@pytest.mark.django_db
def test_payments_oldest_first_with_late_charge_and_bad_amounts(world):
    api = ApiClient(world.reader)  # 抄表催费员 of the customer's station (a hall clerk sees only the hall's subtree)
    mk = lambda p, amt, due: Bill.objects.create(  # noqa: E731
        bill_no=f"B{p}", customer=world.cust_a, unit=world.cust_a.unit, period=dt.date(2026, p, 1),
        period_start=dt.date(2026, p, 1), period_end=dt.date(2026, p, 28), tariff_code="EX-RES-TIERED",
        kwh=D(100), amount=D(amt), due_date=due, lines=[], issued_at=dt.datetime(2026, p, 5, tzinfo=TZ))
    june, july = mk(6, "100.00", dt.date(2026, 7, 25)), mk(7, "80.00", dt.date(2026, 8, 25))
    # paid 2026-08-04: June is 10 days late: 100 × 1‰ × 10 = 1.00; July not yet due
    r = api.post("/api/billing/payments", {"account_no": "3100000001", "channel": "counter", "amount": "150.00",
                                          "paid_at": "2026-08-04T10:00:00+08:00", "reference": "T1"})
    assert r.status_code == 201, r.content
    assert r.json()["allocations"] == [{"bill_no": "B6", "amount": "100.00", "late_charge": "1.00"},
                                       {"bill_no": "B7", "amount": "49.00", "late_charge": "0.00"}]
    june.refresh_from_db(), july.refresh_from_db()
    assert june.status == "paid" and july.paid == D("49.00")
    for bad, field in (({"amount": "10.001"}, "amount"), ({"currency": "USD"}, "currency"),
                       ({"amount": "-5"}, "amount"), ({"channel": "cash"}, "channel")):
        body = {"account_no": "3100000001", "channel": "alipay", "amount": "10.00", **bad}
        r = api.post("/api/billing/payments", body)
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == field
    assert api.post("/api/billing/payments", {"account_no": "3100000001", "channel": "counter", "amount": "1.00",
                                              "reference": "T1"}).status_code == 409
    mix = {m["channel"]: m["count"] for m in api.get("/api/billing/reports/channel-mix").json()}
    assert mix["counter"] == 1 and mix["wechat"] == 0
    # e-invoice prefilled from the customer's details, queued, exported
    r = api.post("/api/billing/invoices", {"account_no": "3100000001", "bill_no": "B6"})
    assert r.status_code == 201 and r.json()["title"] == "张三" and r.json()["status"] == "queued"
    csv_text = api.post("/api/billing/invoices/export").content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("request_id,buyer_name") and "B6" in csv_text
    assert api.get("/api/billing/invoices").json()[0]["status"] == "exported"
