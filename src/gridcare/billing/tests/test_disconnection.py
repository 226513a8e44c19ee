"""The disconnection process refuses a cut that violates the notice rules (time-limits.yaml
arrears.disconnection; 《供电营业规则》), and payment starts the reconnection clock."""
import datetime as dt
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from gridcare.billing import services
from gridcare.billing.models import Bill, CutStatus
from gridcare.billing.rules import CutLimits, cut_violations, reconnect_state
from gridcare.core.api_support import Conflict, DomainError
from gridcare.testing import ApiClient

TZ = ZoneInfo("Asia/Shanghai")
LIMITS = CutLimits(dt.timedelta(days=3), dt.timedelta(days=7), dt.timedelta(minutes=30), dt.timedelta(hours=24))
CUT = dt.datetime(2026, 9, 10, 9, 0, tzinfo=TZ)


def rule(**kw):
    base = dict(owed=D("120.00"), notice_delivered_at=CUT - dt.timedelta(days=4),
                second_notice_at=CUT - dt.timedelta(minutes=40), critical=False, authority_reported_at=None,
                limits=LIMITS)
    return cut_violations(CUT, **{**base, **kw})


def test_cut_rules():
    assert rule() == []
    assert "不足3天" in rule(notice_delivered_at=CUT - dt.timedelta(days=2, hours=23))[0]
    assert rule(notice_delivered_at=CUT - dt.timedelta(days=3)) == []
    assert rule(notice_delivered_at=CUT - dt.timedelta(days=7)) == []
    assert "超过7天" in rule(notice_delivered_at=CUT - dt.timedelta(days=7, minutes=1))[0]
    assert "未送达" in rule(notice_delivered_at=None)[0]
    assert "不足30分钟" in rule(second_notice_at=CUT - dt.timedelta(minutes=29))[0]
    assert "未再次通知" in rule(second_notice_at=None)[0]
    assert "重要客户" in rule(critical=True)[0]
    assert rule(critical=True, authority_reported_at=CUT - dt.timedelta(days=1)) == []
    assert "无欠费" in rule(owed=D("0.00"))[0]


def test_times_in_the_rules_are_local():
    utc = dt.timezone.utc
    # delivered 2 days 23 hours before the cut, given in UTC: the reason names the Beijing time
    delivered = (CUT - dt.timedelta(days=2, hours=23)).astimezone(utc)
    reason = rule(notice_delivered_at=delivered)[0]
    assert f"送达于 {(CUT - dt.timedelta(days=2, hours=23)).astimezone(ZoneInfo('Asia/Shanghai')):%Y-%m-%d %H:%M}" in reason
    assert f"{delivered:%Y-%m-%d %H:%M}" not in reason
    # paid at 07:00 in Beijing (23:00 UTC the day before), reconnected at 10:00: the same (Beijing) day
    paid = dt.datetime(2026, 8, 20, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(utc)
    state = reconnect_state(paid, paid + dt.timedelta(hours=3), paid + dt.timedelta(hours=3), LIMITS)
    assert state["same_day"] and not state["late"]
    # the time left reads as hours:minutes
    state = reconnect_state(paid, paid + dt.timedelta(hours=2, minutes=14, seconds=59), None, LIMITS)
    assert state["left_text"] == "21:45"
    assert reconnect_state(paid, paid + dt.timedelta(hours=30), None, LIMITS)["left_text"] == "0:00"


def overdue_bill(customer, amount="120.00"):
    return Bill.objects.create(bill_no=f"202607-{customer.pk:08d}", customer=customer, unit=customer.unit,
                               period=dt.date(2026, 7, 1), period_start=dt.date(2026, 7, 1),
                               period_end=dt.date(2026, 7, 31), tariff_code="EX-RES-TIERED", kwh=D("200"),
                               amount=D(amount), due_date=dt.date(2026, 8, 25), lines=[],
                               issued_at=timezone.now())


@pytest.mark.django_db
def test_api_refuses_an_unlawful_cut_and_allows_a_lawful_one(world):
    overdue_bill(world.cust_a)
    api = ApiClient(world.reader)
    delivered = CUT - dt.timedelta(days=4)
    r = api.post("/api/billing/disconnections", {"account_no": "3100000001", "notice_delivered_at": delivered.isoformat(),
                                                "planned_cut_at": CUT.isoformat()})
    assert r.status_code == 201, r.content
    case_id = r.json()["id"]
    # no second notice yet: refused, nothing changes
    r = api.post(f"/api/billing/disconnections/{case_id}/cut", {"at": CUT.isoformat()})
    assert r.status_code == 409 and "30分钟" in r.json()["detail"]
    api.post(f"/api/billing/disconnections/{case_id}/second-notice", {"at": (CUT - dt.timedelta(minutes=10)).isoformat()})
    r = api.post(f"/api/billing/disconnections/{case_id}/cut", {"at": CUT.isoformat()})
    assert r.status_code == 409 and "不足30分钟" in r.json()["detail"]
    api.post(f"/api/billing/disconnections/{case_id}/second-notice", {"at": (CUT - dt.timedelta(minutes=45)).isoformat()})
    r = api.post(f"/api/billing/disconnections/{case_id}/cut", {"at": CUT.isoformat()})
    assert r.status_code == 200 and r.json()["status"] == "cut"
    assert world.cust_a.billing.status == "disconnected"
    # paying the debt starts the 24 h reconnection clock; reconnecting late raises the complaint-risk flag
    paid_at = CUT + dt.timedelta(hours=2)
    r = api.post("/api/billing/payments", {"account_no": "3100000001", "channel": "wechat", "amount": "130.00",
                                          "paid_at": paid_at.isoformat()})
    assert r.status_code == 201, r.content
    case = world.cust_a.disconnections.get()
    assert case.status == CutStatus.PAID and case.reconnect_due_at == paid_at + dt.timedelta(hours=24)
    r = api.post(f"/api/billing/disconnections/{case_id}/reconnect", {"at": (paid_at + dt.timedelta(hours=25)).isoformat()})
    assert r.status_code == 200 and r.json()["complaint_risk"] is True
    assert case.audit_entries().count() >= 4


@pytest.mark.django_db
def test_critical_customer_never_cut_without_authority_report(world):
    overdue_bill(world.cust_a2, "5000.00")
    case = services.do_issue_notice(world.admin, world.cust_a2, CUT - dt.timedelta(days=5), CUT)
    services.do_second_notice(world.admin, case, CUT - dt.timedelta(hours=1))
    with pytest.raises(Conflict) as exc:
        services.do_cut(world.admin, case, CUT)
    assert "重要客户" in str(exc.value)
    services.do_report_authority(world.admin, case, CUT - dt.timedelta(days=1), "县发改局回执2026-31")
    assert services.do_cut(world.admin, case, CUT).status == CutStatus.CUT


@pytest.mark.django_db
def test_notice_window_checked_when_planning(world):
    overdue_bill(world.cust_a)
    with pytest.raises(DomainError):
        services.do_issue_notice(world.admin, world.cust_a, CUT - dt.timedelta(days=1), CUT)
    with pytest.raises(DomainError):  # no overdue debt
        services.do_issue_notice(world.admin, world.cust_b, CUT - dt.timedelta(days=4), CUT)


@pytest.mark.django_db
def test_notice_answers_the_debt_in_fen_as_the_board_does(world):
    """The debt summed over several bills (SQLite's SUM came back as 74567.0800000000) is answered to the fen
    by POST, the same figure as the GET list."""
    for i, amount in enumerate(["50000.05", "24000.01", "567.02"]):
        Bill.objects.create(bill_no=f"2026{i + 1:02d}-{world.cust_a.pk:08d}", customer=world.cust_a,
                            unit=world.cust_a.unit, period=dt.date(2026, i + 1, 1),
                            period_start=dt.date(2026, i + 1, 1), period_end=dt.date(2026, i + 1, 28),
                            tariff_code="EX-RES-TIERED", kwh=D("200"), amount=D(amount),
                            due_date=dt.date(2026, i + 2, 25), lines=[], issued_at=timezone.now())
    api = ApiClient(world.reader)
    r = api.post("/api/billing/disconnections", {"account_no": "3100000001",
                                                "notice_delivered_at": (CUT - dt.timedelta(days=4)).isoformat(),
                                                "planned_cut_at": CUT.isoformat()})
    assert r.status_code == 201, r.content
    assert r.json()["owed"] == "74567.08"
    assert [c["owed"] for c in api.get("/api/billing/disconnections").json() if c["id"] == r.json()["id"]] == \
           ["74567.08"]
    assert services.owed_total(world.cust_a) == D("74567.08")
