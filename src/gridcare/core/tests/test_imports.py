"""`gridcare import` / `gridcare export` through the real commands, on real CSV and XLSX files."""
import csv
import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gridcare.accounts.models import OrgUnit, User
from gridcare.core import imports
from gridcare.core.exports import xlsx_response
from gridcare.core.imports import check_header, parse_bool, parse_date, parse_datetime, parse_int
from gridcare.core.models import AuditLog
from gridcare.customers.importers import CUSTOMER_COLUMNS
from gridcare.customers.models import Customer, InvoiceDetail
from gridcare.customers.validators import credit_code_with_check
from gridcare.grid.models import Feeder, Substation, TransformerArea

GOOD_TAX_ID = credit_code_with_check("91330100MA27XXXX0")
BAD_TAX_ID = GOOD_TAX_ID[:-1] + ("Q" if GOOD_TAX_ID[-1] != "Q" else "R")


# --------------------------------------------------------------------------------------------------
# helpers


def run(command, *args):
    """Runs a management command; returns (exit status, stdout, stderr) as the CLI would."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(command, *[str(a) for a in args], stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    return code, out.getvalue(), err.getvalue()


def write_csv(path: Path, rows: list[dict], columns=None, bom=False, encoding="utf-8"):
    columns = list(columns or rows[0].keys())
    with open(path, "w", encoding="utf-8-sig" if bom else encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return path


def write_xlsx(path: Path, rows: list[list], header: list[str]):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def customer_row(account_no, **values):
    row = dict(account_no=account_no, name="测试户", customer_class="residential", unit_code="S01",
               taiqu_code="TQ0001", address="城关镇测试路1号", area_kind="urban", phone="13912345678")
    row.update(values)
    return row


def lines(text):
    return [line for line in text.splitlines() if line.strip()]


# --------------------------------------------------------------------------------------------------
# good files


def test_units_with_parents_defined_above_in_the_same_file(world, tmp_path):
    f = write_csv(tmp_path / "units.csv", [
        {"code": "X02", "name": "新县供电公司", "kind": "county", "parent_code": "C01"},
        {"code": "S03", "name": "新城供电所", "kind": "station", "parent_code": "X02"},
        {"code": "T031", "name": "新城抢修班", "kind": "team", "parent_code": "S03"},
        {"code": "P02", "name": "另一省公司", "kind": "province", "parent_code": ""},
    ])
    code, out, _ = run("import", "units", f)
    assert code == 0, out
    assert lines(out)[-1].startswith("导入完成：成功 4 行，失败 0 行")
    team = OrgUnit.objects.get(code="T031")
    assert team.path == "/P01/C01/X02/S03/T031/" and team.parent.code == "S03"
    assert OrgUnit.objects.get(code="P02").parent is None
    assert set(world.city.subtree().values_list("code", flat=True)) >= {"X02", "S03", "T031"}


@pytest.mark.parametrize("chunk_size", [1, 2, 1000])
def test_units_referring_to_rows_in_earlier_chunks(world, tmp_path, monkeypatch, chunk_size):
    monkeypatch.setattr(imports, "CHUNK_SIZE", chunk_size)
    rows = [{"code": "L0", "name": "L0", "kind": "team", "parent_code": "S01"}]
    rows += [{"code": f"L{i}", "name": f"L{i}", "kind": "team", "parent_code": f"L{i - 1}"} for i in range(1, 5)]
    code, out, _ = run("import", "units", write_csv(tmp_path / "units.csv", rows))
    assert code == 0, out
    assert OrgUnit.objects.get(code="L4").path == "/P01/C01/X01/S01/L0/L1/L2/L3/L4/"


def test_users_get_an_unusable_password_unless_a_default_is_given(world, tmp_path):
    rows = [{"username": "clerk02", "name": "营业员小钱", "role": "clerk", "unit_code": "H01", "phone": "13811112222"},
            {"username": "root2", "name": "管理员", "role": "admin", "unit_code": "", "phone": ""}]
    code, out, _ = run("import", "users", write_csv(tmp_path / "users.csv", rows))
    assert code == 0, out
    clerk = User.objects.get(username="clerk02")
    assert (clerk.name, clerk.role, clerk.unit.code, clerk.phone) == ("营业员小钱", "clerk", "H01", "13811112222")
    assert not clerk.has_usable_password()
    assert User.objects.get(username="root2").unit is None

    rows = [{"username": "reader02", "name": "抄表员2", "role": "reader", "unit_code": "S02", "phone": ""}]
    code, out, _ = run("import", "users", write_csv(tmp_path / "users2.csv", rows), "--default-password", "Init-2026-pw")
    assert code == 0, out
    assert User.objects.get(username="reader02").check_password("Init-2026-pw")


def test_users_bad_rows(world, tmp_path):
    rows = [{"username": "agent01", "name": "重复", "role": "agent", "unit_code": "SC1", "phone": ""},
            {"username": "new one", "name": "空格", "role": "agent", "unit_code": "SC1", "phone": ""},
            {"username": "nobody_unit", "name": "无单位", "role": "handler", "unit_code": "", "phone": ""},
            {"username": "badrole", "name": "角色错", "role": "boss", "unit_code": "ZZZ", "phone": "123"}]
    code, out, _ = run("import", "users", write_csv(tmp_path / "users.csv", rows))
    assert code == 1
    text = out
    assert "第2行 username: 用户名已存在：agent01" in text
    assert "第3行 username: 用户名只能包含" in text
    assert "第4行 unit_code: 不能为空" in text
    assert "第5行 role: 无效的值“boss”" in text
    assert "第5行 unit_code: 单位编码不存在：ZZZ" in text
    assert "第5行 phone: 电话号码格式不正确" in text
    assert not User.objects.filter(username__in=["new one", "nobody_unit", "badrole"]).exists()


def test_default_password_is_only_for_users_and_must_be_acceptable(world, tmp_path):
    f = write_csv(tmp_path / "units.csv", [{"code": "Z1", "name": "Z", "kind": "team", "parent_code": "S01"}])
    assert run("import", "units", f, "--default-password", "Init-2026-pw")[0] == 2
    f = write_csv(tmp_path / "users.csv", [{"username": "u1", "name": "", "role": "agent", "unit_code": "SC1"}])
    code, _, err = run("import", "users", f, "--default-password", "short")
    assert code == 2 and "密码" in err
    assert not User.objects.filter(username="u1").exists()


def test_grid_creates_substations_and_feeders_once_and_reuses_existing_ones(world, tmp_path):
    columns = ["substation_code", "substation_name", "feeder_code", "feeder_name", "taiqu_code", "taiqu_name",
               "unit_code", "area_kind", "manager_username", "capacity_kva"]
    rows = [
        # new substation and feeder, owned by the row's unit
        dict(substation_code="BDZ02", substation_name="河口35kV变电站", feeder_code="F201", feeder_name="河口I线",
             taiqu_code="TQ0201", taiqu_name="河口一号台区", unit_code="S02", area_kind="rural",
             manager_username="handler_b", capacity_kva="200"),
        # same substation and feeder, defined in the row above; names may be left empty
        dict(substation_code="BDZ02", substation_name="", feeder_code="F201", feeder_name="",
             taiqu_code="TQ0202", taiqu_name="河口二号台区", unit_code="S02", area_kind="remote"),
        # existing substation and feeder from the database
        dict(substation_code="BDZ01", substation_name="城关110kV变电站", feeder_code="F001", feeder_name="城关I线",
             taiqu_code="TQ0003", taiqu_name="城关三号台区", unit_code="S01", area_kind="urban", capacity_kva="630"),
        # new feeder on an existing substation
        dict(substation_code="BDZ01", substation_name="", feeder_code="F003", feeder_name="城关II线",
             taiqu_code="TQ0004", taiqu_name="城关四号台区", unit_code="S01", area_kind="urban"),
    ]
    code, out, _ = run("import", "grid", write_csv(tmp_path / "grid.csv", rows, columns))
    assert code == 0, out
    sub = Substation.objects.get(code="BDZ02")
    assert sub.unit.code == "S02" and sub.feeders.count() == 1
    f201 = Feeder.objects.get(code="F201")
    assert f201.substation == sub and f201.unit.code == "S02"
    assert set(f201.transformer_areas.values_list("code", flat=True)) == {"TQ0201", "TQ0202"}
    t = TransformerArea.objects.get(code="TQ0201")
    assert (t.manager.username, t.capacity_kva, t.area_kind) == ("handler_b", 200, "rural")
    assert TransformerArea.objects.get(code="TQ0202").capacity_kva is None
    assert TransformerArea.objects.get(code="TQ0003").feeder == world.feeder1
    assert Substation.objects.filter(code="BDZ01").count() == 1
    assert Feeder.objects.get(code="F003").substation == world.substation
    assert Substation.objects.get(code="BDZ01").unit == world.county  # existing: unchanged


def test_grid_bad_rows(world, tmp_path):
    base = dict(substation_code="BDZ01", substation_name="", feeder_code="F001", feeder_name="",
                taiqu_code="", taiqu_name="台区", unit_code="S01", area_kind="urban", manager_username="",
                capacity_kva="")
    rows = [
        dict(base, taiqu_code="TQ0001"),                                   # exists
        dict(base, taiqu_code="TQ0501", feeder_code="F091"),               # feeder of another substation
        dict(base, taiqu_code="TQ0502", substation_code="BDZ77"),          # new substation without a name
        dict(base, taiqu_code="TQ0503", substation_name="别的名字"),       # name differs from the stored one
        dict(base, taiqu_code="TQ0504", manager_username="ghost", capacity_kva="大"),
        dict(base, taiqu_code="TQ0505", area_kind="suburb", unit_code="NOPE"),
        dict(base, taiqu_code="TQ0506"),                                   # good
    ]
    code, out, _ = run("import", "grid", write_csv(tmp_path / "grid.csv", rows))
    assert code == 1
    assert "第2行 taiqu_code: 台区编码已存在：TQ0001" in out
    assert "第3行 feeder_code: 线路 F091 属于变电站 BDZ91" in out
    assert "第4行 substation_name: 变电站 BDZ77 尚不存在，新建须填写名称" in out
    assert "第5行 substation_name: 变电站 BDZ01 已存在" in out
    assert "第6行 manager_username: 用户不存在：ghost" in out
    assert "第6行 capacity_kva: 应为整数" in out
    assert "第7行 area_kind: 无效的值“suburb”" in out
    assert "第7行 unit_code: 单位编码不存在：NOPE" in out
    assert "导入完成：成功 1 行，失败 6 行" in out
    assert TransformerArea.objects.filter(code__startswith="TQ05").count() == 1
    assert not Substation.objects.filter(code="BDZ77").exists()


def test_customers_good_file_with_invoice_details(world, tmp_path):
    rows = [
        customer_row("3100000201", name="城关中学", customer_class="non_residential", critical="true",
                     critical_kind="school", tax_id=GOOD_TAX_ID, invoice_email="cw@school.example.cn",
                     invoice_phone="13700001111", bank_name="示例银行城关支行", bank_account="6222000011112222",
                     opened_on="2012-09-01", phone2="0571-88001234"),
        customer_row("3100000202", taiqu_code="TQ0101", unit_code="S02", area_kind="rural"),
    ]
    code, out, _ = run("import", "customers", write_csv(tmp_path / "customers.csv", rows, CUSTOMER_COLUMNS))
    assert code == 0, out
    assert lines(out)[-1].startswith("导入完成：成功 2 行，失败 0 行")
    school = Customer.objects.get(account_no="3100000201")
    assert school.critical and school.critical_kind == "school"
    assert school.opened_on == dt.date(2012, 9, 1) and school.phone2 == "0571-88001234"
    assert school.transformer_area == world.taiqu_a and school.unit == world.station_a
    inv = InvoiceDetail.objects.get(customer=school)
    assert (inv.title, inv.tax_id, inv.bank_account) == ("城关中学", GOOD_TAX_ID, "6222000011112222")
    plain = Customer.objects.get(account_no="3100000202")
    assert not plain.critical and plain.opened_on is None
    assert not InvoiceDetail.objects.filter(customer=plain).exists()


# --------------------------------------------------------------------------------------------------
# bad rows, --atomic


def bad_customers_file(tmp_path):
    rows = [
        customer_row("3100000301"),                                   # row 2: good
        customer_row("3100000302", phone="12345"),                    # row 3: phone
        customer_row("3100000303", tax_id=BAD_TAX_ID),                # row 4: 纳税人识别号
        customer_row("3100000304", unit_code="NOPE"),                 # row 5: unknown unit
        customer_row("3100000305", taiqu_code="TQ404"),               # row 6: unknown 台区
        customer_row("31000003"),                                     # row 7: not 10 digits
        customer_row("3100000307", customer_class="vip", area_kind="", critical="maybe", opened_on="2020/1/1"),
        customer_row("3100000308"),                                   # row 9: good
    ]
    return write_csv(tmp_path / "customers.csv", rows, CUSTOMER_COLUMNS)


def test_bad_rows_are_reported_and_good_rows_kept(world, tmp_path):
    before = Customer.objects.count()
    code, out, err = run("import", "customers", bad_customers_file(tmp_path))
    assert code == 1
    report = lines(out)
    assert "第3行 phone: 电话号码格式不正确：12345（手机11位，或固话如0571-88888888）" in report
    assert f"第4行 tax_id: 纳税人识别号格式或校验位不正确：{BAD_TAX_ID}" in report
    assert "第5行 unit_code: 单位编码不存在：NOPE" in report
    assert "第6行 taiqu_code: 台区编码不存在：TQ404" in report
    assert "第7行 account_no: 户号应为10位数字（当前为“31000003”）" in report
    row8 = [line for line in report if line.startswith("第8行 ")]
    assert {line.split(":")[0] for line in row8} == {"第8行 customer_class", "第8行 area_kind", "第8行 critical",
                                                     "第8行 opened_on"}
    assert "第8行 area_kind: 不能为空" in report
    assert report[-1].startswith("导入完成：成功 2 行，失败 6 行")
    assert "6 行未导入" in err
    assert Customer.objects.count() == before + 2
    assert set(Customer.objects.filter(account_no__startswith="31000003").values_list("account_no", flat=True)) == {
        "3100000301", "3100000308"}


def test_atomic_rolls_back_the_whole_file(world, tmp_path):
    before = (Customer.objects.count(), AuditLog.objects.count())
    code, out, err = run("import", "customers", bad_customers_file(tmp_path), "--atomic")
    assert code == 1
    assert "第3行 phone: 电话号码格式不正确" in out
    assert "导入完成：成功 0 行，失败 6 行" in out and "回滚" in out
    assert (Customer.objects.count(), AuditLog.objects.count()) == before


def test_atomic_rolls_back_rows_already_written_in_earlier_chunks(world, tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_SIZE", 2)
    rows = [{"code": f"A{i}", "name": f"A{i}", "kind": "team", "parent_code": "S01"} for i in range(5)]
    rows.append({"code": "A9", "name": "坏", "kind": "bogus", "parent_code": "S01"})
    code, out, _ = run("import", "units", write_csv(tmp_path / "units.csv", rows), "--atomic")
    assert code == 1 and "第7行 kind: 无效的值“bogus”" in out
    assert not OrgUnit.objects.filter(code__startswith="A").exists()


def test_atomic_with_a_good_file_writes_everything(world, tmp_path):
    f = write_csv(tmp_path / "c.csv", [customer_row("3100000401"), customer_row("3100000402")])
    code, out, _ = run("import", "customers", f, "--atomic")
    assert code == 0 and "导入完成：成功 2 行，失败 0 行" in out
    assert Customer.objects.filter(account_no__in=["3100000401", "3100000402"]).count() == 2


def test_duplicate_account_numbers_in_file_and_in_database(world, tmp_path):
    rows = [customer_row("3100000501"), customer_row("3100000501", name="重复"), customer_row("3100000001")]
    code, out, _ = run("import", "customers", write_csv(tmp_path / "c.csv", rows))
    assert code == 1
    assert "第3行 account_no: 户号与第2行重复" in out
    assert "第4行 account_no: 户号已存在：3100000001（导入只新增，不修改已有客户）" in out
    assert Customer.objects.get(account_no="3100000501").name == "测试户"
    assert Customer.objects.get(account_no="3100000001").name == "张三"  # not overwritten


def test_unknown_parent_unit_and_a_parent_whose_row_failed(world, tmp_path):
    rows = [{"code": "B1", "name": "B1", "kind": "nonsense", "parent_code": "S01"},
            {"code": "B2", "name": "B2", "kind": "team", "parent_code": "B1"},
            {"code": "B3", "name": "B3", "kind": "team", "parent_code": "B4"},
            {"code": "B4", "name": "B4", "kind": "team", "parent_code": "S01"},
            {"code": "B4", "name": "B4 again", "kind": "team", "parent_code": "S01"},
            {"code": "S01", "name": "已有", "kind": "station", "parent_code": "X01"}]
    code, out, _ = run("import", "units", write_csv(tmp_path / "units.csv", rows))
    assert code == 1
    assert "第3行 parent_code: 上级单位 B1 所在的第2行未通过校验" in out
    assert "第4行 parent_code: 上级单位不存在：B4（同一文件中的上级单位须写在下级之前）" in out
    assert "第6行 code: 单位编码与第5行重复" in out
    assert "第7行 code: 单位编码已存在：S01" in out
    assert list(OrgUnit.objects.filter(code__startswith="B").values_list("code", flat=True)) == ["B4"]


# --------------------------------------------------------------------------------------------------
# headers and files


def test_unknown_columns_are_an_error_unless_ignored(world, tmp_path):
    rows = [dict(customer_row("3100000601"), remark="备注", 等级="A")]
    f = write_csv(tmp_path / "c.csv", rows)
    code, out, err = run("import", "customers", f)
    assert code == 2
    assert "未知的列：remark、等级" in err and "--ignore-unknown" in err
    assert not Customer.objects.filter(account_no="3100000601").exists()
    code, out, _ = run("import", "customers", f, "--ignore-unknown")
    assert code == 0, out
    assert Customer.objects.filter(account_no="3100000601").exists()


def test_missing_required_columns(world, tmp_path):
    f = write_csv(tmp_path / "c.csv", [{"account_no": "3100000701", "name": "缺列"}])
    code, _, err = run("import", "customers", f)
    assert code == 2
    assert "缺少必需的列：customer_class、unit_code、taiqu_code、address、area_kind" in err


def test_optional_columns_may_be_left_out_and_order_is_free(world, tmp_path):
    rows = [{"area_kind": "urban", "address": "某路1号", "taiqu_code": "TQ0002", "unit_code": "S01",
             "customer_class": "agricultural", "name": "农场", "account_no": "3100000702"}]
    code, out, _ = run("import", "customers", write_csv(tmp_path / "c.csv", rows))
    assert code == 0, out
    assert Customer.objects.get(account_no="3100000702").customer_class == "agricultural"


def test_missing_unreadable_and_empty_files(world, tmp_path):
    code, _, err = run("import", "customers", tmp_path / "nope.csv")
    assert code == 2 and "文件不存在" in err
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("account_no,name\n3100000801,张三\n".encode("gbk"))
    code, _, err = run("import", "customers", gbk)
    assert code == 2 and "UTF-8" in err
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    code, _, err = run("import", "customers", empty)
    assert code == 2 and "缺少表头" in err
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip file")
    code, _, err = run("import", "customers", broken)
    assert code == 2 and "无法读取Excel文件" in err
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    code, _, err = run("import", "customers", old)
    assert code == 2 and ".xls" in err


def test_unknown_kind_and_unknown_actor(world, tmp_path):
    f = write_csv(tmp_path / "c.csv", [customer_row("3100000901")])
    code, _, err = run("import", "bananas", f)
    assert code == 2 and "未知的导入类型：bananas" in err
    code, _, err = run("import", "customers", f, "--as", "ghost")
    assert code == 2 and "ghost" in err
    assert not Customer.objects.filter(account_no="3100000901").exists()


def test_bom_and_blank_lines_and_multiline_cells(world, tmp_path):
    f = tmp_path / "bom.csv"
    f.write_bytes(("\ufeffaccount_no,name,customer_class,unit_code,taiqu_code,address,area_kind\r\n"
                   "3100001001,有BOM,residential,S01,TQ0001,\"某路\n2号\",urban\r\n"
                   ",,,,,,\r\n"
                   "\r\n"
                   "3100001002,第五行,residential,S01,TQ0001,某路3号,bad\r\n").encode("utf-8"))
    code, out, _ = run("import", "customers", f)
    assert code == 1
    assert Customer.objects.get(account_no="3100001001").address == "某路\n2号"
    assert "第5行 area_kind: 无效的值“bad”" in out  # rows counted as a spreadsheet shows them


def test_values_beyond_the_header_reject_the_row(world, tmp_path):
    f = tmp_path / "extra.csv"
    f.write_text("code,name,kind,parent_code\nE1,E1,team,S01,多余\nE2,E2,team,S01,\n", encoding="utf-8")
    code, out, _ = run("import", "units", f)
    assert code == 1 and "第2行: 本行的值多于表头的列数" in out
    assert list(OrgUnit.objects.filter(code__startswith="E").values_list("code", flat=True)) == ["E2"]


def test_xlsx_input_with_typed_cells(world, tmp_path):
    header = list(CUSTOMER_COLUMNS)
    values = customer_row("3100001101", critical=True, critical_kind="water", opened_on=dt.datetime(2019, 5, 6),
                          phone=13912340000, tax_id=GOOD_TAX_ID)
    numeric_account = customer_row(3100001102, name=" 前后空格 ", phone2=None)
    bad = customer_row("3100001103", phone="139")
    f = write_xlsx(tmp_path / "customers.xlsx", [[r.get(c) for c in header] for r in (values, numeric_account, bad)],
                   header)
    code, out, _ = run("import", "customers", f)
    assert code == 1
    assert lines(out)[0].startswith("第4行 phone: 电话号码格式不正确：139")
    c = Customer.objects.get(account_no="3100001101")
    assert (c.critical, c.critical_kind, c.opened_on, c.phone) == (True, "water", dt.date(2019, 5, 6), "13912340000")
    assert c.invoice.tax_id == GOOD_TAX_ID
    assert Customer.objects.get(account_no="3100001102").name == "前后空格"


def test_xlsx_grid_with_numeric_capacity(world, tmp_path):
    header = ["substation_code", "substation_name", "feeder_code", "feeder_name", "taiqu_code", "taiqu_name",
              "unit_code", "area_kind", "capacity_kva"]
    f = write_xlsx(tmp_path / "grid.xlsx", [["BDZ01", None, "F002", None, "TQ0102", "河口二号", "S02", "rural", 315.0]],
                   header)
    code, out, _ = run("import", "grid", f)
    assert code == 0, out
    assert TransformerArea.objects.get(code="TQ0102").capacity_kva == 315


def test_progress_is_reported_on_long_imports(world, tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 3)
    monkeypatch.setattr(imports, "CHUNK_SIZE", 3)
    rows = [customer_row(f"31000012{i:02d}") for i in range(7)]
    code, out, err = run("import", "customers", write_csv(tmp_path / "c.csv", rows))
    assert code == 0, out
    assert "已处理 3 行" in err and "已处理 6 行" in err and "已处理 9 行" not in err


# --------------------------------------------------------------------------------------------------
# audit


def test_audit_entries_record_the_import_and_the_actor(world, tmp_path):
    f = write_csv(tmp_path / "customers.csv", [customer_row("3100001301", tax_id=GOOD_TAX_ID), customer_row("3100001302")])
    code, out, _ = run("import", "customers", f, "--as", "sup_county")
    assert code == 0, out
    customer = Customer.objects.get(account_no="3100001301")
    entries = list(customer.audit_entries())
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.action, entry.source, entry.actor_username, entry.actor) == (
        "create", "import", "sup_county", world.supervisor_county)
    assert entry.changes["account_no"] == [None, "3100001301"]
    assert "customers.csv" in entry.changes["_note"][1]
    assert len(customer.invoice.audit_entries()) == 1
    assert AuditLog.objects.filter(source="import").count() == 3  # two customers, one invoice


def test_audit_without_actor(world, tmp_path):
    f = write_csv(tmp_path / "units.csv", [{"code": "Q1", "name": "Q1", "kind": "team", "parent_code": "S01"}])
    assert run("import", "units", f)[0] == 0
    entry = OrgUnit.objects.get(code="Q1").audit_entries().get()
    assert entry.source == "import" and entry.actor is None and entry.actor_username == ""


# --------------------------------------------------------------------------------------------------
# export and round trip


def _wipe_registry():
    """Removes every unit, user, grid record and customer (so that exported files can be re-imported)."""
    InvoiceDetail.objects.all().delete()
    Customer.objects.all().delete()
    TransformerArea.objects.all().delete()
    Feeder.objects.all().delete()
    Substation.objects.all().delete()
    OrgUnit.objects.update(head=None)
    User.objects.all().delete()
    while OrgUnit.objects.exists():
        OrgUnit.objects.filter(children__isnull=True).delete()


def _xlsx_values(path):
    wb = openpyxl.load_workbook(path, read_only=True)
    values = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    wb.close()
    return values


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_export_reimports_unchanged(world, tmp_path, ext):
    InvoiceDetail.objects.create(customer=world.cust_a2, title="县人民医院", tax_id=GOOD_TAX_ID,
                                 invoice_email="cw@hospital.example.cn", bank_name="示例银行", bank_account="62220001")
    world.cust_a.opened_on = dt.date(2011, 2, 3)
    world.cust_a.phone2 = "0571-88001234"
    world.cust_a.save()
    world.cust_b.name = "=HYPERLINK(\"http://example.com\",\"李四\")"  # text, never a formula
    world.cust_b.address = "河口村3组12号, \"老屋\"\n东侧"
    world.cust_b.save()
    kinds = ["units", "users", "grid", "customers"]
    first = {k: tmp_path / f"{k}-1.{ext}" for k in kinds}
    for kind in kinds:
        code, out, _ = run("export", kind, first[kind])
        assert code == 0, out
    before = {
        "customers": sorted(Customer.objects.values_list("account_no", "name", "customer_class", "unit__code",
                                                          "transformer_area__code", "address", "area_kind", "phone",
                                                          "phone2", "critical", "critical_kind", "opened_on")),
        "taiqus": sorted(TransformerArea.objects.values_list("code", "name", "feeder__code",
                                                              "feeder__substation__code", "unit__code", "area_kind",
                                                              "manager__username", "capacity_kva")),
        "units": sorted(OrgUnit.objects.values_list("code", "name", "kind", "path")),
        "users": sorted(User.objects.values_list("username", "name", "role", "unit__code", "phone")),
    }

    _wipe_registry()
    for kind in kinds:
        code, out, _ = run("import", kind, first[kind])
        assert code == 0, (kind, out)

    after = {
        "customers": sorted(Customer.objects.values_list("account_no", "name", "customer_class", "unit__code",
                                                          "transformer_area__code", "address", "area_kind", "phone",
                                                          "phone2", "critical", "critical_kind", "opened_on")),
        "taiqus": sorted(TransformerArea.objects.values_list("code", "name", "feeder__code",
                                                              "feeder__substation__code", "unit__code", "area_kind",
                                                              "manager__username", "capacity_kva")),
        "units": sorted(OrgUnit.objects.values_list("code", "name", "kind", "path")),
        "users": sorted(User.objects.values_list("username", "name", "role", "unit__code", "phone")),
    }
    assert after == before
    inv = InvoiceDetail.objects.get(customer__account_no="3100000002")
    assert (inv.tax_id, inv.invoice_email, inv.bank_name, inv.bank_account) == (
        GOOD_TAX_ID, "cw@hospital.example.cn", "示例银行", "62220001")

    for kind in kinds:  # and exporting again gives the same file
        second = tmp_path / f"{kind}-2.{ext}"
        assert run("export", kind, second)[0] == 0
        if ext == "csv":
            assert second.read_bytes() == first[kind].read_bytes(), kind
        else:
            assert _xlsx_values(second) == _xlsx_values(first[kind]), kind


def test_export_formats(world, tmp_path):
    world.cust_a.opened_on = dt.date(2011, 2, 3)
    world.cust_a.save()
    f = tmp_path / "customers.xlsx"
    code, out, _ = run("export", "customers", f)
    assert code == 0 and "导出完成：4 行" in out
    wb = openpyxl.load_workbook(f)
    ws = wb.worksheets[0]
    assert ws.title == "客户" and ws.freeze_panes == "A2"
    assert [c.value for c in ws[1]] == list(CUSTOMER_COLUMNS)
    assert all(c.font.b for c in ws[1])
    assert ws["A1"].comment.text.startswith("户号")
    assert ws.column_dimensions["F"].width >= 30  # address
    assert ws["A2"].value == "3100000001" and ws["A2"].data_type == "s"  # 户号 stays text
    assert ws["Q2"].value == dt.datetime(2011, 2, 3) and ws["Q2"].number_format == "yyyy-mm-dd"

    c = tmp_path / "customers.csv"
    assert run("export", "customers", c)[0] == 0
    raw = c.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfaccount_no,name,")  # BOM: Excel shows the Chinese correctly
    first_row = raw.decode("utf-8-sig").splitlines()[1]
    assert first_row == "3100000001,张三,residential,S01,TQ0001,城关镇人民路1号,urban,13900000001,,false,,,,,,,2011-02-03"


def test_export_errors(world, tmp_path):
    assert run("export", "bananas", tmp_path / "x.csv")[0] == 2
    code, _, err = run("export", "units", tmp_path / "missing-dir" / "x.csv")
    assert code == 2 and "目录不存在" in err


def test_xlsx_response_for_views(world):
    response = xlsx_response("customers", queryset=Customer.objects.filter(unit=world.station_a))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["3100000001", "3100000002"]


# --------------------------------------------------------------------------------------------------
# the real CLI: exit statuses as external tools see them


def test_exit_statuses_of_the_real_cli(tmp_path):
    gridcare = Path(sys.executable).parent / "gridcare"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GRIDCARE_TEST_DB")}
    env["GRIDCARE_VAR_DIR"] = str(tmp_path / "var")

    def cli(*args):
        return subprocess.run([str(gridcare), *map(str, args)], env=env, capture_output=True, text=True, timeout=120)

    assert cli("migrate", "-v", "0").returncode == 0
    units = write_csv(tmp_path / "units.csv", [{"code": "P9", "name": "省", "kind": "province", "parent_code": ""},
                                               {"code": "C9", "name": "市", "kind": "city", "parent_code": "P9"}])
    ok = cli("import", "units", units)
    assert ok.returncode == 0 and "导入完成：成功 2 行，失败 0 行" in ok.stdout
    again = cli("import", "units", units)
    assert again.returncode == 1 and "第2行 code: 单位编码已存在：P9" in again.stdout
    assert cli("import", "units", tmp_path / "missing.csv").returncode == 2
    bad_header = write_csv(tmp_path / "bad.csv", [{"code": "X", "title": "?"}])
    result = cli("import", "units", bad_header)
    assert result.returncode == 2 and "表头不正确" in result.stderr
    out = tmp_path / "units-out.xlsx"
    assert cli("export", "units", out).returncode == 0 and out.exists()


# --------------------------------------------------------------------------------------------------
# pure helpers


def test_parse_datetime_without_offset_is_shanghai():
    value, error = parse_datetime("2026-01-05 08:30:00")
    assert error is None and value.utcoffset() == dt.timedelta(hours=8)
    assert value.astimezone(dt.timezone.utc).hour == 0
    value, _ = parse_datetime("2026-01-05T08:30:00+00:00")
    assert value.utcoffset() == dt.timedelta(0)
    assert parse_datetime(dt.datetime(2026, 1, 5, 8, 30))[0].utcoffset() == dt.timedelta(hours=8)
    assert parse_datetime("yesterday")[1].startswith("时间格式不正确")
    assert parse_datetime(None) == (None, None)


def test_cell_parsers():
    assert parse_bool("TRUE") == (True, None) and parse_bool("否") == (False, None)
    assert parse_bool("maybe")[1]
    assert parse_int("400") == (400, None) and parse_int("315.0") == (315, None)
    assert parse_int("3.5")[1] and parse_int("0", 1)[1] and parse_int("x")[1]
    assert parse_date("2026-02-30")[1] and parse_date("2026-02-28") == (dt.date(2026, 2, 28), None)
    assert parse_date(dt.datetime(2026, 2, 28, 10, 0))[1]


def test_check_header():
    cols, req = ("a", "b", "c"), ("a", "b")
    assert check_header(["b", "a"], cols, req) == []
    assert check_header(["a"], cols, req) == ["缺少必需的列：b"]
    assert "未知的列：z" in check_header(["a", "b", "z"], cols, req)[0]
    assert check_header(["a", "b", "z"], cols, req, ignore_unknown=True) == []
    assert "重复" in check_header(["a", "b", "a"], cols, req)[0]
