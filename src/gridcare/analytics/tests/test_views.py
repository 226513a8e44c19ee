"""The report pages through the real HTTP stack: permissions by role and unit, bad input, exports,
background runs executed by the real task worker, dashboards and KPIs."""
import datetime as dt
import io

import openpyxl
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from gridcare.analytics.models import ReportRun
from gridcare.testing import PASSWORD
from gridcare.workorders import services as wo_services

TZ = dt.timezone(dt.timedelta(hours=8))


def login(user):
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def take(world, minutes_ago, **extra):
    data = {"order_type": "complaint", "category_l2": "voltage", "account_no": "3100000001", "text": "电压低，灯很暗",
            **extra}
    order, _ = wo_services.do_create_order(world.agent, data, None,
                                           at=timezone.now() - dt.timedelta(minutes=minutes_ago))
    return order


def today_count(orders, month=False):
    """How many of the orders fall on today (this month), Shanghai time: tests may run just after midnight."""
    now = timezone.localtime()
    key = (lambda d: (d.year, d.month)) if month else (lambda d: d.date())
    return sum(1 for o in orders if key(timezone.localtime(o.accepted_at)) == key(now))


@pytest.fixture
def orders(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        a = take(world, 30)                                    # dispatch overdue (20 min)
        b = take(world, 2, account_no="3100000101", category_l2="conduct", text="工作人员态度差")
        c = take(world, 3, order_type="inquiry", category_l2="", text="咨询电价")
    return a, b, c


def test_complaint_page_for_a_supervisor(world, orders):
    day = timezone.localdate().isoformat()
    week_ago = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    resp = login(world.supervisor_county).get("/analytics/complaints/", {"from": week_ago, "to": day})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'data-chart="hours"' in html and "vendor/echarts/echarts.min.js" in html and "cdn" not in html.lower()
    assert 'id="total">2<' in html
    resp = login(world.supervisor_county).get("/analytics/complaints/", {"from": week_ago, "to": day, "unit": "S02"})
    assert 'id="total">1<' in resp.content.decode()


def test_permissions_by_role_and_unit(world, orders):
    assert login(world.agent).get("/analytics/complaints/").status_code == 403
    assert login(world.handler_a).get("/analytics/").status_code == 403
    # a county supervisor may not see the neighbouring city
    assert login(world.supervisor_county).get("/analytics/complaints/", {"unit": "C02"}).status_code == 403
    assert login(world.dispatcher).get("/analytics/complaints/").status_code == 200


def test_bad_input_is_explained(world):
    c = login(world.supervisor_city)
    resp = c.get("/analytics/complaints/", {"from": "2026-03-31", "to": "2026-03-01"})
    assert resp.status_code == 400 and "早于开始日期" in resp.content.decode()
    resp = c.get("/analytics/complaints/", {"unit": "NOPE", "preset": "month"})
    assert resp.status_code == 400 and "单位编码不存在" in resp.content.decode()


def test_exports(world, orders):
    c = login(world.supervisor_county)
    period = {"from": (timezone.localdate() - dt.timedelta(days=7)).isoformat(), "to": timezone.localdate().isoformat()}
    resp = c.get("/analytics/complaints/", {**period, "format": "xlsx"})
    assert resp.status_code == 200 and "filename*=UTF-8''" in resp["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(resp.content))
    assert wb["概览"]["B6"].value == 2
    resp = c.get("/analytics/complaints/", {**period, "format": "print"})
    assert "@media print" in resp.content.decode()
    assert c.get("/analytics/complaints/", {**period, "format": "json"}).json()["total"] == 2


@pytest.mark.django_db(transaction=True)
def test_too_large_period_runs_in_the_background_with_progress(world):
    take(world, 10)
    c = login(world.supervisor_county)
    resp = c.get("/analytics/complaints/", {"from": "2023-01-01", "to": "2026-12-31"})
    assert resp.status_code == 302
    run = ReportRun.objects.get()
    page = c.get(resp["Location"]).content.decode()
    assert "超过即时查询的上限" in page and "排队中" in page
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    run.refresh_from_db()
    assert (run.status, run.progress, run.result["total"]) == ("done", 100, 1)
    frag = c.get(resp["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert "已完成" in frag and "hx-trigger" not in frag
    assert c.get(resp["Location"], {"format": "json"}).json()["from"] == "2023-01-01"
    # somebody else's scope may not fetch it
    assert login(world.supervisor_city).get(resp["Location"]).status_code == 200
    other = world.handler_a
    assert login(other).get(resp["Location"]).status_code == 403


def test_dashboard_live_and_ranking(world, orders):
    c = login(world.supervisor_county)
    html = c.get("/analytics/").content.decode()
    assert f'id="today-intake">{today_count(orders)}<' in html and 'id="open">3<' in html
    assert 'id="overdue">1<' in html        # the complaint not dispatched within 20 minutes
    assert f'id="complaints-month">{today_count(orders[:2], month=True)} / ' in html
    assert 'data-chart="overdue"' in html
    live = login(world.dispatcher).get("/analytics/live/").content.decode()
    assert f'id="live-today">{today_count(orders)}<' in live and 'data-chart="today"' in live
    rank = c.get("/analytics/ranking/", {"preset": "month"}).content.decode()
    assert "城关供电所" in rank and 'id="kpi-table"' in rank
    agents = c.get("/analytics/ranking/", {"preset": "month", "by": "agent"})
    assert agents.status_code == 200
    x = c.get("/analytics/ranking/", {"preset": "month", "format": "xlsx"})
    wb = openpyxl.load_workbook(io.BytesIO(x.content))
    assert wb.active["B2"].value == "编码"


def test_api_report_bad_input_and_background(world, orders, django_capture_on_commit_callbacks):
    from gridcare.testing import ApiClient

    api = ApiClient(world.supervisor_county)
    day = timezone.localdate()
    resp = api.get(f"/api/analytics/complaints?unit=X01&date_from={day - dt.timedelta(days=7)}&date_to={day}")
    assert resp.status_code == 200 and resp.json()["total"] == 2
    assert len(resp.json()["by_hour"]) == 24
    resp = api.get("/api/analytics/complaints?unit=X01&date_from=2026-03-31&date_to=2026-03-01")
    assert resp.status_code == 400 and "早于开始日期" in str(resp.json())
    resp = api.get("/api/analytics/complaints?unit=NOPE&preset=month")
    assert resp.status_code == 400 and "单位编码不存在" in str(resp.json())
    assert ApiClient(world.agent).get("/api/analytics/complaints?unit=X01&preset=month").status_code == 403
    assert api.get("/api/analytics/complaints?unit=C02&preset=month").status_code == 403
    resp = api.get("/api/analytics/complaints?unit=X01&date_from=2020-01-01&date_to=2026-01-01")
    assert resp.status_code == 202 and resp.json()["status"] == "queued"
    status = api.get(resp.json()["url"])
    assert status.status_code == 200 and status.json()["progress"] == 0
    kp = api.get(f"/api/analytics/kpis?unit=X01&by=unit&date_from={day - dt.timedelta(days=7)}&date_to={day}")
    assert kp.status_code == 200


def test_home_card_for_report_readers(world, orders):
    html = login(world.supervisor_county).get("/").content.decode()
    assert "本月投诉（上月）" in html
    assert f"{today_count(orders[:2], month=True)}（" in html
    assert "本月投诉（上月）" not in login(world.agent).get("/").content.decode()


def test_agent_kpis_credit_who_moved_the_stage(world, orders, django_capture_on_commit_callbacks):
    from gridcare.testing import ApiClient

    late, fresh, _inquiry = orders
    with django_capture_on_commit_callbacks(execute=True):
        wo_services.do_advance(world.dispatcher, late.order_no, "dispatched")    # 30 min after intake: late
        wo_services.do_advance(world.dispatcher, fresh.order_no, "dispatched")   # 2 min: on time
    day = timezone.localdate()
    resp = ApiClient(world.supervisor_city).get(
        f"/api/analytics/kpis?unit=C01&by=agent&date_from={day - dt.timedelta(days=7)}&date_to={day}")
    assert resp.status_code == 200
    rows = {r["code"]: r for r in resp.json()}
    d = rows["dispatch01"]
    assert d["stages"]["dispatch"] == {"count": 2, "on_time": 1, "on_time_rate": 0.5, "label": "派单"}
    assert d["handled"] == 2 and d["role"] == "服务调度"


@pytest.mark.django_db(transaction=True)
def test_refresh_task_runs_on_the_worker_and_is_incremental(world):
    from gridcare.analytics.models import ComplaintFact, FactWatermark, StageFact
    from gridcare.analytics.tasks import refresh_facts_task
    from gridcare.core.scheduler import SCHEDULE

    assert ("analytics.refresh_facts", 60, "gridcare.analytics.tasks.refresh_facts_task") in [e[:3] for e in SCHEDULE]
    order = take(world, 30)
    refresh_facts_task.enqueue()
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    fact = ComplaintFact.objects.get(order_id=order.pk)
    assert (fact.open_limit_key, fact.dispatch_minutes) == ("dispatch", None)
    wo_services.do_advance(world.dispatcher, order.order_no, "dispatched")
    refresh_facts_task.enqueue()
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    fact = ComplaintFact.objects.get(order_id=order.pk)
    assert fact.dispatch_late and 29 < fact.dispatch_minutes < 32 and fact.open_limit_key == "receive"
    assert StageFact.objects.filter(order_id=order.pk).count() == 2
    assert FactWatermark.objects.get().last_event_id == order.events.order_by("-id").first().id
