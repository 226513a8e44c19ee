"""Every report page in both languages through the real stack: Chinese by default (unchanged), English with
the `django_language=en` cookie, and then no Chinese left except data (unit, user and customer names,
complaint categories, stages, order types, channels, frequent terms). The chart names come as JSON in
#chart-labels and are checked too. Needs the compiled catalogue (`gridcare compile_translations`)."""
import datetime as dt
import json
import re

import pytest
from django.utils import timezone

from gridcare.accounts.models import OrgUnit, User
from gridcare.analytics.models import ReportRun
from gridcare.customers.models import Customer
from gridcare.workorders.models import WorkOrder
from gridcare.workorders import services as wo_services

from .english_text import HAN, client_for, leftover_han, strings_in

pytestmark = pytest.mark.django_db


def data_values():
    values = [u.name for u in OrgUnit.objects.all()] + [u.name for u in User.objects.all()]
    values += [c.name for c in Customer.objects.all()]
    for o in WorkOrder.objects.all():
        values += [o.get_order_type_display(), o.stage_label, o.text]
    return values


def chart_labels(html):
    m = re.search(r'<script id="chart-labels" type="application/json">(.*?)</script>', html, re.S)
    assert m, "no chart labels on the page"
    return json.loads(m[1])


def check(user, url, params, zh, en, data=(), status=200):
    r = client_for(user).get(url, params)
    assert r.status_code == status, url
    assert zh in r.content.decode(), (url, zh)
    r = client_for(user, english=True).get(url, params)
    assert r.status_code == status, url
    html = r.content.decode()
    assert en in html, (url, en)
    assert zh not in html, (url, zh)
    assert leftover_han(html, [*data_values(), *data]) == [], url
    return r, html


@pytest.fixture
def orders(world, django_capture_on_commit_callbacks):
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        for minutes, extra in ((30, {}), (3, {"account_no": "3100000101", "category_l2": "conduct",
                                              "text": "工作人员态度差"}),
                               (2, {"order_type": "inquiry", "category_l2": "", "text": "咨询电价"})):
            data = {"order_type": "complaint", "category_l2": "voltage", "account_no": "3100000001",
                    "text": "电压低，灯很暗", **extra}
            wo_services.do_create_order(world.agent, data, None, at=now - dt.timedelta(minutes=minutes))


def period():
    today = timezone.localdate()
    return {"from": (today - dt.timedelta(days=7)).isoformat(), "to": today.isoformat()}


def test_complaint_report_page(world, orders):
    r = client_for(world.supervisor_county, english=True).get("/analytics/complaints/", period())
    report_data = list(strings_in(r.context["r"], skip_keys={"title"}))
    r, html = check(world.supervisor_county, "/analytics/complaints/", period(), "投诉分析报告",
                    "Complaint analysis report", report_data)
    assert "Overview" in html and "Complaints this month" not in html
    assert "Export Excel" in html and "Frequent terms" in html and "Mon" in html
    labels = chart_labels(html)
    assert labels["complaints"] == "Complaints" and labels["hour"] == "%(h)s:00"
    assert not any(HAN.search(str(v)) for v in labels.values())
    chart = json.loads(re.search(r'<script id="chart-data" type="application/json">(.*?)</script>', html, re.S)[1])
    assert [c[0] for c in chart["compare"]] == ["Previous period", "Same period last year", "This period"]
    zh = client_for(world.supervisor_county).get("/analytics/complaints/", period()).content.decode()
    assert chart_labels(zh)["complaints"] == "投诉数" and "概览" in zh


def test_printable_report_follows_the_language_and_excel_stays_chinese(world, orders):
    import io

    import openpyxl

    params = {**period(), "format": "print"}
    r = client_for(world.supervisor_county, english=True).get("/analytics/complaints/", {**period()})
    report_data = list(strings_in(r.context["r"], skip_keys={"title"}))
    r = client_for(world.supervisor_county, english=True).get("/analytics/complaints/", params)
    html = r.content.decode()
    assert '<html lang="en">' in html and "<h1>Complaint analysis report</h1>" in html
    assert leftover_han(html, [*data_values(), *report_data], whole=True) == []
    zh = client_for(world.supervisor_county).get("/analytics/complaints/", params).content.decode()
    assert '<html lang="zh-CN">' in zh and "<h1>投诉分析报告</h1>" in zh
    x = client_for(world.supervisor_county, english=True).get("/analytics/complaints/", {**period(), "format": "xlsx"})
    assert "概览" in openpyxl.load_workbook(io.BytesIO(x.content)).sheetnames


def test_dashboard(world, orders):
    _r, html = check(world.supervisor_county, "/analytics/", {}, "管理看板", "Dashboard")
    assert "Overdue open orders by unit" in html and "against last month, day by day" in html
    assert not any(HAN.search(str(v)) for v in chart_labels(html).values())


def test_live_board_and_its_fragment(world, orders):
    _r, html = check(world.dispatcher, "/analytics/live/", {}, "供电服务指挥中心", "Service command centre")
    assert "Orders closest to their deadline" in html
    frag = client_for(world.dispatcher, english=True).get("/analytics/live/", HTTP_HX_REQUEST="true").content.decode()
    assert "Taken today by hour" in frag
    assert leftover_han(frag, data_values(), whole=True) == []
    assert chart_labels(frag)["today_intake"] == "Taken today"


@pytest.mark.parametrize("by, zh, en", [("unit", "单位排名", "Unit ranking"), ("agent", "人员绩效", "Staff performance")])
def test_ranking(world, orders, by, zh, en):
    r = client_for(world.supervisor_county, english=True).get("/analytics/ranking/", {"preset": "month", "by": by})
    rows = list(strings_in(r.context["rows"]))
    _r, html = check(world.supervisor_county, "/analytics/ranking/", {"preset": "month", "by": by}, zh, en, rows)
    assert "On-time rate per stage" in html and "This month" in html


def test_background_run_page(world, orders):
    c = client_for(world.supervisor_county, english=True)
    r = c.get("/analytics/complaints/", {"from": "2023-01-01", "to": "2026-12-31"})
    assert r.status_code == 302
    run = ReportRun.objects.get()
    _r, html = check(world.supervisor_county, r["Location"], {}, "后台报表", "Background report")
    assert "over the" in html and "Queued" in html
    ReportRun.objects.filter(pk=run.pk).update(status=ReportRun.Status.DONE, progress=100, step="完成")
    frag = c.get(r["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert "Finished · Done" in frag and "Download Excel" in frag
    assert leftover_han(frag, data_values(), whole=True) == []


def test_bad_period_is_shown_with_english_labels(world):
    r = client_for(world.supervisor_city, english=True).get("/analytics/complaints/",
                                                             {"from": "2026-03-31", "to": "2026-03-01"})
    assert r.status_code == 400
    html = r.content.decode()
    assert "Complaint analysis report" in html and "From" in html
    # the validation message itself is the service's (Chinese, like every API error); the rest is English
    message = r.context["errors"]["to"]
    assert leftover_han(html, [*data_values(), message]) == []
