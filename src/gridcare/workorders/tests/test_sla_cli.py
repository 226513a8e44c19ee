"""`gridcare sla due`: a contract for scripts. Only the due time on stdout, exit 0; errors in Chinese on
stderr, exit 2."""
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def sla(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("sla", "due", *args, stdout=out, stderr=err)
    assert err.getvalue() == ""
    return out.getvalue()


@pytest.mark.parametrize("args, due", [
    (["--type", "complaint", "--stage", "contact", "--start", "2026-10-08T17:00:00+08:00"], "2026-10-09T17:00:00+08:00"),
    # National Day 2025 and 2026, with their swapped working days
    (["--type", "complaint", "--stage", "contact", "--start", "2025-09-30T17:00:00+08:00"], "2025-10-09T17:00:00+08:00"),
    (["--type", "complaint", "--stage", "contact", "--start", "2025-10-10T17:00:00+08:00"], "2025-10-11T17:00:00+08:00"),
    (["--type", "complaint", "--stage", "contact", "--start", "2026-09-30T17:00:00+08:00"], "2026-10-08T17:00:00+08:00"),
    (["--type", "complaint", "--stage", "contact", "--start", "2026-10-09T17:00:00+08:00"], "2026-10-10T17:00:00+08:00"),
    (["--type", "complaint", "--stage", "contact", "--start", "2026-10-02T10:00:00+08:00"], "2026-10-09T00:00:00+08:00"),
    # Spring Festival 2026
    (["--type", "complaint", "--stage", "contact", "--start", "2026-02-13T17:00:00+08:00"], "2026-02-14T17:00:00+08:00"),
    (["--type", "complaint", "--stage", "handle", "--start", "2026-02-13T17:00:00+08:00"], "2026-02-27T17:00:00+08:00"),
    (["--type", "service_request", "--stage", "handle", "--start", "2026-02-16T08:00:00+08:00"], "2026-03-01T00:00:00+08:00"),
    # an ordinary Friday
    (["--type", "inquiry", "--stage", "handle", "--start", "2026-03-13T17:00:00+08:00"], "2026-03-16T17:00:00+08:00"),
    # repair arrival by area, natural minutes through the holiday
    (["--type", "fault_repair", "--stage", "arrival", "--area", "urban", "--start", "2026-10-01T23:30:00+08:00"],
     "2026-10-02T00:15:00+08:00"),
    (["--type", "fault_repair", "--stage", "arrival", "--area", "rural", "--start", "2026-10-01T23:30:00+08:00"],
     "2026-10-02T01:00:00+08:00"),
    (["--type", "fault_repair", "--stage", "arrival", "--area", "remote", "--start", "2026-10-01T23:30:00+08:00"],
     "2026-10-02T01:30:00+08:00"),
    (["--type", "fault_repair", "--stage", "restoration_after_arrival", "--area", "rural",
      "--start", "2026-02-16T22:00:00+08:00"], "2026-02-17T02:00:00+08:00"),
    (["--type", "fault_repair", "--stage", "dispatch", "--start", "2026-02-16T22:00:00+08:00"], "2026-02-16T22:03:00+08:00"),
    # a natural clock needs no holiday schedule
    (["--type", "fault_repair", "--stage", "arrival", "--area", "rural", "--start", "2027-03-01T09:00:00+08:00"],
     "2027-03-01T10:30:00+08:00"),
    # --start without an offset is Beijing time; other offsets are converted; Z is UTC
    (["--type", "complaint", "--stage", "contact", "--start", "2026-10-08T17:00"], "2026-10-09T17:00:00+08:00"),
    (["--type", "complaint", "--stage", "contact", "--start", "2026-10-08 17:00:00"], "2026-10-09T17:00:00+08:00"),
    (["--type", "complaint", "--stage", "contact", "--start", "2026-10-08T09:00:00Z"], "2026-10-09T17:00:00+08:00"),
    (["--type", "complaint", "--stage", "dispatch", "--start", "2026-10-08T09:00:00+00:00"], "2026-10-08T17:20:00+08:00"),
    (["--type", "complaint", "--stage", "contact", "--start", "2026-10-08"], "2026-10-09T00:00:00+08:00"),
])
def test_due(db, args, due):
    assert sla(*args) == due + "\n"


def test_json_format(db):
    out = sla("--type", "fault_repair", "--stage", "arrival", "--area", "rural",
              "--start", "2026-10-01T23:30:00+08:00", "--format", "json")
    data = json.loads(out)
    assert data["due"] == "2026-10-02T01:00:00+08:00"
    assert (data["limit"], data["unit"], data["label"]) == (90, "minutes", "90分钟")


@pytest.mark.parametrize("args, message", [
    (["--type", "fault", "--stage", "contact", "--start", "2026-10-08T17:00"], "未知的工单类型“fault”"),
    (["--type", "complaint", "--stage", "arrival", "--start", "2026-10-08T17:00"], "没有“arrival”环节的时限"),
    (["--type", "fault_repair", "--stage", "arrival", "--start", "2026-10-08T17:00"], "请指定地区类型"),
    (["--type", "fault_repair", "--stage", "arrival", "--area", "city", "--start", "2026-10-08T17:00"], "未知的地区类型“city”"),
    (["--type", "complaint", "--stage", "contact", "--start", "2026-13-08T17:00"], "--start 的时间“2026-13-08T17:00”无法识别"),
    (["--type", "complaint", "--stage", "contact", "--start", "tomorrow"], "无法识别"),
    (["--type", "complaint", "--stage", "contact"], "缺少参数：--start"),
    (["--stage", "contact", "--start", "2026-10-08T17:00"], "缺少参数：--type"),
    (["--type", "complaint", "--stage", "contact", "--start", "2027-01-04T09:00:00+08:00"],
     "2027年的节假日安排尚未录入，无法计算工作日时限"),
    (["--type", "complaint", "--stage", "handle", "--start", "2026-12-28T09:00:00+08:00"], "2027年的节假日安排尚未录入"),
    (["--type", "complaint", "--stage", "contact", "--start", "2026-10-08T17:00", "--format", "xml"], "--format"),
])
def test_errors(db, args, message):
    with pytest.raises(CommandError) as exc:
        sla(*args)
    assert exc.value.returncode == 2
    assert message in str(exc.value)


def test_sub_command_required(db):
    with pytest.raises(CommandError) as exc:
        call_command("sla", stdout=io.StringIO())
    assert exc.value.returncode == 2 and "请指定操作：due" in str(exc.value)


def test_after_importing_2027_it_works(db, tmp_path):
    args = ["--type", "complaint", "--stage", "contact", "--start", "2026-12-31T10:00:00+08:00"]
    with pytest.raises(CommandError):
        sla(*args)
    path = tmp_path / "2027.csv"  # made-up test data, not the State Council's schedule
    path.write_text("date,is_workday,name\n2027-01-01,0,元旦\n", encoding="utf-8")
    call_command("calendar", "import", str(path), stdout=io.StringIO())
    assert sla(*args) == "2027-01-04T10:00:00+08:00\n"


def test_cli_in_a_fresh_database(tmp_path):
    """The real console command against a freshly migrated SQLite database: exit codes and streams."""
    gridcare = Path(sys.executable).with_name("gridcare")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(GRIDCARE_VAR_DIR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE="gridcare.settings")

    def run(*args):
        return subprocess.run([str(gridcare), *args], env=env, capture_output=True, text=True, timeout=300)

    migrated = run("migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "var" / "gridcare.sqlite3").exists()

    ok = run("sla", "due", "--type", "complaint", "--stage", "contact", "--start", "2026-10-08T17:00:00+08:00")
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "2026-10-09T17:00:00+08:00\n", "")
    ok = run("sla", "due", "--type", "fault_repair", "--stage", "arrival", "--area", "rural",
             "--start", "2026-10-01T23:30:00+08:00")
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "2026-10-02T01:00:00+08:00\n", "")

    for args, message in [
        (["--type", "complaint", "--stage", "contact", "--start", "2027-01-04T09:00:00+08:00"],
         "2027年的节假日安排尚未录入，无法计算工作日时限"),
        (["--type", "fault_repair", "--stage", "arrival", "--start", "2026-10-01T23:30:00+08:00"], "请指定地区类型"),
        (["--type", "nope", "--stage", "contact", "--start", "2026-10-01T23:30:00+08:00"], "未知的工单类型"),
        (["--type", "complaint", "--stage", "contact", "--start", "not-a-time"], "无法识别"),
        (["--type", "complaint", "--stage", "contact", "--bogus", "1"], "参数错误：无法识别的参数"),
    ]:
        bad = run("sla", "due", *args)
        assert bad.returncode == 2, (args, bad.stderr)
        assert bad.stdout == ""
        assert message in bad.stderr and "Traceback" not in bad.stderr and "CommandError" not in bad.stderr

    csv = tmp_path / "2027.csv"  # made-up test data, not the State Council's schedule
    csv.write_text("date,is_workday,name\n2027-01-01,0,元旦\n", encoding="utf-8")
    imported = run("calendar", "import", str(csv))
    assert imported.returncode == 0, imported.stderr
    ok = run("sla", "due", "--type", "complaint", "--stage", "contact", "--start", "2027-01-04T09:00:00+08:00")
    assert (ok.returncode, ok.stdout) == (0, "2027-01-05T09:00:00+08:00\n")
