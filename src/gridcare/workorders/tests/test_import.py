"""`gridcare import workorders` / `gridcare export workorders` through the real commands, on hand-written
CSV files (formats.md's workorders.csv)."""
import csv
import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from gridcare.core import imports
from gridcare.core.models import AuditLog
from gridcare.core.workcalendar import get_calendar
from gridcare.workorders import services
from gridcare.workorders.importers import WORKORDER_COLUMNS
from gridcare.workorders.models import StageEvent, WorkOrder

TZ = ZoneInfo("Asia/Shanghai")


def run(command, *args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(command, *[str(a) for a in args], stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    return code, out.getvalue(), err.getvalue()


def wipe_orders():
    """Empties the order tables with plain SQL. The ORM's delete would visit every model of every app
    that refers to work orders (tables other capabilities may still be building); nothing in these
    tests refers to orders but their own history."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {StageEvent._meta.db_table}")
        cursor.execute(f"UPDATE {WorkOrder._meta.db_table} SET repeat_of_id = NULL")
        cursor.execute(f"DELETE FROM {WorkOrder._meta.db_table}")


def write_csv(path: Path, rows: list[dict], columns=WORKORDER_COLUMNS):
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return path


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def lines(text):
    return [line for line in text.splitlines() if line.strip()]


def at(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


def moment(text):
    """An ISO timestamp as the format reads it: one without an offset is Shanghai time."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=TZ)


COMPLAINT_CLOSED = dict(
    order_no="2609010000000001", order_type="complaint", category_l1="power_quality", category_l2="frequent_outage",
    channel="hotline", account_no="3100000001", caller_phone="13900000001", accepted_at="2026-09-01 09:00:00",
    text="人民路小区这个月又停电了，三天两头停电，要求查明原因。", dispatched_at="2026-09-01 09:10:00",
    received_at="2026-09-01 09:40:00", contacted_at="2026-09-01 14:00:00", handled_at="2026-09-03 10:00:00",
    replied_at="2026-09-03 10:30:00", audited_at="2026-09-03 16:00:00", visited_at="2026-09-04 10:00:00",
    closed_at="2026-09-04 10:05:00", satisfaction="satisfied")
FAULT_CLOSED = dict(
    order_no="2609020000000002", order_type="fault_repair", fault_kind="area_no_power", channel="app",
    account_no="3100000101", accepted_at="2026-09-02T20:00:00+08:00", text="河口村全村停电，请派人抢修。",
    dispatched_at="2026-09-02T20:02:00+08:00", contacted_at="2026-09-02T21:10:00+08:00",
    handled_at="2026-09-02T23:00:00+08:00", replied_at="2026-09-02T23:20:00+08:00",
    audited_at="2026-09-03T09:00:00+08:00", visited_at="2026-09-03T15:00:00+08:00",
    closed_at="2026-09-03T15:10:00+08:00", satisfaction="neutral")
INQUIRY_ON_CALL = dict(
    order_no="2609050000000003", order_type="inquiry", channel="wechat", account_no="3100000002",
    accepted_at="2026-09-05 10:00:00", text="咨询峰谷电价怎么申请。", closed_at="2026-09-05 10:06:00")
REPORT_OPEN = dict(  # not a customer: the place is given by the 台区
    order_no="2610200000000004", order_type="report", channel="hotline", caller_phone="13700000000",
    taiqu_code="TQ0101", accepted_at="2026-10-20 10:00:00", text="举报河口村有人私接电线窃电。",
    dispatched_at="2026-10-20 10:15:00", received_at="2026-10-20 11:00:00")
COMPLAINT_REPEAT_OPEN = dict(  # the customer calls again; 11:30 UTC is 19:30 in Shanghai
    order_no="2610260000000005", order_type="complaint", category_l2="frequent_outage", channel="hotline",
    account_no="3100000001", accepted_at="2026-10-26T11:30:00Z", text="客户再次来电，又停电了，此前反映过未解决。",
    dispatched_at="2026-10-26 19:45:00", received_at="2026-10-26 20:30:00", repeat_of="2609010000000001")
SERVICE_JUST_ACCEPTED = dict(
    order_no="2610300000000006", order_type="service_request", channel="hall", account_no="3100000002",
    unit_code="S02", area_kind="urban", accepted_at="2026-10-30 09:00:00", text="申请增加用电容量。")
GOOD = [COMPLAINT_CLOSED, FAULT_CLOSED, INQUIRY_ON_CALL, REPORT_OPEN, COMPLAINT_REPEAT_OPEN, SERVICE_JUST_ACCEPTED]


@pytest.fixture
def good_file(world, tmp_path):
    return write_csv(tmp_path / "workorders.csv", GOOD)


def test_good_rows_build_orders_with_their_history(good_file):
    code, out, _ = run("import", "workorders", good_file)
    assert code == 0, out
    assert lines(out)[-1].startswith("导入完成：成功 6 行，失败 0 行")
    orders = {o.order_no: o for o in WorkOrder.objects.select_related("customer", "unit", "transformer_area")}
    assert len(orders) == 6

    c1 = orders["2609010000000001"]
    assert (c1.status, c1.stage, c1.category_l1, c1.satisfaction, c1.visit_count) == (
        "closed", "closed", "power_quality", "satisfied", 1)
    assert c1.closed_at == at("2026-09-04 10:05:00") and c1.stage_due_at is None
    assert (c1.unit.code, c1.transformer_area.code, c1.area_kind, c1.caller_name) == ("S01", "TQ0001", "urban", "张三")
    history = list(c1.events.filter(kind__in=["create", "advance"]).values_list("to_stage", "at"))
    assert [s for s, _ in history] == ["accepted", "dispatched", "received", "contacted", "handled", "replied",
                                       "audited", "visited", "closed"]
    assert history[3][1] == at("2026-09-01 14:00:00")
    assert c1.events.get(kind="visit").data == {"satisfaction": "satisfied", "visit": 1}

    # fault repairs carry 到达现场 and 恢复送电 in contacted_at and handled_at
    f1 = orders["2609020000000002"]
    stages = list(f1.events.filter(kind="advance").values_list("to_stage", flat=True))
    assert stages == ["dispatched", "arrived", "restored", "replied", "audited", "visited", "closed"]
    assert f1.events.get(to_stage="arrived").at == at("2026-09-02 21:10:00")

    q1 = orders["2609050000000003"]
    assert q1.status == "closed" and list(q1.events.values_list("kind", "to_stage")) == [
        ("create", "accepted"), ("advance", "closed")]

    # not a customer: unit and area come from the 台区
    r1 = orders["2610200000000004"]
    assert r1.customer is None and (r1.unit.code, r1.area_kind, r1.transformer_area.code) == ("S02", "rural", "TQ0101")
    assert (r1.status, r1.stage, r1.stage_limit_key) == ("open", "received", "handle")
    assert r1.caller_phone == "13700000000"

    # the repeat call: linked, open at 接单 with the 联系客户 clock (1 working day from 20:30 Monday)
    c2 = orders["2610260000000005"]
    assert c2.repeat_of_id == c1.pk and c2.accepted_at == at("2026-10-26 19:30:00")
    assert (c2.status, c2.stage, c2.stage_limit_key) == ("open", "received", "contact")
    assert c2.stage_due_at == at("2026-10-27 20:30:00")
    assert c2.events.filter(kind="link").count() == 1 and c1.events.filter(kind="link").count() == 1
    assert c2.sla_state == 0  # the SLA sweep marks and notifies on its next run

    # an order given a unit_code keeps it (责任单位), area_kind as given
    s1 = orders["2610300000000006"]
    assert (s1.stage, s1.unit.code, s1.area_kind, s1.stage_limit_key) == ("accepted", "S02", "urban", "dispatch")
    assert s1.stage_due_at == at("2026-10-30 09:20:00")

    # deadlines are those the engine itself computes
    for order in (r1, c2, s1):
        due, warn = order.stage_due_at, order.stage_warn_at
        services.recompute_deadline(order)
        assert (order.stage_due_at, order.stage_warn_at) == (due, warn), order.order_no
    assert AuditLog.objects.filter(source="import", content_type__model="workorder").count() == 6


def test_bad_rows_are_reported_with_row_column_and_reason(world, tmp_path):
    base = dict(order_type="complaint", category_l2="voltage", channel="hotline", account_no="3100000001",
                accepted_at="2026-09-10 10:00:00", text="电压低，灯光暗。")
    rows = [
        dict(base, order_no="A1"),                                                   # 2: good
        dict(base, order_no="A2", order_type="claim"),                               # 3
        dict(base, order_no="A3", category_l2=""),                                   # 4
        dict(base, order_no="A4", category_l1="service"),                            # 5
        dict(base, order_no="A5", fault_kind="voltage_problem"),                     # 6
        dict(base, order_no="A6", order_type="fault_repair", category_l2=""),        # 7
        dict(base, order_no="A7", channel="telegram"),                               # 8
        dict(base, order_no="A8", account_no="3199999999"),                          # 9
        dict(base, order_no="A9", account_no=""),                                    # 10
        dict(base, order_no="A10", accepted_at="10/09/2026"),                        # 11
        dict(base, order_no="A11", dispatched_at="2026-09-10 10:05:00",
             received_at="2026-09-10 09:00:00"),                                     # 12
        dict(base, order_no="A12", order_type="fault_repair", category_l2="", fault_kind="meter_fault",
             received_at="2026-09-10 10:30:00"),                                     # 13
        dict(base, order_no="A13", satisfaction="happy"),                            # 14
        dict(base, order_no="A14", repeat_of="NOPE"),                                # 15
        dict(base, order_no="A15", repeat_of="A16"),                                 # 16
        dict(base, order_no="A16"),                                                  # 17: good
        dict(base, order_no="A17", account_no="3100000101", repeat_of="A1"),         # 18
        dict(base, order_no="A1"),                                                   # 19
        dict(base, order_no="A18", accepted_at="2099-01-01 00:00:00"),               # 20
        dict(base, order_no="A19", repeat_of="A2"),                                  # 21
        dict(base, order_no="A20", account_no="", unit_code="S01"),                  # 22
        dict(base, order_no="A21", repeat_of="A1", accepted_at="2026-09-01 10:00:00"),  # 23
    ]
    code, out, _ = run("import", "workorders", write_csv(tmp_path / "bad.csv", rows))
    assert code == 1
    report = lines(out)
    expected = [
        "第3行 order_type: 无效的值“claim”",
        "第4行 category_l2: 投诉工单必须填写二级分类",
        "第5行 category_l2: 二级分类 voltage 不属于一级分类 service（应属于 power_quality）",
        "第6行 fault_kind: 只有故障报修工单有故障类型，请留空",
        "第7行 fault_kind: 故障报修工单必须填写故障类型",
        "第8行 channel: 无效的值“telegram”",
        "第9行 account_no: 户号不存在：3199999999",
        "第10行 unit_code: 无户号时必须填写责任单位编码或台区编码",
        "第11行 accepted_at: 时间格式不正确",
        "第12行 received_at: 时间早于派单时间（dispatched_at）：环节时间不能倒退",
        "第13行 received_at: 故障报修工单没有“接单”环节，请留空",
        "第14行 satisfaction: 无效的值“happy”",
        "第15行 repeat_of: 原工单不存在：NOPE",
        "第16行 repeat_of: 原工单不存在：A16（同一文件中的原工单须写在前面的行）",
        "第18行 repeat_of: 重复来电只能关联同一客户的工单",
        "第19行 order_no: 工单编号与第2行重复",
        "第20行 accepted_at: 时间不能晚于当前时间",
        "第21行 repeat_of: 原工单 A2 所在的第3行未通过校验",
        "第22行 area_kind: 无户号和台区时必须填写区域类型",
        "第23行 repeat_of: 原工单 A1 的受理时间晚于本工单",
    ]
    for message in expected:
        assert any(line.startswith(message) for line in report), (message, report)
    assert report[-1].startswith("导入完成：成功 2 行，失败 20 行")
    assert set(WorkOrder.objects.values_list("order_no", flat=True)) == {"A1", "A16"}

    # an order number already in the database is refused
    code, out, _ = run("import", "workorders", write_csv(tmp_path / "again.csv", [dict(base, order_no="A1")]))
    assert code == 1 and "第2行 order_no: 工单编号已存在：A1" in out


def test_atomic_writes_nothing_when_a_row_is_bad(good_file, tmp_path):
    rows = [*GOOD, dict(COMPLAINT_CLOSED, order_no="2609010000000099", category_l2="billing")]
    code, out, _ = run("import", "workorders", write_csv(tmp_path / "mixed.csv", rows), "--atomic")
    assert code == 1
    assert "第8行 category_l2: 二级分类 billing 不属于一级分类 power_quality（应属于 business）" in out
    assert WorkOrder.objects.count() == 0 and StageEvent.objects.count() == 0
    code, out, _ = run("import", "workorders", good_file, "--atomic")
    assert code == 0 and WorkOrder.objects.count() == 6


@pytest.mark.parametrize("chunk_size", [1, 2, 1000])
def test_repeat_of_rows_in_the_same_or_earlier_chunks_and_in_the_database(good_file, tmp_path, monkeypatch,
                                                                          chunk_size):
    monkeypatch.setattr(imports, "CHUNK_SIZE", chunk_size)
    first = dict(INQUIRY_ON_CALL, order_no="Q1")
    chain = [first] + [dict(INQUIRY_ON_CALL, order_no=f"Q{i}", repeat_of="Q1",
                            accepted_at=f"2026-09-0{5 + i} 10:00:00", closed_at=f"2026-09-0{5 + i} 10:06:00")
                       for i in range(2, 5)]
    code, out, _ = run("import", "workorders", write_csv(tmp_path / "chain.csv", chain))
    assert code == 0, out
    q1 = WorkOrder.objects.get(order_no="Q1")
    assert sorted(q1.repeat_calls.values_list("order_no", flat=True)) == ["Q2", "Q3", "Q4"]
    # a later file links to an order already in the database
    later = [dict(INQUIRY_ON_CALL, order_no="Q9", repeat_of="Q1", accepted_at="2026-09-20 10:00:00",
                  closed_at="2026-09-20 10:05:00")]
    code, out, _ = run("import", "workorders", write_csv(tmp_path / "later.csv", later))
    assert code == 0, out
    assert WorkOrder.objects.get(order_no="Q9").repeat_of_id == q1.pk
    assert q1.events.filter(kind="link").count() == 4


def test_open_orders_get_the_clock_deadline_and_an_uncovered_year_is_an_error(world, tmp_path):
    cal = get_calendar()
    rows = [dict(COMPLAINT_REPEAT_OPEN, order_no="O1", repeat_of=""),
            dict(COMPLAINT_REPEAT_OPEN, order_no="O2", repeat_of="", accepted_at="1999-03-01 10:00:00",
                 dispatched_at="1999-03-01 10:10:00", received_at="1999-03-01 10:40:00")]
    code, out, _ = run("import", "workorders", write_csv(tmp_path / "open.csv", rows))
    assert code == 1
    assert any(line.startswith("第3行 received_at: 无法计算当前环节时限：1999年的节假日安排尚未录入")
               for line in lines(out)), out
    o1 = WorkOrder.objects.get(order_no="O1")
    assert o1.stage_due_at == cal.add_working_days(at("2026-10-26 20:30:00"), 1)
    assert o1.stage_warn_at == at("2026-10-27 14:30:00")  # 25 % of one working day (6 h) left


def test_export_writes_the_same_columns_and_reimports_unchanged(good_file, tmp_path):
    assert run("import", "workorders", good_file)[0] == 0
    first = tmp_path / "export1.csv"
    code, out, _ = run("export", "workorders", first)
    assert code == 0, out
    rows = read_csv(first)
    assert list(rows[0]) == list(WORKORDER_COLUMNS)
    by_no = {r["order_no"]: r for r in rows}
    assert [r["order_no"] for r in rows] == [r["order_no"] for r in GOOD]  # oldest first
    for given in GOOD:
        exported = by_no[given["order_no"]]
        for column, value in given.items():
            if column.endswith("_at"):
                assert moment(exported[column]) == moment(value), (given["order_no"], column)
            else:
                assert exported[column] == value, (given["order_no"], column)
    assert by_no["2610260000000005"]["category_l1"] == "power_quality"   # derived from the second level
    assert by_no["2610200000000004"]["area_kind"] == "rural"

    # re-import into an empty table and export again: the same file
    wipe_orders()
    code, out, _ = run("import", "workorders", first)
    assert code == 0, out
    second = tmp_path / "export2.csv"
    assert run("export", "workorders", second)[0] == 0
    assert first.read_bytes() == second.read_bytes()

    # and through Excel
    book = tmp_path / "export.xlsx"
    assert run("export", "workorders", book)[0] == 0
    wipe_orders()
    code, out, _ = run("import", "workorders", book)
    assert code == 0, out
    third = tmp_path / "export3.csv"
    assert run("export", "workorders", third)[0] == 0
    assert first.read_bytes() == third.read_bytes()
