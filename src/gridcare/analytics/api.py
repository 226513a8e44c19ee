"""REST API of the reports: the complaint analysis as JSON (the same keys as the CLI, docs/reports.md),
background runs for periods too large to wait for, and the KPIs."""
from django.urls import reverse
from ninja import Router

from gridcare.core.api_support import DomainError

from . import kpis, rules, services
from .models import ReportRun

router = Router(tags=["统计分析"])


def _request(request, unit, date_from, date_to, preset):
    try:
        unit_obj, period = services.check_request(unit, date_from, date_to, preset)
    except rules.PeriodError as exc:
        raise DomainError({exc.field: exc.message}) from None
    return unit_obj, period


@router.get("/complaints", response={200: dict, 202: dict})
def complaint_report(request, unit: str, date_from: str | None = None, date_to: str | None = None,
                     preset: str | None = None):
    """投诉分析报告。参数 unit（单位编码）、date_from/date_to（YYYY-MM-DD，含）或 preset（month/quarter/year…）。
    时间段超过即时查询上限时转为后台任务，返回 202 和任务地址。"""
    unit_obj, period = _request(request, unit, date_from, date_to, preset)
    if not rules.check_interactive(period):
        run = services.do_start_run(request.user, unit_obj, period)
        return 202, _run_out(run, services.too_large_message(period))
    return 200, services.complaint_report(request.user, unit_obj, period)


def _run_out(run, message=""):
    return {"run": run.pk, "status": run.status, "progress": run.progress, "step": run.step, "message": message,
            "url": f"/api/analytics/runs/{run.pk}", "page": reverse("analytics:run", kwargs={"run_id": run.pk})}


@router.get("/runs/{run_id}", response=dict)
def report_run(request, run_id: int):
    """后台报表的状态与进度；完成后 result 为报告 JSON。"""
    run = services.visible_run(request.user, run_id)
    out = _run_out(run)
    if run.status == ReportRun.Status.DONE:
        out["result"] = run.result
    if run.error:
        out["error"] = run.error
    return out


@router.get("/kpis", response=list[dict])
def kpi_list(request, unit: str, by: str = "unit", date_from: str | None = None, date_to: str | None = None,
             preset: str | None = None):
    """单位（by=unit）或人员（by=agent）绩效：工单数、各环节按时率、回退、质检问题、满意率、投诉数。"""
    from gridcare.accounts.permissions import require

    unit_obj, period = _request(request, unit, date_from, date_to, preset or (None if date_from else "month"))
    require(request.user, "report.view", unit_obj)
    services.refresh_quietly()
    return kpis.agent_kpis(unit_obj, period) if by == "agent" else kpis.unit_kpis(unit_obj, period)
