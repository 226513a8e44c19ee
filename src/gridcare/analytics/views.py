import json
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from gridcare.accounts.models import OrgUnit
from gridcare.accounts.permissions import require, scope_path

from . import display, exports, kpis, rules, services
from .reports import UnknownUnit


def scope_units(user):
    """The units a user may report on (their subtree), shallowest first."""
    prefix = scope_path(user)
    if prefix is None:
        return OrgUnit.objects.none()
    qs = OrgUnit.objects.exclude(kind__in=["hall", "team", "service_center"]).order_by("path")
    return qs if prefix == "/" else qs.filter(path__startswith=prefix)


def default_unit(user):
    return scope_units(user).first()


def _unit_and_period(request, default_preset="month"):
    """(unit, period, errors) from the query string: unit=CODE, preset=… or from=…&to=…"""
    user = request.user
    code = request.GET.get("unit") or (default_unit(user).code if default_unit(user) else "")
    preset = request.GET.get("preset") or ("" if request.GET.get("from") else default_preset)
    try:
        unit, period = services.check_request(code, request.GET.get("from"), request.GET.get("to"), preset or None)
    except UnknownUnit as exc:
        return None, None, {exc.field: exc.message}
    except rules.PeriodError as exc:
        return default_unit(user), None, {exc.field: exc.message}
    require(user, "report.view", unit)
    return unit, period, {}


def _download(content, filename, content_type):
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename=\"report.{filename.rsplit('.', 1)[-1]}\"; " \
                                      f"filename*=UTF-8''{quote(filename)}"
    return response


def _respond_with_report(request, report, fmt, template_ctx):
    name = f"投诉分析报告-{report['unit']['code']}-{report['from']}-{report['to']}"
    if fmt == "xlsx":
        from gridcare.core.exports import XLSX_CONTENT_TYPE

        return _download(exports.xlsx_bytes(report), f"{name}.xlsx", XLSX_CONTENT_TYPE)
    if fmt == "json":
        return _download(exports.json_text(report), f"{name}.json", "application/json; charset=utf-8")
    if fmt == "print":
        # the printable page follows the reader's language; the file `gridcare report` writes stays Chinese
        return HttpResponse(render_to_string("analytics/report_print.html", {
            "r": report, "sections": display.page_sections(exports.sections(report)), "standalone": True}))
    return render(request, "analytics/complaints.html", {**template_ctx, "r": report,
                                                         "sections": display.page_sections(exports.sections(report)),
                                                         "chart_labels": display.chart_labels(),
                                                         "chart_data": json.dumps(_chart_data(report),
                                                                                  ensure_ascii=False)})


@login_required
def complaints(request):
    require(request.user, "report.view")
    unit, period, errors = _unit_and_period(request)
    ctx = {"units": scope_units(request.user), "unit": unit, "period": period, "errors": errors,
           "presets": rules.PRESETS.items(), "preset": request.GET.get("preset", ""),
           "query": request.GET.urlencode()}
    if errors:
        return render(request, "analytics/complaints.html", ctx, status=400)
    if not rules.check_interactive(period):
        run = services.do_start_run(request.user, unit, period)
        return redirect("analytics:run", run_id=run.pk)
    report = services.complaint_report(request.user, unit, period)
    return _respond_with_report(request, report, request.GET.get("format", "page"), ctx)


@login_required
def run_status(request, run_id):
    run = services.visible_run(request.user, run_id)
    fmt = request.GET.get("format")
    if fmt and run.status == run.Status.DONE:
        return _respond_with_report(request, run.result, fmt, {"units": scope_units(request.user), "unit": run.unit})
    template = "analytics/_run_progress.html" if request.headers.get("HX-Request") else "analytics/run.html"
    return render(request, template, {"run": run, "message": _too_large_message(rules.Period(run.date_from, run.date_to))})


def _too_large_message(period):
    """services.too_large_message in the page's language (same Chinese text by default)."""
    return _("时间段 %(period)s 共 %(days)s 天，超过即时查询的上限 %(limit)s 天，报表已转为后台任务计算") % {
        "period": _("%(start)s 至 %(end)s") % {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "days": period.days, "limit": rules.settings()["interactive_max_days"]}


def _chart_data(r):
    return {
        "l1": [{"name": v["label"], "value": v["count"]} for v in r["by_category_l1"].values()],
        "l2": sorted([[v["label"], v["count"]] for v in r["by_category_l2"].values() if v["count"]],
                     key=lambda x: x[1]),
        "hours": r["by_hour"], "peaks": r["load_peaks"]["hours"], "weekdays": r["by_weekday"],
        "areas": [{"name": v["label"], "value": v["count"]} for v in r["by_area_kind"].values()],
        "stages": [[v["label"], v["median_minutes"] or 0, v["p90_minutes"] or 0, v["overdue"]]
                   for v in r["stage_durations"].values()],
        "compare": [[_("上期"), r["comparison"]["previous"]["total"]],
                    [_("去年同期"), r["comparison"]["same_period_last_year"]["total"]], [_("本期"), r["total"]]],
    }


@login_required
def dashboard(request):
    require(request.user, "report.view")
    unit = default_unit(request.user)
    if request.GET.get("unit"):
        unit = OrgUnit.objects.filter(code=request.GET["unit"]).first() or unit
    if unit is None:
        raise PermissionDenied
    require(request.user, "report.view", unit)
    services.refresh_quietly()
    d = kpis.supervisor_dashboard(request.user, unit)
    d = {**d, "month_label": display.cell(d["month_label"])}            # "2026-03-01 至 2026-03-31"
    return render(request, "analytics/dashboard.html", {"d": d, "unit": unit, "units": scope_units(request.user),
                                                        "chart_labels": display.chart_labels(),
                                                        "chart_data": json.dumps({
                                                            "overdue": d["overdue_by_unit"],
                                                            "days": d["complaints_by_day"]}, ensure_ascii=False)})


@login_required
def live(request):
    require(request.user, "report.view")
    unit = default_unit(request.user)
    if unit is None:
        raise PermissionDenied
    b = kpis.live_board(unit)
    template = "analytics/_live_body.html" if request.headers.get("HX-Request") else "analytics/live.html"
    return render(request, template, {"b": b, "unit": unit, "chart_labels": display.chart_labels(), "chart_data": json.dumps(
        {"hours": b["per_hour"], "stages": [[s["label"], s["n"]] for s in b["by_stage"]]}, ensure_ascii=False)})


@login_required
def ranking(request):
    require(request.user, "report.view")
    unit, period, errors = _unit_and_period(request)
    if errors:
        return render(request, "analytics/ranking.html", {"errors": errors, "units": scope_units(request.user),
                                                          "presets": rules.PRESETS.items()}, status=400)
    services.refresh_quietly()
    by = request.GET.get("by", "unit")
    rows = kpis.agent_kpis(unit, period) if by == "agent" else kpis.unit_kpis(unit, period)
    if request.GET.get("format") == "xlsx":
        from gridcare.core.exports import XLSX_CONTENT_TYPE

        return _download(exports.kpi_xlsx(rows, by, unit, period), f"绩效-{unit.code}-{period.start}-{period.end}.xlsx",
                         XLSX_CONTENT_TYPE)
    return render(request, "analytics/ranking.html", {
        "rows": rows, "by": by, "unit": unit, "period": period, "units": scope_units(request.user),
        "chart_labels": display.chart_labels(),
        "presets": rules.PRESETS.items(), "query": request.GET.urlencode(),
        "chart_data": json.dumps([[r["name"], round(100 * (r["on_time_rate"] or 0), 1), r["complaints"]]
                                  for r in rows[:30]], ensure_ascii=False)})

