"""The complaint report over historic orders imported with `gridcare import workorders` (formats.md's
workorders.csv), checked section by section against a hand calculation on a small data set, through the
real commands (`gridcare report complaints … --format json|xlsx|html`)."""
import csv
import io
import json

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gridcare.analytics.models import ReportRun
from gridcare.customers.models import Customer
from gridcare.workorders.importers import WORKORDER_COLUMNS

FULL = ("dispatched_at", "received_at", "contacted_at", "handled_at", "replied_at", "audited_at", "visited_at",
        "closed_at")

# Hand-built March 2026 for county X01 (stations S01 urban, S02 rural), plus orders outside the report
# (February, March 2025, another city) that only the comparisons and hot-spot look-backs may see.
ROWS = [
    # C1 TQ0001 frequent outage, Monday 19:10, closed, satisfied. dispatch 10 min, contact 13 h 40 min (in time)
    dict(order_no="C1", order_type="complaint", category_l2="frequent_outage", channel="hotline",
         account_no="3100000001", accepted_at="2026-03-02T19:10:00", text="这个月已经停电三次了，频繁停电影响生活",
         dispatched_at="2026-03-02T19:20:00", received_at="2026-03-02T20:20:00", contacted_at="2026-03-03T10:00:00",
         handled_at="2026-03-04T10:00:00", replied_at="2026-03-04T12:00:00", audited_at="2026-03-04T15:00:00",
         visited_at="2026-03-05T10:00:00", closed_at="2026-03-05T10:30:00", satisfaction="satisfied"),
    # C2 TQ0001 (another customer) voltage, Tuesday 11:20, app. dispatch 30 min (over 20), contact 2680 min (late)
    dict(order_no="C2", order_type="complaint", category_l2="voltage", channel="app", account_no="3100000003",
         accepted_at="2026-03-10T11:20:00", text="电压低，空调开不了，频繁停电",
         dispatched_at="2026-03-10T11:50:00", received_at="2026-03-10T12:20:00", contacted_at="2026-03-12T09:00:00",
         handled_at="2026-03-13T09:00:00", replied_at="2026-03-13T10:00:00", audited_at="2026-03-13T15:00:00",
         visited_at="2026-03-16T10:00:00", closed_at="2026-03-16T10:30:00", satisfaction="dissatisfied"),
    # C3 TQ0101 rural, conduct, Sunday 17:30, still waiting for contact (overdue: due Tue 17 March 00:00)
    dict(order_no="C3", order_type="complaint", category_l2="conduct", channel="hotline", account_no="3100000101",
         accepted_at="2026-03-15T17:30:00", text="工作人员推诿，服务不规范",
         dispatched_at="2026-03-15T17:35:00", received_at="2026-03-15T18:35:00"),
    # C4 repeat call of C3 through 12398, Friday 19:45, never dispatched (dispatch overdue)
    dict(order_no="C4", order_type="complaint", category_l2="conduct", channel="12398", account_no="3100000101",
         accepted_at="2026-03-20T19:45:00", text="再次投诉工作人员推诿", repeat_of="C3"),
    # C5 TQ0002 billing in February (previous month): makes TQ0002 a consecutive-months 台区
    dict(order_no="C5", order_type="complaint", category_l2="billing", channel="wechat", account_no="3100000002",
         accepted_at="2026-02-20T10:00:00", text="电费计算错误"),
    # C6 TQ0002 billing, Wednesday 11:05, closed, satisfied. dispatch 15 min, contact 300 min
    dict(order_no="C6", order_type="complaint", category_l2="billing", channel="hotline", account_no="3100000002",
         accepted_at="2026-03-25T11:05:00", text="电费计算错误，电费偏高",
         dispatched_at="2026-03-25T11:20:00", received_at="2026-03-25T12:05:00", contacted_at="2026-03-25T17:05:00",
         handled_at="2026-03-26T10:00:00", replied_at="2026-03-26T11:00:00", audited_at="2026-03-26T14:00:00",
         visited_at="2026-03-27T10:00:00", closed_at="2026-03-27T10:10:00", satisfaction="satisfied"),
    # C7 TQ0101 in March 2025: same month of the previous year
    dict(order_no="C7", order_type="complaint", category_l2="frequent_outage", channel="hotline",
         account_no="3100000101", accepted_at="2025-03-05T09:00:00", text="频繁停电"),
    # C8 another city: outside X01
    dict(order_no="C8", order_type="complaint", category_l2="voltage", channel="hotline", account_no="3900000001",
         accepted_at="2026-03-10T10:00:00", text="电压低"),
    # C9 remote area, no customer (unit S02), Saturday 08:00, web, never dispatched
    dict(order_no="C9", order_type="complaint", category_l2="facility_safety", channel="web", unit_code="S02",
         area_kind="remote", accepted_at="2026-03-28T08:00:00", text="电线杆倾斜，存在安全隐患"),
    # other types in X01 in March (order-type split only)
    dict(order_no="F1", order_type="fault_repair", fault_kind="single_no_power", channel="hotline",
         account_no="3100000001", accepted_at="2026-03-05T08:00:00", text="家里没电"),
    dict(order_no="Q1", order_type="inquiry", channel="app", account_no="3100000002",
         accepted_at="2026-03-06T09:00:00", text="咨询电价"),
]


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*[str(a) for a in args], stdout=out, stderr=err)
        return 0, out.getvalue(), err.getvalue()
    except CommandError as exc:
        return exc.returncode, out.getvalue(), str(exc)


@pytest.fixture
def imported(world, tmp_path):
    Customer.objects.create(account_no="3100000003", name="赵六", customer_class="residential", unit=world.station_a,
                            transformer_area=world.taiqu_a, address="城关镇人民路3号", area_kind="urban",
                            phone="13900000003")
    path = tmp_path / "workorders.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(WORKORDER_COLUMNS)
        for row in ROWS:
            writer.writerow([row.get(c, "") for c in WORKORDER_COLUMNS])
    code, out, err = run("import", "workorders", path)
    assert code == 0, out + err
    return world


def report(tmp_path, unit="X01", start="2026-03-01", end="2026-03-31"):
    out = tmp_path / "r.json"
    code, stdout, err = run("report", "complaints", "--unit", unit, "--from", start, "--to", end, "--format", "json",
                            "--out", out)
    assert code == 0, err
    assert "投诉 " in stdout
    return json.loads(out.read_text(encoding="utf-8"))


def test_counts_and_shares_by_category(imported, tmp_path):
    r = report(tmp_path)
    assert r["total"] == 6   # C1 C2 C3 C4 C6 C9
    l1 = {k: v["count"] for k, v in r["by_category_l1"].items()}
    assert l1 == {"power_quality": 2, "service": 2, "business": 1, "grid_construction": 1, "outage": 0}
    assert r["by_category_l1"]["power_quality"]["share"] == round(2 / 6, 4)
    assert r["by_category_l1"]["power_quality"]["percent"] == 33.33
    l2 = {k: v["count"] for k, v in r["by_category_l2"].items() if v["count"]}
    assert l2 == {"frequent_outage": 1, "voltage": 1, "conduct": 2, "billing": 1, "facility_safety": 1}
    assert r["by_category_l2"]["conduct"]["category_l1"] == "service"
    assert r["by_category_l2"]["billing"]["share"] == round(1 / 6, 4)


def test_order_type_channel_and_area(imported, tmp_path):
    r = report(tmp_path)
    assert {k: v["count"] for k, v in r["by_order_type"].items() if v["count"]} == \
        {"complaint": 6, "fault_repair": 1, "inquiry": 1}
    assert r["orders_total"] == 8
    assert {k: v["count"] for k, v in r["by_channel"].items() if v["count"]} == \
        {"hotline": 3, "app": 1, "12398": 1, "web": 1}
    assert {k: v["count"] for k, v in r["by_area_kind"].items()} == {"urban": 3, "rural": 2, "remote": 1}
    assert r["urban_rural"] == {"urban": 3, "rural": 3, "note": "特殊边远地区计入农村"}


def test_hours_weekdays_and_load_peaks(imported, tmp_path):
    r = report(tmp_path)
    expected = [0] * 24
    expected[19], expected[11], expected[17], expected[8] = 2, 2, 1, 1
    assert r["by_hour"] == expected
    assert r["by_weekday"] == [1, 1, 1, 0, 1, 1, 1]   # Mon C1, Tue C2, Wed C6, Fri C4, Sat C9, Sun C3
    # peaks 10, 11, 17–20 (reports.yaml): C1 19h, C2 11h, C3 17h, C4 19h, C6 11h = 5 of 6
    assert r["load_peaks"]["complaints"] == 5
    assert r["load_peaks"]["top_hours"] == [11, 19, 8]


def test_taiqu_hot_spots(imported, tmp_path):
    r = report(tmp_path)
    assert r["taiqu_multi_customer"] == [{"code": "TQ0001", "name": "城关一号台区", "customers": 2, "complaints": 2}]
    assert r["taiqu_consecutive_months"] == [{"code": "TQ0002", "name": "城关二号台区", "months": ["2026-03"]}]
    assert r["taiqu_same_month_consecutive_years"] == [{"code": "TQ0101", "name": "河口村台区",
                                                       "months": ["2026-03"]}]


def test_stage_durations(imported, tmp_path):
    r = report(tmp_path)
    s = r["stage_durations"]
    assert list(s) == ["dispatch", "receive", "contact", "handle", "audit", "visit"]
    # dispatch: finished 10, 30, 5, 15 min → median 12.5, p90 15 + 0.7 × 15 = 25.5;
    # over 20 min: C2 (30 min) + C4 and C9 still undispatched long after their 20 minutes
    assert s["dispatch"] == {"label": "派单", "count": 6, "finished": 4, "median_minutes": 12.5, "p90_minutes": 25.5,
                             "overdue": 3, "overdue_share": 0.5}
    # contact (1 working day from 接单): C1 820 min, C2 2680 (late), C6 300; C3 still waiting (due 17 March)
    assert s["contact"]["count"] == 4 and s["contact"]["finished"] == 3
    assert s["contact"]["median_minutes"] == 820.0
    assert s["contact"]["p90_minutes"] == 2308.0          # 820 + 0.8 × (2680 − 820)
    assert s["contact"]["overdue"] == 2
    # handle (5 working days from acceptance to 回单): C1 2450 min, C2 4240, C6 1435 — all in time
    assert s["handle"]["finished"] == 3 and s["handle"]["overdue"] == 0
    assert s["handle"]["median_minutes"] == 2450.0
    assert r["stage_most_overdue"] == "dispatch"
    per_unit = {u["code"]: u["stages"] for u in r["stage_overdue_by_unit"]}
    assert per_unit["S02"]["dispatch"] == {"count": 3, "overdue": 2, "overdue_share": round(2 / 3, 4)}  # C3 C4 C9
    assert per_unit["S01"]["contact"] == {"count": 3, "overdue": 1, "overdue_share": round(1 / 3, 4)}   # C2


def test_repeat_callers_sensitive_and_satisfaction(imported, tmp_path):
    Customer.objects.filter(account_no="3100000101").update(sensitive=True)
    r = report(tmp_path)
    assert r["repeat_calls"] == 1
    assert r["repeat_customers"] == 1
    assert r["repeat_callers"] == [{"account_no": "3100000101", "name": "李四", "complaints": 2, "sensitive": True}]
    assert r["sensitive_customers"] == {"customers": 1, "complaints": 2}
    sat = r["satisfaction"]
    assert (sat["visited"], sat["satisfied"]["count"], sat["dissatisfied"]["count"]) == (3, 2, 1)
    assert sat["satisfied_rate"] == round(2 / 3, 4)


def test_top_terms_and_comparisons(imported, tmp_path):
    r = report(tmp_path)
    pq = {t["term"]: t["count"] for t in r["top_terms"]["power_quality"]["terms"]}
    assert pq["频繁"] == 2 and pq["停电"] == 2 and pq["频繁停电"] == 2   # C1 and C2 both say 频繁停电
    assert "客户" not in pq and "这个" not in pq                        # stop words are data
    assert r["comparison"]["previous"]["total"] == 1                      # C5 in February
    assert r["comparison"]["previous"]["change"] == 5
    assert r["comparison"]["same_period_last_year"]["total"] == 1         # C7 in March 2025
    assert r["comparison"]["same_period_last_year"]["by_category_l1"] == {"power_quality": 1}


def test_subtree_and_inclusive_dates(imported, tmp_path):
    assert report(tmp_path, unit="S01")["total"] == 3                      # C1 C2 C6
    assert report(tmp_path, unit="C02")["total"] == 1                      # C8 only
    assert report(tmp_path, start="2026-03-02", end="2026-03-02")["total"] == 1   # the whole last day counts
    assert report(tmp_path, start="2026-03-28", end="2026-03-28")["by_hour"][8] == 1


def test_xlsx_and_html(imported, tmp_path):
    out = tmp_path / "r.xlsx"
    assert run("report", "complaints", "--unit", "X01", "--from", "2026-03-01", "--to", "2026-03-31",
               "--format", "xlsx", "--out", out)[0] == 0
    wb = openpyxl.load_workbook(out)
    assert "一级分类" in wb.sheetnames and "环节时长" in wb.sheetnames and "台区热点" in wb.sheetnames
    ws = wb["一级分类"]
    assert [c.value for c in ws[2]] == ["分类编码", "一级分类", "投诉数", "占比"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=3, values_only=True)}
    assert rows["service"][2] == 2 and ws.cell(3, 4).number_format == "0.00%"
    assert (wb["概览"]["A6"].value, wb["概览"]["B6"].value) == ("投诉总数", 6)
    out = tmp_path / "r.html"
    assert run("report", "complaints", "--unit", "X01", "--from", "2026-03-01", "--to", "2026-03-31",
               "--format", "html", "--out", out)[0] == 0
    html = out.read_text(encoding="utf-8")
    assert "@media print" in html and "投诉分析报告" in html and "TQ0001" in html and "<script" not in html


@pytest.mark.parametrize("args, message", [
    (["--unit", "NOPE", "--from", "2026-03-01", "--to", "2026-03-31"], "单位编码不存在：“NOPE”"),
    (["--unit", "X01", "--from", "2026-03-31", "--to", "2026-03-01"], "结束日期 2026-03-01 早于开始日期 2026-03-31"),
    (["--unit", "X01", "--from", "2026-3-1x", "--to", "2026-03-01"], "日期格式不正确"),
])
def test_bad_input(world, tmp_path, args, message):
    code, _out, err = run("report", "complaints", *args, "--format", "json", "--out", tmp_path / "x.json")
    assert code == 2 and message in err
    assert not (tmp_path / "x.json").exists()


def test_too_large_period_is_queued_and_fetched(imported, tmp_path, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        code, _out, err = run("report", "complaints", "--unit", "X01", "--from", "2024-01-01", "--to", "2026-03-31",
                              "--format", "json", "--out", tmp_path / "big.json")
    assert code == 3 and "超过即时查询的上限 400 天" in err and "后台任务" in err
    run_obj = ReportRun.objects.get()
    assert (run_obj.date_from.isoformat(), run_obj.status) == ("2024-01-01", "queued")
    code, _out, err = run("report", "fetch", run_obj.pk, "--out", tmp_path / "big.json")
    assert code == 4 and "排队中" in err
    from gridcare.analytics.services import execute_run

    execute_run(run_obj.pk)
    code, _out, _err = run("report", "fetch", run_obj.pk, "--format", "json", "--out", tmp_path / "big.json")
    assert code == 0
    big = json.loads((tmp_path / "big.json").read_text(encoding="utf-8"))
    assert big["total"] == 8 and big["from"] == "2024-01-01"      # C1–C7 and C9 (C8 is another city)


def test_unit_kpis_through_the_api(imported, tmp_path):
    """S01 in March: C1, C2, C6 (complaints), F1 (fault, never dispatched), Q1 (inquiry, never answered)."""
    from gridcare.testing import ApiClient
    from gridcare.workorders.models import WorkOrder

    WorkOrder.objects.filter(order_no="C1").update(reject_count=2)
    WorkOrder.objects.filter(order_no="C2").update(quality_flags=["vague_reply"])
    resp = ApiClient(imported.supervisor_county).get(
        "/api/analytics/kpis?unit=X01&by=unit&date_from=2026-03-01&date_to=2026-03-31")
    assert resp.status_code == 200
    rows = {r["code"]: r for r in resp.json()}
    s01 = rows["S01"]
    assert (s01["orders"], s01["complaints"], s01["rejects"], s01["quality_flagged"]) == (5, 3, 2, 1)
    assert s01["satisfaction_rate"] == round(2 / 3, 4)                  # C1, C6 satisfied; C2 not
    # stage clocks: C1 6 on time, C2 6 with dispatch and contact late, C6 6 on time, F1 dispatch and Q1
    # handle still running long past their limits → 20 stages, 4 over the limit
    assert s01["handled"] == 20 and s01["on_time_rate"] == 0.8
    assert s01["stages"]["dispatch"]["count"] == 4 and s01["stages"]["dispatch"]["on_time_rate"] == 0.5
    assert s01["stages"]["contact"]["on_time_rate"] == round(2 / 3, 4)
    assert s01["stages"]["handle"] == {"count": 4, "on_time": 3, "on_time_rate": 0.75, "label": "处理"}
    s02 = rows["S02"]
    assert (s02["orders"], s02["complaints"], s02["satisfaction_rate"]) == (3, 3, None)   # C3 C4 C9
    assert [r["code"] for r in resp.json()][:1] == ["S01"]             # ranked by on-time rate


def test_command_line_usage_errors_are_one_chinese_line(tmp_path):
    """The real `gridcare` script: a usage error is a Chinese line on stderr and exit status 2."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).parent / "gridcare"
    proc = subprocess.run([str(script), "report", "complaints", "--unit", "X01", "--from", "2026-03-01",
                           "--to", "2026-03-31", "--format", "pdf", "--out", str(tmp_path / "r.pdf")],
                          capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "GRIDCARE_VAR_DIR": str(tmp_path)})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "参数错误：参数 --format 的取值“pdf”无效，可选：'json', 'xlsx', 'html'（用法见 gridcare report complaints --help）"]
