"""The hall shows what the other apps know, through the real HTTP stack: the clerk sees the customer's arrears
and the self-service customer their bills (billing), the FAQ comes from the knowledge base; a missing ticket
is a 404, a wrong what-if share a 400 on its field, and every time in an answer is ISO 8601 in +08:00."""
import datetime as dt
import json
import re
from decimal import Decimal as D

import pytest
from django.test import Client
from django.utils import timezone

from gridcare.billing.models import Bill
from gridcare.testing import PASSWORD, ApiClient

pytestmark = pytest.mark.django_db

BASE = "/api/hall"
LOCAL_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+08:00$")


def months_back(day: dt.date, n: int) -> dt.date:
    y, m = divmod(day.year * 12 + day.month - 1 - n, 12)
    return dt.date(y, m + 1, 1)


def bill(customer, no, period, amount, due, paid="0.00", status="issued", kwh="100.00"):
    return Bill.objects.create(bill_no=no, customer=customer, unit=customer.unit, period=period, period_start=period,
                               period_end=period, tariff_code="ZJ-RES-TIERED", kwh=D(kwh), amount=D(amount),
                               paid=D(paid), status=status, due_date=due, issued_at=timezone.now())


@pytest.fixture
def bills(world):
    """张三 (3100000001): one overdue bill part paid (100.05 owed), one issued not yet due (80.10), one paid,
    one cancelled (replaced) and one from two years ago (paid)."""
    today = timezone.localdate()
    this, last, before = months_back(today, 0), months_back(today, 1), months_back(today, 2)
    return {
        "overdue": bill(world.cust_a, "B-OVERDUE", before, "120.55", today - dt.timedelta(days=40), paid="20.50",
                        kwh="230.00"),
        "open": bill(world.cust_a, "B-OPEN", last, "80.10", today + dt.timedelta(days=10), kwh="160.00"),
        "paid": bill(world.cust_a, "B-PAID", months_back(today, 3), "60.00", today - dt.timedelta(days=70),
                     paid="60.00", status="paid", kwh="120.00"),
        "cancelled": bill(world.cust_a, "B-CANCELLED", this, "999.00", today + dt.timedelta(days=20),
                          status="cancelled"),
        "old": bill(world.cust_a, "B-OLD", months_back(today, 24), "50.00", today - dt.timedelta(days=700),
                    paid="50.00", status="paid"),
        "periods": (f"{before:%Y-%m}", f"{last:%Y-%m}", f"{months_back(today, 3):%Y-%m}"),
    }


def serve_customer(clerk_api, q="3100000001"):
    r = clerk_api.post(f"{BASE}/halls/H01/tickets", {"service_type": "payment"})
    assert r.status_code == 201, r.json_body
    assert clerk_api.post(f"{BASE}/halls/H01/windows/1/call").status_code == 200
    r = clerk_api.post(f"{BASE}/halls/H01/windows/1/identify", {"q": q})
    assert r.status_code == 200, r.json_body
    return r.json_body


def counter_page(world):
    c = Client()
    assert c.login(username="clerk01", password=PASSWORD)
    return c.get("/hall/?hall=H01&w=1").content.decode()


def self_service(account_no="3100000001", phone="13900000001"):
    r = Client().post(f"{BASE}/public/self-service", json.dumps({"account_no": account_no, "phone": phone}),
                      content_type="application/json")
    assert r.status_code == 200, r.content
    return r.json()


# ---------------------------------------------------------------- 1. billing at the counter and in self-service
def test_the_clerk_sees_the_customers_arrears(world, hall, bills):
    body = serve_customer(ApiClient(world.clerk))
    a = body["arrears"]
    today = timezone.localdate()
    assert a["available"] is True
    # yuan to the fen, as exact strings: 100.05 overdue + 80.10 not yet due
    assert a["total"] == "180.15" and a["overdue"] == "100.05"
    assert a["overdue_bills"] == 1 and a["oldest_due_date"] == (today - dt.timedelta(days=40)).isoformat()
    assert "逾期欠费 100.05 元（1 期" in a["summary"]
    # the unpaid bills, oldest first; paid and cancelled ones are not owed
    assert [(b["period"], b["owed"], b["due_date"]) for b in a["bills"]] == [
        (bills["periods"][0], "100.05", (today - dt.timedelta(days=40)).isoformat()),
        (bills["periods"][1], "80.10", (today + dt.timedelta(days=10)).isoformat())]
    assert a["disconnection"] is None
    # the same Decimal the billing app computes
    from gridcare.billing.services import owed_total
    from gridcare.hall import hooks
    assert hooks.arrears(world.cust_a)["total"] == owed_total(world.cust_a) == D("180.15")

    html = counter_page(world)
    assert "欠费合计：180.15 元" in html and "逾期欠费 100.05 元" in html
    assert "电费系统未接入" not in html


def test_a_customer_without_bills_owes_nothing_rather_than_billing_missing(world, hall):
    a = serve_customer(ApiClient(world.clerk))["arrears"]
    assert a["available"] is True and a["total"] == "0.00" and a["overdue_bills"] == 0 and a["bills"] == []
    assert "欠费合计：0.00 元" in counter_page(world)


def test_the_self_service_customer_sees_their_recent_bills(world, hall, bills):
    body = self_service()
    b = body["bills"]
    assert b["available"] is True
    # last 12 months, newest first; the cancelled bill and the one from two years ago are not shown
    assert [(x["period"], x["kwh"], x["amount"], x["status"]) for x in b["bills"]] == [
        (bills["periods"][1], "160.00", "80.10", "issued"),
        (bills["periods"][0], "230.00", "120.55", "issued"),
        (bills["periods"][2], "120.00", "60.00", "paid")]
    assert [x["status_label"] for x in b["bills"]] == ["未缴清", "未缴清", "已缴清"]
    assert b["usage"] == [{"period": x["period"], "kwh": x["kwh"]} for x in b["bills"]]
    assert body["arrears"]["available"] is True and body["arrears"]["total"] == "180.15"

    anon = Client()
    html = anon.post("/hall/self/", {"account_no": "3100000001", "phone": "13900000001"}, follow=True).content.decode()
    assert f"{bills['periods'][1]}：160.00 kWh，80.10 元" in html and "已缴清" in html
    assert "当前欠费：180.15 元" in html and "电费账单查询暂未开通" not in html


def test_not_available_only_when_billing_is_not_installed(world, hall, bills, monkeypatch):
    from gridcare.hall import hooks

    real = hooks._installed
    monkeypatch.setattr(hooks, "_installed", lambda app: app != "billing" and real(app))
    assert serve_customer(ApiClient(world.clerk))["arrears"] == {"available": False}
    assert "电费系统未接入，暂无欠费信息" in counter_page(world)
    body = self_service()
    assert body["bills"] == {"available": False} and body["arrears"] == {"available": False}


def test_a_failing_billing_provider_does_not_break_the_counter(world, hall, monkeypatch):
    from gridcare.hall import hooks

    def broken(customer):
        raise RuntimeError("billing database down")

    monkeypatch.setattr(hooks, "ARREARS_PROVIDERS", [broken])
    assert serve_customer(ApiClient(world.clerk))["arrears"] == {"available": False, "error": True}
    html = counter_page(world)
    assert "电费系统暂时无法查询欠费" in html and "电费系统未接入" not in html


# ---------------------------------------------------------------- 2. FAQ from the knowledge base
def test_the_self_service_faq_comes_from_the_knowledge_base(world, hall):
    from gridcare.knowledge.models import Article
    from gridcare.knowledge.services import public_faq

    faq = self_service()["faq"]
    assert faq["source"] == "knowledge" and faq["url"] == "/knowledge/faq/"
    public = {a.title for a in Article.objects.filter(public=True)}
    assert len(faq["items"]) == 10 and all(i["q"] in public and i["a"] for i in faq["items"])
    assert "家里跳闸、部分房间没电是谁负责" in {i["q"] for i in faq["items"]}
    assert "标准答复：频繁停电投诉" not in {i["q"] for i in faq["items"]}     # not public
    assert [i["q"] for i in faq["items"]] == [i["q"] for i in public_faq(10)]
    assert len(public_faq(100)) == Article.objects.filter(public=True).count()

    # a knowledge base without public articles: hall.yaml's short list
    Article.objects.update(public=False)
    faq = self_service()["faq"]
    assert faq["source"] == "hall" and len(faq["items"]) == 3


# ---------------------------------------------------------------- 3. a ticket that does not exist
def test_a_missing_ticket_is_a_404_not_a_server_error(world, hall):
    anon = Client(raise_request_exception=False)
    r = anon.get("/hall/t/nonexistent/")
    assert r.status_code == 404 and "排队号不存在" in r.content.decode()
    r = anon.post("/hall/t/nonexistent/", {"score": 5})
    assert r.status_code == 404 and "排队号不存在" in r.content.decode()
    r = anon.get("/hall/t/nonexistent/qr.svg")
    assert r.status_code == 404
    r = anon.get(f"{BASE}/tickets/nonexistent")
    assert r.status_code == 404 and r.json()["detail"] == "排队号不存在"
    # an existing ticket still has its page and QR code
    t = ApiClient(world.clerk).post(f"{BASE}/halls/H01/tickets", {"service_type": "payment"}).json_body
    assert anon.get(f"/hall/t/{t['token']}/").status_code == 200
    r = anon.get(f"/hall/t/{t['token']}/qr.svg")
    assert r.status_code == 200 and r["Content-Type"] == "image/svg+xml"


# ---------------------------------------------------------------- 4. the what-if share
@pytest.mark.parametrize("share", ["2", "-0.5", "1.01", "nan"])
def test_a_what_if_share_outside_0_to_1_is_a_400_on_the_field(world, hall, share):
    sup = ApiClient(world.supervisor_county)
    r = sup.get(f"{BASE}/halls/H01/staffing-plan?day=2026-12-07&online_share={share}")
    assert r.status_code == 400, r.content
    assert r.json_body["errors"] == [{"field": "online_share", "message": "转移比例必须在0到1之间"}]


def test_a_what_if_share_within_0_to_1_is_planned(world, hall):
    sup = ApiClient(world.supervisor_county)
    for share in ("0", "0.5", "1"):
        r = sup.get(f"{BASE}/halls/H01/staffing-plan?day=2026-12-07&online_share={share}")
        assert r.status_code == 200 and r.json_body["online_share"] == float(share)


# ---------------------------------------------------------------- times: ISO 8601 in Asia/Shanghai
def test_times_are_iso_8601_in_shanghai_time(world, hall):
    from gridcare.workorders.services import do_create_order

    anon, clerk = Client(), ApiClient(world.clerk)
    day = timezone.localdate() + dt.timedelta(days=1)
    slots = anon.get(f"{BASE}/halls/H01/slots?day={day}&service_type=application").json()
    assert slots[0]["start"] == f"{day}T00:00:00+08:00" and slots[0]["end"] == f"{day}T00:30:00+08:00"
    assert slots[-1]["start"] == f"{day}T23:30:00+08:00"
    assert slots[-1]["end"] == f"{day + dt.timedelta(days=1)}T00:00:00+08:00"      # 24:00, not this morning
    r = anon.post(f"{BASE}/halls/H01/appointments", json.dumps({
        "service_type": "application", "slot_start": slots[-1]["start"], "name": "张三", "phone": "13900000001"}),
        content_type="application/json")
    assert r.status_code == 201 and LOCAL_ISO.match(r.json()["slot_start"]) and LOCAL_ISO.match(r.json()["slot_end"])

    t = clerk.post(f"{BASE}/halls/H01/tickets", {"service_type": "payment"}).json_body
    assert LOCAL_ISO.match(t["issued_at"])
    st = anon.get(f"{BASE}/tickets/{t['token']}").json()
    assert LOCAL_ISO.match(st["issued_at"]), st["issued_at"]
    assert dt.datetime.fromisoformat(st["issued_at"]) == dt.datetime.fromisoformat(t["issued_at"])

    do_create_order(world.agent, {"order_type": "inquiry", "account_no": "3100000001", "text": "咨询电费"})
    called = clerk.post(f"{BASE}/halls/H01/windows/1/call").json_body
    assert LOCAL_ISO.match(called["called_at"])
    body = clerk.post(f"{BASE}/halls/H01/windows/1/identify", {"q": "3100000001"}).json_body
    assert body["open_orders"] and all(LOCAL_ISO.match(o["accepted_at"]) for o in body["open_orders"])
    assert all(LOCAL_ISO.match(o["accepted_at"]) for o in self_service()["open_orders"])


def test_arrears_and_bills_in_english(world, hall, bills):
    """With the language switch the clerk and the customer read billing's figures in English (the bill
    status and billing's summary are in the catalogue); only data stays Chinese."""
    from gridcare.analytics.tests.english_text import client_for, leftover_han, strings_in
    from gridcare.hall.tests.test_english import data_values

    serve_customer(ApiClient(world.clerk))
    html = client_for(world.clerk, english=True).get("/hall/?hall=H01&w=1").content.decode()
    assert "180.15" in html and "100.05" in html
    assert leftover_han(html, data_values()) == []
    r = client_for(None, english=True).post("/hall/self/", {"account_no": "3100000001", "phone": "13900000001"},
                                            follow=True)
    html = r.content.decode()
    assert "160.00 kWh" in html and "Paid" in html
    data = r.context["data"]
    assert leftover_han(html, [*data_values(), *strings_in(data["faq"]), data["customer"]["name"]]) == []
