"""The sweep scheduler keeps when each periodic task was last enqueued in the database: a new
installation enqueues everything at once, a restart carries on (a weekly scan is neither repeated nor
put off), a due run is enqueued once even by two schedulers, and a failed enqueue stays due. The tasks
go on the real database queue and the real worker runs them."""
import threading
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from gridcare.core import scheduler
from gridcare.core.models import ScheduledRun

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKLY = ("workorders.sensitive_scan", 7 * 24 * 3600, "gridcare.workorders.tasks.sensitive_scan_task", "02:30", 0)
REMINDERS = ("billing.reminders", 24 * 3600, "gridcare.billing.tasks.reminders_task", "09:00", None, 10 * 3600)
MINUTELY = ("workorders.sla_sweep", 60, "gridcare.workorders.tasks.sla_sweep_task")


def local(*args):
    return datetime(*args, tzinfo=SHANGHAI)


def queued(path_end):
    return DBTaskResult.objects.filter(task_path__endswith=path_end).count()


def ran(entries, now):
    return [name for name, _id in scheduler.run_due(now, entries=entries)]


@pytest.mark.django_db
def test_every_registered_task_is_enqueued_on_a_new_installation_and_not_again_at_once():
    now = local(2026, 12, 2, 10, 0)  # a Wednesday morning: every timed task is inside its window
    first = scheduler.run_due(now)
    names = [e.name for e in scheduler.SCHEDULE]
    assert sorted(n for n, _id in first) == sorted(names) and len(names) >= 10
    assert DBTaskResult.objects.count() == len(names)
    with CaptureQueriesContext(connection) as sql:
        assert scheduler.run_due(now + timedelta(seconds=5)) == []
    # nothing due: one SELECT, no write (SQLite's single writer is not taken every few seconds)
    assert [q["sql"].split()[0] for q in sql.captured_queries] == ["SELECT"]
    assert set(ScheduledRun.objects.values_list("last_enqueued_at", flat=True)) == {now}
    # ten seconds on, only the 10-second intelligence sweep is due
    assert [n for n, _id in scheduler.run_due(now + timedelta(seconds=10))] == ["intelligence.after_intake"]


@pytest.mark.django_db
def test_the_weekly_scan_runs_once_a_week_on_monday_night_whatever_the_restarts():
    assert ran([WEEKLY], local(2026, 12, 2, 15, 0)) == ["workorders.sensitive_scan"]  # new installation: at once
    # "restarts" are new passes over the same database: not again this week, however often
    assert ran([WEEKLY], local(2026, 12, 2, 16, 0)) == []
    assert ran([WEEKLY], local(2026, 12, 7, 2, 29)) == []
    # Monday 02:30: due, although no scheduler has been up for a week; once
    assert ran([WEEKLY], local(2026, 12, 7, 2, 30)) == ["workorders.sensitive_scan"]
    assert ran([WEEKLY], local(2026, 12, 7, 9, 0)) == []
    # the scheduler down all Monday night: the scan is made up on Thursday
    assert ran([WEEKLY], local(2026, 12, 17, 11, 0)) == ["workorders.sensitive_scan"]
    assert queued("sensitive_scan_task") == 3
    run = ScheduledRun.objects.get(name="workorders.sensitive_scan")
    assert run.last_enqueued_at == local(2026, 12, 17, 11, 0)
    assert run.last_task_id == str(DBTaskResult.objects.filter(task_path__endswith="sensitive_scan_task")
                                   .order_by("-enqueued_at").first().id)


@pytest.mark.django_db
def test_customer_reminders_go_out_by_day_only():
    assert ran([REMINDERS], local(2026, 12, 3, 3, 0)) == []        # installed at 3 a.m.: no SMS at night
    assert ran([REMINDERS], local(2026, 12, 3, 9, 0)) == ["billing.reminders"]
    assert ran([REMINDERS], local(2026, 12, 3, 18, 0)) == []       # once a day
    # the scheduler down at nine the next day: made up in the afternoon, not after 19:00
    assert ran([REMINDERS], local(2026, 12, 4, 15, 30)) == ["billing.reminders"]
    assert ran([REMINDERS], local(2026, 12, 5, 19, 0)) == []
    assert ran([REMINDERS], local(2026, 12, 5, 23, 59)) == []
    assert ran([REMINDERS], local(2026, 12, 6, 9, 1)) == ["billing.reminders"]


@pytest.mark.django_db
def test_an_interval_task_is_due_its_interval_after_the_last_run():
    t0 = timezone.now()
    assert ran([MINUTELY], t0) == ["workorders.sla_sweep"]
    assert ran([MINUTELY], t0 + timedelta(seconds=59)) == []
    assert ran([MINUTELY], t0 + timedelta(seconds=60)) == ["workorders.sla_sweep"]


@pytest.mark.parametrize("kwargs, message", [
    ({"every_seconds": 3600, "at": "09:00"}, "只用于每天或每周"),
    ({"every_seconds": 86400, "at": "25:00"}, "HH:MM"),
    ({"every_seconds": 86400, "at": "9 点"}, "HH:MM"),
    ({"every_seconds": 7 * 86400, "at": "02:00"}, "weekday"),
    ({"every_seconds": 86400, "at": "02:00", "weekday": 1}, "weekday"),
])
def test_a_wrong_timed_entry_is_refused_at_registration(kwargs, message, monkeypatch):
    monkeypatch.setattr(scheduler, "SCHEDULE", [])
    every = kwargs.pop("every_seconds")
    with pytest.raises(ValueError, match=message):
        scheduler.register("x", every, "gridcare.workorders.tasks.sla_sweep_task", **kwargs)
    assert scheduler.SCHEDULE == []


@pytest.mark.django_db
def test_a_clock_set_back_does_not_stop_a_task_for_good():
    later = timezone.now() + timedelta(days=3)
    scheduler.run_due(later, entries=[MINUTELY])
    # the clock is corrected three days back: the run stamped "in the future" does not block the sweep
    assert [n for n, _id in scheduler.run_due(timezone.now(), entries=[MINUTELY])] == ["workorders.sla_sweep"]


@pytest.mark.django_db
def test_a_failed_enqueue_stays_due_and_does_not_stop_the_others():
    broken = ("broken.entry", 60, "gridcare.core.tasks_that_do_not_exist.task")
    now = timezone.now()
    done = scheduler.run_due(now, entries=[broken, MINUTELY])
    assert [n for n, _id in done] == ["workorders.sla_sweep"]
    assert ScheduledRun.objects.get(name="broken.entry").last_enqueued_at is None  # the claim was rolled back
    assert ScheduledRun.objects.get(name="workorders.sla_sweep").last_enqueued_at == now


@pytest.mark.django_db(transaction=True)
def test_enqueued_sweep_runs_on_the_real_worker():
    scheduler.run_due(timezone.now(), entries=[MINUTELY])
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    assert DBTaskResult.objects.get(task_path__endswith="sla_sweep_task").status == "SUCCESSFUL"


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_enqueue_a_due_run_once():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL; SQLite serialises them")
    now = timezone.now()
    ScheduledRun.objects.create(name=WEEKLY[0], last_enqueued_at=now - timedelta(days=8))
    barrier, got, errors = threading.Barrier(4), [], []

    def one():
        try:
            barrier.wait()
            got.extend(scheduler.run_due(now, entries=[WEEKLY, MINUTELY]))
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(n for n, _id in got) == ["workorders.sensitive_scan", "workorders.sla_sweep"]
    assert queued("sensitive_scan_task") == 1 and queued("sla_sweep_task") == 1


@pytest.mark.django_db
def test_scheduler_command_lists_last_runs_and_once_records_them():
    out = StringIO()
    call_command("scheduler", "--list", stdout=out)
    assert "workorders.sensitive_scan\t每周一 02:30\t上次投递 从未投递" in out.getvalue()
    assert "workorders.sla_sweep\t每60秒\t上次投递 从未投递" in out.getvalue()
    call_command("scheduler", "--once", stdout=StringIO())
    assert DBTaskResult.objects.count() == len(scheduler.SCHEDULE)
    out = StringIO()
    call_command("scheduler", "--list", stdout=out)
    assert "从未投递" not in out.getvalue()
    # the runs --once made count: the next pass finds nothing due
    assert scheduler.run_due() == []


@pytest.mark.django_db
def test_admin_changes_a_task_but_not_its_history(world, client):
    scheduler.run_due(local(2026, 12, 2, 15, 0), entries=[WEEKLY])
    client.force_login(world.admin)
    ScheduledRun.objects.filter(name="billing.reminders").delete()
    page = client.get("/admin/core/scheduledrun/")
    text = page.content.decode()
    assert page.status_code == 200 and "workorders.sensitive_scan" in text and "每周一 02:30" in text
    assert "billing.reminders" in text  # listed although the scheduler never ran it: it can be changed first
    assert client.get("/admin/core/scheduledrun/add/").status_code == 403
    url = "/admin/core/scheduledrun/workorders.sensitive_scan/change/"
    # a wrong time: a field error, nothing stored
    bad = client.post(url, {"enabled": "on", "at": "25:00", "every_seconds": ""})
    assert bad.status_code == 200 and "执行时间须为 HH:MM" in bad.content.decode()
    bad = client.post(url, {"enabled": "on", "at": "", "every_seconds": "600"})
    assert "不能设间隔" in bad.content.decode()
    assert ScheduledRun.objects.get(name=WEEKLY[0]).at == ""
    # a good change; the last run is not the form's to set
    ok = client.post(url, {"enabled": "on", "at": "04:00", "every_seconds": "",
                           "last_enqueued_at_0": "2020-01-01", "last_enqueued_at_1": "00:00:00"})
    assert ok.status_code == 302
    run = ScheduledRun.objects.get(name=WEEKLY[0])
    assert run.at == "04:00" and run.changed_by == world.admin.username and run.changed_at is not None
    assert run.last_enqueued_at == local(2026, 12, 2, 15, 0)
    assert ran([WEEKLY], local(2026, 12, 7, 2, 30)) == []            # not at the old time any more
    assert ran([WEEKLY], local(2026, 12, 7, 4, 0)) == ["workorders.sensitive_scan"]
    assert client.post("/admin/core/scheduledrun/workorders.sensitive_scan/delete/", {"post": "yes"}).status_code == 403


@pytest.mark.django_db
def test_an_operator_moves_disables_and_resets_a_task_from_the_command_line():
    scheduler.run_due(local(2026, 12, 3, 9, 0), entries=[REMINDERS, MINUTELY])
    out = StringIO()
    call_command("scheduler", "--set", "billing.reminders", "--at", "10:30", stdout=out)
    assert "每天 10:30" in out.getvalue()
    assert ran([REMINDERS], local(2026, 12, 4, 9, 0)) == []          # 09:00 no longer
    assert ran([REMINDERS], local(2026, 12, 4, 10, 30)) == ["billing.reminders"]
    call_command("scheduler", "--set", "workorders.sla_sweep", "--every", "300", stdout=StringIO())
    t0 = ScheduledRun.objects.get(name="workorders.sla_sweep").last_enqueued_at
    assert ran([MINUTELY], t0 + timedelta(seconds=60)) == []
    assert ran([MINUTELY], t0 + timedelta(seconds=300)) == ["workorders.sla_sweep"]
    out = StringIO()
    call_command("scheduler", "--list", stdout=out)
    assert "billing.reminders\t每天 10:30（已修改，默认每天 09:00）" in out.getvalue()
    assert "workorders.sla_sweep\t每300秒（已修改，默认每60秒）" in out.getvalue()
    # off: never due, and --once leaves it out
    call_command("scheduler", "--set", "billing.reminders", "--disable", stdout=StringIO())
    assert ran([REMINDERS], local(2026, 12, 5, 10, 30)) == []
    before = queued("reminders_task")
    out = StringIO()
    call_command("scheduler", "--once", stdout=out)
    assert "已停用，未投递 billing.reminders" in out.getvalue()
    assert queued("reminders_task") == before and queued("sla_sweep_task") == 3
    call_command("scheduler", "--set", "billing.reminders", "--reset", stdout=StringIO())
    run = ScheduledRun.objects.get(name="billing.reminders")
    assert (run.enabled, run.at, run.every_seconds) == (True, "", None) and run.changed_by.startswith("命令行")


@pytest.mark.django_db
@pytest.mark.parametrize("args, message", [
    (["--set", "no.such.task", "--disable"], "没有名为 no.such.task 的定时任务"),
    (["--set", "billing.reminders", "--at", "9:00"], "执行时间须为 HH:MM"),
    (["--set", "billing.reminders", "--every", "600"], "不能设间隔"),
    (["--set", "workorders.sla_sweep", "--at", "09:00"], "不能设执行时间"),
    (["--set", "workorders.sla_sweep", "--every", "2"], "间隔不能少于10秒"),
    (["--set", "workorders.sla_sweep", "--every", "abc"], "须为整数秒"),
    (["--set", "workorders.sla_sweep"], "须配合"),
    (["--at", "10:00"], "须与 --set"),
    (["--set", "workorders.sla_sweep", "--disable", "--enable"], "不能同时使用"),
])
def test_a_wrong_change_is_refused_and_changes_nothing(args, message):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=message):
        call_command("scheduler", *args, stdout=StringIO())
    assert not ScheduledRun.objects.exclude(enabled=True, at="", every_seconds=None).exists()
