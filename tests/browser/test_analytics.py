"""Analytics pages in a real headless Chromium: the ECharts charts are drawn (instance present, canvas
with a non-zero size) from the local static files, offline (no request leaves the live server)."""
import datetime as dt
import re

import pytest
from django.utils import timezone

from gridcare.testing import PASSWORD, build_world
from gridcare.workorders import services as wo_services

pytestmark = pytest.mark.browser


@pytest.fixture
def world_live(transactional_db):
    w = build_world()
    now = timezone.now()
    for minutes, account, l2 in ((40, "3100000001", "voltage"), (3, "3100000101", "conduct"),
                                 (2, "3100000002", "billing")):
        wo_services.do_create_order(w.agent, {"order_type": "complaint", "category_l2": l2, "account_no": account,
                                              "text": "频繁停电，电压低，要求尽快处理"}, None,
                                    at=now - dt.timedelta(minutes=minutes))
    return w


def login(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def chart_sizes(page, names):
    """{name: [canvas width, height]} of the ECharts instance on each chart element."""
    page.wait_for_function("() => window.gridcareCharts && Object.keys(window.gridcareCharts).length > 0")
    return page.evaluate("""(names) => Object.fromEntries(names.map(n => {
        const el = document.querySelector(`[data-chart="${n}"]`);
        const inst = el && window.echarts.getInstanceByDom(el);
        const canvas = el && el.querySelector('canvas');
        return [n, inst && canvas ? [canvas.width, canvas.height] : null];
    }))""", names)


def offline_guard(page, live_server):
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server.url)
            and not r.url.startswith("data:") else None)
    return outside


def test_complaint_report_draws_its_charts(page, live_server, world_live):
    outside = offline_guard(page, live_server)
    login(page, live_server, "sup_county")
    today = timezone.localdate()
    page.goto(f"{live_server.url}/analytics/complaints/?from={today - dt.timedelta(days=7)}&to={today}")
    assert page.locator("#total").inner_text() == "3"
    sizes = chart_sizes(page, ["l1", "l2", "areas", "hours", "weekdays", "stages", "compare"])
    for name, size in sizes.items():
        assert size and size[0] > 0 and size[1] > 0, (name, size)
    # the chart holds the report's figures
    hours = page.evaluate("() => window.gridcareCharts.hours.getOption().series[0].data.map(d => d.value)")
    assert sum(hours) == 3
    assert not outside


def test_navigation_reaches_the_report(page, live_server, world_live):
    login(page, live_server, "sup_city")
    page.click("text=统计分析")
    page.wait_for_url(re.compile(r".*/analytics/complaints/"))
    assert page.locator("h1").inner_text() == "投诉分析报告"
    assert chart_sizes(page, ["l1"])["l1"][0] > 0


def test_dashboards_draw_their_charts(page, live_server, world_live):
    outside = offline_guard(page, live_server)
    login(page, live_server, "sup_county")
    page.goto(f"{live_server.url}/analytics/")
    assert page.locator("#open").inner_text() == "3"
    assert all(s and s[0] > 0 and s[1] > 0 for s in chart_sizes(page, ["overdue", "days"]).values())
    page.goto(f"{live_server.url}/analytics/ranking/?preset=year")
    assert chart_sizes(page, ["ranking"])["ranking"][1] > 0
    page.context.clear_cookies()
    login(page, live_server, "dispatch01")
    page.goto(f"{live_server.url}/analytics/live/")
    assert all(s and s[0] > 0 for s in chart_sizes(page, ["today", "open_stages"]).values())
    assert not outside


def test_bad_period_is_explained_in_the_page(page, live_server, world_live):
    login(page, live_server, "sup_county")
    page.goto(f"{live_server.url}/analytics/complaints/?from=2026-03-31&to=2026-03-01")
    assert "早于开始日期" in page.locator("#error-to").inner_text()
