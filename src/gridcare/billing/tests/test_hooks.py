"""Billing and metering on the home page and in the agent's call context, registered from their own apps."""
import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import timezone

from gridcare.billing.models import Bill, BillingAccount, Disconnection
from gridcare.metering.models import ReadException
from gridcare.testing import ApiClient
from gridcare.workorders import services as wo_services


def bill(customer, no, amount, due, paid="0.00"):
    return Bill.objects.create(bill_no=no, customer=customer, unit=customer.unit, period=due.replace(day=1),
                               period_start=due.replace(day=1), period_end=due.replace(day=1), tariff_code="X",
                               kwh=D(100), amount=D(amount), paid=D(paid), due_date=due, issued_at=timezone.now())


@pytest.mark.django_db
def test_home_cards_show_arrears_and_exceptions_in_scope(world, client):
    today = timezone.localdate()
    bill(world.cust_a, "B1", "120.50", today - dt.timedelta(days=10))
    bill(world.cust_a, "B2", "80.00", today + dt.timedelta(days=10))          # not due yet
    bill(world.cust_other, "B3", "999.00", today - dt.timedelta(days=10))     # another city
    ReadException.objects.create(customer=world.cust_a, unit=world.cust_a.unit, rule="missed_read", message="x",
                                 period=today.replace(day=1))
    client.force_login(world.reader)
    html = client.get("/").content.decode()
    assert "逾期欠费客户" in html and "120" in html and "999" not in html
    assert "待处理抄表异常" in html and "其中漏抄" in html
    client.force_login(world.agent)   # an agent sees no billing cards
    assert "逾期欠费客户" not in client.get("/").content.decode()


@pytest.mark.django_db
def test_agent_sees_arrears_and_disconnection_state_when_the_customer_calls(world):
    now = timezone.now()
    today = timezone.localdate()
    BillingAccount.objects.create(customer=world.cust_a, tariff_code="ZJ-RES-TIERED", status="disconnected")
    bill(world.cust_a, "B1", "120.50", today - dt.timedelta(days=40), paid="20.50")
    Disconnection.objects.create(customer=world.cust_a, unit=world.cust_a.unit, status="cut", owed=D("100.00"),
                                 notice_delivered_at=now - dt.timedelta(days=6), planned_cut_at=now - dt.timedelta(days=1),
                                 second_notice_at=now - dt.timedelta(days=1, hours=1), cut_at=now - dt.timedelta(days=1))
    ctx = wo_services.customer_context(world.agent, world.cust_a, now)
    b = ctx["billing"]
    assert b["overdue"] == "100.00" and b["overdue_bills"] == 1 and b["account_status"] == "disconnected"
    assert b["disconnection"]["status"] == "cut" and "欠费停电" in b["summary"] and "100.00" in b["summary"]
    # a customer without debt: nothing to say
    assert wo_services.customer_context(world.agent, world.cust_b, now)["billing"]["summary"] == ""
    # the agent's lookup still works with the hook registered
    assert ApiClient(world.agent).get("/api/workorders/lookup?q=3100000001").status_code == 200
