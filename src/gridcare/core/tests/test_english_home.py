"""The home page's cards (core.views.HOME_CARDS, registered by work orders, outages, analytics, billing and
metering) and the intake lookup's per-app context (workorders.services.CONTEXT_HOOKS: billing's summary,
the outages on the caller's address) in both languages through the real stack: Chinese by default
(unchanged), English with the `django_language=en` cookie, and then no Chinese left but data (names,
addresses, 台区, an outage's title/reason/cause as recorded, order types and stages). The lookup's JSON API
stays Chinese whatever the client's language cookie. Needs the compiled catalogue
(`gridcare compile_translations`, which `make test` runs first)."""
import datetime as dt
import json
from decimal import Decimal as D

import pytest
from django.utils import timezone
from django.utils.translation import gettext, override

from gridcare.analytics.tests.english_text import HAN, check_both, client_for, leftover_han, people_and_places
from gridcare.billing.models import Bill, CutStatus, Disconnection
from gridcare.grid.models import TransformerArea
from gridcare.metering.models import ReadException
from gridcare.outages import labels as outage_labels
from gridcare.outages import services as outage_services
from gridcare.outages.choices import PROGRESS_KINDS, Kind, UpdateKind
from gridcare.outages.models import Outage
from gridcare.testing import ApiClient
from gridcare.workorders import services as wo_services
from gridcare.workorders.models import WorkOrder

pytestmark = pytest.mark.django_db

LOOKUP = "/workorders/lookup/?q=3100000001"


def data_values():
    """Names and texts that come from data and stay as they are in English."""
    values = people_and_places() + [t.name for t in TransformerArea.objects.all()]
    for o in Outage.objects.all():
        values += [o.title, o.reason, o.cause]
    for o in WorkOrder.objects.all():
        values += [o.get_order_type_display(), o.stage_label]     # the engine's labels: data on every page
    return values


def bill(customer, no, amount, due):
    return Bill.objects.create(
        bill_no=no, customer=customer, unit=customer.unit, period=due.replace(day=1), period_start=due.replace(day=1),
        period_end=due.replace(day=28), tariff_code="EX-RES-TIERED", kwh=D(300), amount=D(amount), due_date=due,
        issued_at=timezone.now() - dt.timedelta(days=40))


@pytest.fixture
def caller(world):
    """张三 (3100000001) calls: a complaint and a fault call open, a fault outage on his 台区 with its cause
    found (the call linked to it), a planned outage announced for the day after tomorrow, an overdue bill
    and a disconnection notice delivered; a read exception waits in his station."""
    now = timezone.now()
    today = timezone.localdate()
    fault = outage_services.do_create_outage(world.dispatcher, {
        "kind": "fault", "scope_kind": "taiqu", "taiqu_codes": ["TQ0001"], "reason": "配变故障",
        "start_at": now - dt.timedelta(minutes=30), "expected_restoration_at": now + dt.timedelta(hours=2)})
    outage_services.do_progress(world.field, fault.outage_no, "cause_found", cause="低压熔丝熔断")
    planned = outage_services.do_create_outage(world.dispatcher, {
        "kind": "planned", "scope_kind": "taiqu", "taiqu_codes": ["TQ0001"], "reason": "配合市政道路改造",
        "start_at": now + dt.timedelta(days=2), "end_at": now + dt.timedelta(days=2, hours=8),
        "late_reason": "市政工期提前"})
    wo_services.do_create_order(world.agent, {"order_type": "complaint", "category_l2": "frequent_outage",
                                              "account_no": "3100000001", "text": "经常停电", "channel": "hotline"})
    wo_services.do_create_order(world.agent, {"order_type": "fault_repair", "fault_kind": "area_no_power",
                                              "account_no": "3100000001", "text": "家里和邻居都停电了"})
    due = today - dt.timedelta(days=12)
    bill(world.cust_a, "B1", "120.50", due)
    Disconnection.objects.create(customer=world.cust_a, unit=world.cust_a.unit, status=CutStatus.NOTICE, owed=D("120.50"),
                                 notice_delivered_at=now - dt.timedelta(days=1), planned_cut_at=now + dt.timedelta(days=3))
    ReadException.objects.create(customer=world.cust_a, unit=world.cust_a.unit, rule="missed_read", message="账期内无示数",
                                 period=today.replace(day=1))
    return {"fault": Outage.objects.get(pk=fault.pk), "planned": planned, "due": due}


# the cards each role sees (zh, en): a role without the capability sees no card of that app
CARDS = {
    "agent": [("在途工单", "Open orders"), ("停电中", "Outages under way"), ("即将停电", "Upcoming outages")],
    "dispatcher": [("本月投诉（上月）", "Complaints this month (last month)"),
                   ("逾期欠费客户", "Customers in overdue arrears"), ("即将超时", "Near breach")],
    "handler_a": [("已超时", "Overdue"), ("频繁停电台区", "Transformer areas with frequent outages")],
    "clerk": [("待处理抄表异常", "Open read exceptions"), ("欠费停电中 / 待复电", "Cut for arrears / awaiting reconnection")],
    "reader": [("其中漏抄", "Of which missed reads"), ("逾期欠费金额（元）", "Overdue arrears (yuan)")],
    "supervisor_county": [("在途工单", "Open orders"), ("停电中", "Outages under way"),
                          ("本月投诉（上月）", "Complaints this month (last month)"),
                          ("逾期欠费客户", "Customers in overdue arrears"), ("待处理抄表异常", "Open read exceptions")],
}


@pytest.mark.parametrize("role", list(CARDS))
def test_home_cards_by_role(world, caller, role):
    user = getattr(world, role)
    (zh, en), *others = CARDS[role]
    html = check_both(user, "/", zh, en, data_values())
    assert "Workbench" in html
    zh_html = client_for(user).get("/").content.decode()
    for zh, en in others:
        assert zh in zh_html and en in html and zh not in html, (role, en)
    if role == "reader":           # no work-order, outage or report card without the capability
        assert "Open orders" not in html and "Outages under way" not in html and "Complaints this month" not in html
    if role == "agent":
        assert "Customers in overdue arrears" not in html and "Open read exceptions" not in html


def test_home_complaints_card_reads_both_ways(world, caller):
    """The complaints card's value: this month (last month)."""
    user = world.supervisor_county
    assert '<div class="fs-3 ">1（0）</div>' in client_for(user).get("/").content.decode()
    assert '<div class="fs-3 ">1 (0)</div>' in client_for(user, english=True).get("/").content.decode()


def test_lookup_fragment(world, caller):
    fault, planned, due = caller["fault"], caller["planned"], caller["due"]
    zh = client_for(world.agent).get(LOOKUP).content.decode()
    assert f"故障停电 {fault.outage_no}（{fault.title}）" in zh and "进展：查明故障原因，原因：低压熔丝熔断" in zh
    assert "已来电 1 次" in zh and f"即将计划停电 {planned.outage_no}：" in zh
    assert f"逾期欠费 120.50 元（1 期，最早 {due:%Y年%m月%d日} 到期）；已送达欠费停电通知，计划 " in zh
    html = client_for(world.agent, english=True).get(LOOKUP).content.decode()
    assert f"Fault outage {fault.outage_no} ({fault.title}) since " in html
    assert "progress: Cause found, cause: 低压熔丝熔断, expected restoration: " in html and "calls so far: 1" in html
    assert f"Upcoming: Planned outage {planned.outage_no}, " in html and ", 配合市政道路改造" in html
    assert (f"Overdue arrears 120.50 yuan (bills: 1, the earliest due {due:%Y-%m-%d}); "
            "Disconnection notice delivered, cut planned for ") in html
    assert "Open orders:" in html and "Orders in the last 90 days: 2" in html
    for text in (f"故障停电 {fault.outage_no}", "逾期欠费", "已送达", "进展", "即将"):
        assert text not in html, text
    assert leftover_han(html, data_values(), whole=True) == []


def test_lookup_api_stays_chinese_with_the_english_cookie(world, caller):
    api = ApiClient(world.agent)
    zh = api.get("/api/workorders/lookup?q=3100000001").json()
    api.client.cookies["django_language"] = "en"
    assert api.get("/api/workorders/lookup?q=3100000001").json() == zh
    row = zh[0]
    assert row["billing"]["summary"].startswith("逾期欠费 120.50 元（1 期，最早 ")
    assert row["billing"]["disconnection"]["status_label"] == "已送达停电通知"
    assert [o["title"][:4] for o in row["outages"]] == ["即将计划", "故障停电"]
    # the hall's self-service API too (outages on the address)
    body = json.dumps({"account_no": "3100000001", "phone": "13900000001"})
    anon = client_for(None, english=True)
    r = anon.post("/api/hall/public/self-service", body, content_type="application/json")
    assert r.status_code == 200 and [o["title"] for o in r.json()["outages"]] == [o["title"] for o in row["outages"]]


def test_every_disconnection_state_in_both_languages(world):
    """billing's summary in each state of the case, read out in Chinese (as before) and in English."""
    now = timezone.now().replace(second=0, microsecond=0)
    h = lambda n: now + dt.timedelta(hours=n)  # noqa: E731
    at = lambda t, fmt: f"{timezone.localtime(t):{fmt}}"  # noqa: E731
    cases = {world.cust_a: ({"status": CutStatus.NOTICE},
                            f"已送达欠费停电通知，计划 {at(h(5), '%m月%d日 %H:%M')} 停电",
                            f"Disconnection notice delivered, cut planned for {at(h(5), '%Y-%m-%d %H:%M')}"),
             world.cust_a2: ({"status": CutStatus.CUT, "cut_at": h(-30)},
                             f"已于 {at(h(-30), '%m月%d日 %H:%M')} 欠费停电，缴清后 24 小时内复电",
                             f"Cut for arrears on {at(h(-30), '%Y-%m-%d %H:%M')}, to be reconnected within 24 hours"),
             world.cust_b: ({"status": CutStatus.PAID, "paid_at": h(-30), "reconnect_due_at": h(-6), "complaint_risk": True},
                            "已缴清待复电，复电时限 ", "Paid, awaiting reconnection by "),
             world.cust_other: ({"status": CutStatus.RECONNECTED, "paid_at": h(-50), "reconnected_at": h(-40)},
                                f"已于 {at(h(-40), '%m月%d日 %H:%M')} 复电",
                                f"Reconnected on {at(h(-40), '%Y-%m-%d %H:%M')}")}
    for customer, (kw, zh, en) in cases.items():
        bill(customer, f"B-{customer.account_no}", "80.00", timezone.localdate(now) - dt.timedelta(days=5))
        Disconnection.objects.create(customer=customer, unit=customer.unit, owed=D("80.00"),
                                     notice_delivered_at=h(-100), planned_cut_at=h(5), **kw)
        summary = wo_services.customer_context(None, customer, now)["billing"]["summary"]
        assert zh in summary and summary.startswith("逾期欠费 80.00 元（1 期，最早 "), summary
        with override("en"):
            english = wo_services.customer_context(None, customer, now)["billing"]["summary"]
        assert en in english and english.startswith("Overdue arrears 80.00 yuan (bills: 1, the earliest due "), english
        assert not HAN.search(english), english
        if kw["status"] == CutStatus.PAID:
            assert summary.endswith("（已超时，投诉风险）") and english.endswith(" (late: complaint risk)")


def test_outage_labels_are_all_in_the_catalogue():
    """Every kind and progress the lookup names: the Chinese label of choices.py unchanged, English translated."""
    assert set(outage_labels.KINDS) == set(Kind.values) and set(outage_labels.PROGRESS) == set(PROGRESS_KINDS)
    for kind in Kind:
        assert outage_labels.kind_label(kind) == kind.label
    for progress in PROGRESS_KINDS:
        assert outage_labels.progress_label(progress) == UpdateKind(progress).label
    assert outage_labels.progress_label("") == "已登记"
    with override("en"):
        texts = [outage_labels.kind_label(k) for k in Kind] + [outage_labels.progress_label(p) for p in ["", *PROGRESS_KINDS]]
        assert not any(HAN.search(t) for t in texts), texts
        assert outage_labels.kind_label("planned") == "Planned outage" and gettext("计划停电") == "Planned cut"
