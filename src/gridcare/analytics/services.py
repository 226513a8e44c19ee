"""Operations of the reports: checks (`check_…`, raise with Chinese messages) and the runs."""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from gridcare.accounts.permissions import require

from . import facts, reports, rules
from .models import ReportRun


def check_request(unit_code: str, date_from: str | dt.date | None, date_to: str | dt.date | None,
                  preset: str | None = None, today: dt.date | None = None):
    """(unit, period) of a report request, or PeriodError/UnknownUnit with the field at fault."""
    unit = reports.get_unit(unit_code)
    if preset:
        period = rules.preset_period(preset, today or timezone.localdate())
    else:
        if not date_from:
            raise rules.PeriodError("from", "请填写开始日期（--from YYYY-MM-DD）")
        if not date_to:
            raise rules.PeriodError("to", "请填写结束日期（--to YYYY-MM-DD）")
        start = date_from if isinstance(date_from, dt.date) else rules.parse_date(date_from, "from")
        end = date_to if isinstance(date_to, dt.date) else rules.parse_date(date_to, "to")
        period = rules.Period(start, end)
    return unit, period


def too_large_message(period: rules.Period) -> str:
    limit = rules.settings()["interactive_max_days"]
    return (f"时间段 {period.label()} 共 {period.days} 天，超过即时查询的上限 {limit} 天，"
            "报表已转为后台任务计算")


def complaint_report(user, unit, period: rules.Period, refresh: bool = True) -> dict:
    """The report for a user who may see `unit` (report.view in the unit's subtree). The facts are
    brought up to date first: completely from the command line, by a bounded step on a page (the
    task queue's refresh runs every minute; a page never waits for a large backlog)."""
    if user is not None:
        require(user, "report.view", unit)
        refresh_quietly()
    elif refresh:
        facts.refresh()
    return reports.complaint_report(unit, period)


def refresh_quietly(max_batches: int = 2) -> None:
    facts.refresh(batch_events=5000, max_batches=max_batches)


def do_start_run(user, unit, period: rules.Period, kind: str = "complaints") -> ReportRun:
    """Queues a background report; the task starts after commit."""
    if user is not None:
        require(user, "report.view", unit)
    run = ReportRun.objects.create(kind=kind, unit=unit, date_from=period.start, date_to=period.end,
                                   requested_by=user if user is not None and user.is_authenticated else None)

    def enqueue():
        from .tasks import report_run_task

        report_run_task.enqueue(run.pk)

    transaction.on_commit(enqueue)
    return run


def execute_run(run_id: int) -> dict:
    run = ReportRun.objects.select_related("unit").get(pk=run_id)
    if run.status == ReportRun.Status.DONE:
        return {"run": run.pk, "status": run.status}

    def progress(fraction, text):
        ReportRun.objects.filter(pk=run.pk).update(progress=int(10 + 90 * fraction), step=text[:100])

    ReportRun.objects.filter(pk=run.pk).update(status=ReportRun.Status.RUNNING, progress=1, step="更新统计数据")
    try:
        facts.refresh(progress=lambda f: ReportRun.objects.filter(pk=run.pk).update(progress=int(1 + 9 * f)))
        result = reports.complaint_report(run.unit, rules.Period(run.date_from, run.date_to), progress=progress)
    except Exception as exc:  # noqa: BLE001 - the run records why it failed
        ReportRun.objects.filter(pk=run.pk).update(status=ReportRun.Status.FAILED, error=str(exc)[:2000],
                                                   finished_at=timezone.now())
        raise
    ReportRun.objects.filter(pk=run.pk).update(status=ReportRun.Status.DONE, progress=100, step="完成",
                                               result=result, finished_at=timezone.now())
    return {"run": run.pk, "status": "done", "total": result["total"]}


def visible_run(user, run_id: int) -> ReportRun:
    from django.http import Http404

    run = ReportRun.objects.select_related("unit").filter(pk=run_id).first()
    if run is None:
        raise Http404("报表任务不存在")
    require(user, "report.view", run.unit)
    return run
