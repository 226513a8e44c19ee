"""The billing pages in both languages through the real stack: Chinese by default (unchanged), English with
the `django_language=en` cookie, and then no Chinese left on the page but data (unit, user and customer
names, addresses, a bill's line items and note as stored, the reminder's SMS text as sent). The arrears
board, the bill page and the bills, payments and reminders on the customer page. Needs the compiled
catalogue (`gridcare compile_translations`, which `make test` runs first)."""
import datetime as dt
import re
from decimal import Decimal as D

import pytest
from django.utils import timezone
from django.utils.translation import gettext, override

from gridcare.analytics.tests.english_text import HAN, check_both, client_for, leftover_han, people_and_places
from gridcare.billing import labels, services
from gridcare.billing.models import (REMINDER_KINDS, Bill, BillStatus, Channel, CutStatus, Disconnection, Payment,
                                     Reminder)
from gridcare.billing.rules import CutLimits, cut_violations
from gridcare.billing.timeline import bills_and_payments
from gridcare.customers.timeline import TIMELINE_SOURCES
from gridcare.notifications.models import DeliveryStatus

pytestmark = pytest.mark.django_db

# the bill's explanation names the line items as the bill lists them (stored in Chinese): “阶梯加价” (…)
LINE_NAME = "阶梯加价"


def data_values():
    """Names and texts that come from data and stay as they are in English."""
    values = people_and_places()
    for b in Bill.objects.all():
        values += [line["item"] for line in b.lines] + [b.note]
    values += [r.text for r in Reminder.objects.all()]
    return values


def check(user, url, zh, en, extra_data=()):
    """The page in Chinese shows `zh`; in English it shows `en` and no Chinese but data."""
    return check_both(user, url, zh, en, [*data_values(), *extra_data])


def bill(customer, no, amount, due, period, **kw):
    return Bill.objects.create(
        bill_no=no, customer=customer, unit=customer.unit, period=period, period_start=period,
        period_end=period.replace(day=28), tariff_code="EX-RES-TIERED", kwh=D(520), amount=D(amount), due_date=due,
        issued_at=timezone.now() - dt.timedelta(days=30), **kw)


@pytest.fixture
def board(world):
    """Overdue bills and a case in every state the board shows, all in the reader's station: a notice that
    may not be cut yet (the hospital: critical, notice too recent, no second notice), a cut, a paid one on
    its clock, a paid one past its clock and one reconnected."""
    now = timezone.now()
    today = timezone.localdate()
    period = (today.replace(day=1) - dt.timedelta(days=40)).replace(day=1)
    bill(world.cust_a, "B1", "120.50", today - dt.timedelta(days=10), period)
    bill(world.cust_a2, "B2", "880.00", today - dt.timedelta(days=10), period)
    mk = lambda c, status, **kw: Disconnection.objects.create(  # noqa: E731
        customer=c, unit=c.unit, status=status, owed=D("100.00"), notice_delivered_at=now - dt.timedelta(days=1),
        planned_cut_at=now + dt.timedelta(hours=2), **kw)
    mk(world.cust_a2, CutStatus.NOTICE)
    mk(world.cust_a2, CutStatus.CUT, cut_at=now - dt.timedelta(hours=3))
    mk(world.cust_a, CutStatus.PAID, paid_at=now - dt.timedelta(hours=2), reconnect_due_at=now + dt.timedelta(hours=22))
    mk(world.cust_a, CutStatus.PAID, paid_at=now - dt.timedelta(hours=30), reconnect_due_at=now - dt.timedelta(hours=6),
       complaint_risk=True)
    mk(world.cust_a, CutStatus.RECONNECTED, paid_at=now - dt.timedelta(hours=5),
       reconnect_due_at=now + dt.timedelta(hours=19), reconnected_at=now - dt.timedelta(hours=1))


def test_arrears_board(world, board):
    html = check(world.reader, "/billing/arrears/", "欠费与停复电看板", "Arrears and disconnection board")
    assert "Disconnection cases" in html and "Overdue arrears (top 100 customers)" in html
    assert "Critical customer" in html and "Complaint risk" in html and '<strong class="text-danger">Overdue</strong>' in html
    for status in ("Notice delivered", "Disconnected", "Paid, awaiting reconnection", "Reconnected"):
        assert f"<td>{status}</td>" in html, status
    # the reasons why the hospital may not be cut yet, from rules.cut_violations, as the board shows them
    assert "Written notice delivered less than 3 days before (delivered " in html
    assert "Customer not notified again 30 minutes before the cut" in html
    assert "must first be reported to the power authority" in html
    assert " (reconnected " in html and " left)" in html
    zh = client_for(world.reader).get("/billing/arrears/").content.decode()
    assert "书面停电通知送达不足3天" in zh and "已缴费待复电" in zh and "（已复电 " in zh and "（剩余 " in zh


def test_empty_arrears_board(world):
    html = check(world.reader, "/billing/arrears/", "没有进行中的停复电流程", "No disconnection case in progress")
    assert "No overdue arrears" in html


@pytest.fixture
def bill_page(world):
    """A rebill (estimated, with a note) of a cancelled bill, paid in part after its due date (a late
    charge), with a reminder before and after the due date — the hospital has no mobile: unreachable."""
    period, due = dt.date(2026, 7, 1), dt.date(2026, 8, 25)
    lines = [{"item": "电度电费", "kwh": "520", "price": "0.5380", "amount": "279.76"},
             {"item": "阶梯加价（第二档）", "kwh": "290", "price": "0.0500", "amount": "14.50"},
             {"item": "可再生能源电价附加", "kwh": "520", "price": "0.0019", "amount": "0.99"}]
    old = bill(world.cust_a, "B0", "300.00", due, period, status=BillStatus.CANCELLED, lines=lines)
    b = bill(world.cust_a, "B1", "295.25", due, period, lines=lines, estimated=True, rebill_of=old, note="换表后更正")
    other = bill(world.cust_a2, "B2", "880.00", due, period, lines=lines)
    services.send_reminders(today=due - dt.timedelta(days=3))
    services.send_reminders(today=due + dt.timedelta(days=1))
    services.do_record_payment(world.reader, world.cust_a, {"channel": "alipay", "amount": "100.00",
                                                            "paid_at": dt.datetime(2026, 9, 4, 10, tzinfo=timezone.get_current_timezone())})
    return b, other


def test_bill_page(world, bill_page):
    b, other = bill_page
    html = check(world.reader, f"/billing/bills/{b.bill_no}/", "电费账单", "Electricity bill", [LINE_NAME])
    assert "Name: 张三 · Account no.: 3100000001" in html and "Supply address: " in html
    assert "Billing period: " in html and "Tariff: EX-RES-TIERED" in html
    assert "Estimated usage this period" in html and "Used this period: <strong>520.00</strong> kWh" in html
    assert "Usage (kWh)" in html and "Price (yuan/kWh)" in html and "Total" in html
    assert "Status: Unpaid" in html and "(corrects B0)" in html
    assert "Alipay: " in html and "late-payment charge" in html
    assert "Reminder before the due date" in html and "Overdue reminder, day 1" in html
    assert "<td>SMS</td>" in html and "<td>Pending" in html
    assert "阶梯加价（第二档）" in html                   # the bill's lines are shown as stored
    html = check(world.reader, f"/billing/bills/{other.bill_no}/", "催费提醒", "Payment reminders", [LINE_NAME])
    assert "<td>No usable contact</td>" in html
    zh = client_for(world.reader).get(f"/billing/bills/{b.bill_no}/").content.decode()
    assert "户名：张三　户号：3100000001" in zh and "状态：未缴清" in zh and "（更正自 B0）" in zh
    assert "支付宝 冲抵电费 " in zh and "逾期1天催缴" in zh and "到期前提醒" in zh and "<td>短信</td>" in zh


def timeline_items(html):
    m = re.search(r'<ul class="list-group list-group-flush" id="timeline">(.*?)</ul>', html, re.S)
    assert m, "no timeline on the customer page"
    return re.findall(r"<li .*?</li>", m[1], re.S)


def test_customer_page_bills_payments_and_reminders(world, bill_page):
    b, _other = bill_page
    Payment.objects.create(payment_no="P-PREPAID-1", customer=world.cust_a, unit=world.cust_a.unit,
                           channel=Channel.PREPAID, amount=D("20.00"), paid_at=timezone.now())
    services.do_record_payment(world.reader, world.cust_a, {"channel": "counter", "amount": "500.00",
                                                            "paid_at": timezone.now()})
    url = f"/customers/{world.cust_a.account_no}/"
    zh = timeline_items(client_for(world.reader).get(url).content.decode())
    zh_text = "\n".join(zh)
    assert "2026年07月电费 295.25 元（已缴清）" in zh_text and "预存余额抵扣电费 20.00 元" in zh_text
    assert "营业厅柜台缴费 500.00 元" in zh_text and "转预存" in zh_text and "到期前提醒（短信）" in zh_text
    items = timeline_items(client_for(world.reader, english=True).get(url).content.decode())
    billing = [i for i in items if re.search(r'<span class="badge bg-secondary">(Billing|Payment|Reminder)</span>', i)]
    assert len(billing) == len(bills_and_payments(world.cust_a, 50))
    text = "\n".join(billing)
    assert "Bill for 2026-07: 295.25 yuan (Paid)" in text and "Bill for 2026-07: 300.00 yuan (Cancelled)" in text
    assert "520.00 kWh, due 2026-08-25, estimated" in text
    assert "20.00 yuan paid from the prepaid balance" in text and "Payment of 500.00 yuan (Business hall counter)" in text
    assert "Payment of 100.00 yuan (Alipay)" in text and "yuan to the prepaid balance" in text
    assert "Reminder before the due date (SMS)" in text and "Overdue reminder, day 1 (SMS)" in text
    assert leftover_han(text, data_values(), whole=True) == []


def test_labels_shown_on_the_pages_are_all_in_the_catalogue(world):
    """Every choice and kind the pages show, and every reason of rules.cut_violations, has an English text."""
    limits = CutLimits(dt.timedelta(days=3), dt.timedelta(days=7), dt.timedelta(minutes=30), dt.timedelta(hours=24))
    cut = dt.datetime(2026, 9, 10, 9, 0, tzinfo=timezone.get_current_timezone())
    base = {"owed": D("1.00"), "notice_delivered_at": None, "second_notice_at": None, "critical": False,
            "authority_reported_at": None, "limits": limits}
    reasons = set()
    for at, kw in ((cut.replace(tzinfo=None), {"owed": D(0), "critical": True}),
                   (cut, {"notice_delivered_at": cut - dt.timedelta(days=1), "second_notice_at": cut - dt.timedelta(days=2)}),
                   (cut, {"notice_delivered_at": cut - dt.timedelta(days=9), "second_notice_at": cut - dt.timedelta(minutes=5)})):
        reasons |= set(cut_violations(at, **{**base, **kw}))
    assert len(reasons) == 9
    shown = [*BillStatus.labels, *CutStatus.labels, *Channel.labels, *DeliveryStatus.labels]
    with override("en"):
        for text in shown:
            assert text in labels.SHOWN_AS_DATA and not HAN.search(gettext(text)), text
        for text in reasons:
            assert not HAN.search(labels.cut_condition(text)), text
        for kind in [*REMINDER_KINDS, "after_due_1", "after_due_10"]:
            label = Reminder(kind=kind).kind_label
            assert not HAN.search(labels.reminder_kind(label)), label
        for channel in ("sms", "wechat", "email", "none"):
            assert not HAN.search(labels.reminder_channel(channel))
    assert labels.cut_condition("别的说明") == "别的说明" and labels.reminder_kind("别的") == "别的"
    assert bills_and_payments in TIMELINE_SOURCES
