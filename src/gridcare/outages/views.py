"""Pages: the outage board (list and feeder/台区 tree), an outage's page (timeline, customers,
messages, calls, progress form), the planning form with the advance-notice check, the watch list."""
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from gridcare.accounts.permissions import can, require, scoped
from gridcare.core.api_support import DomainError
from gridcare.core.workcalendar import TZ

from . import labels, services
from .choices import Kind, ScopeKind
from .models import WatchEntry


def _dt(value: str):
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=TZ)
    return parsed


@login_required
def board(request):
    b = services.board(request.user)
    return render(request, "outages/board.html", {**b, "can_manage": can(request.user, "outage.manage")})


def _plan_data(post) -> dict:
    return {"kind": post.get("kind", ""), "scope_kind": post.get("scope_kind", ""),
            "feeder_code": post.get("feeder_code", "").strip(),
            "taiqu_codes": [c.strip() for c in post.get("taiqu_codes", "").replace("，", ",").split(",") if c.strip()],
            "account_nos": [c.strip() for c in post.get("account_nos", "").replace("，", ",").split(",") if c.strip()],
            "start_at": _dt(post.get("start_at", "")), "end_at": _dt(post.get("end_at", "")),
            "reason": post.get("reason", "").strip(), "title": post.get("title", "").strip(),
            "late_reason": post.get("late_reason", "").strip()}


@login_required
def plan(request):
    require(request.user, "outage.manage")
    errors, data = {}, {}
    if request.method == "POST":
        data = _plan_data(request.POST)
        try:
            outage = services.do_create_outage(request.user, data)
            messages.success(request, gettext("停电 %(outage_no)s 已发布，已通知 %(count)s 户客户") % {
                "outage_no": outage.outage_no, "count": outage.customers_affected})
            return redirect("outages:detail", outage_no=outage.outage_no)
        except DomainError as exc:
            errors = exc.errors
    return render(request, "outages/plan.html", {"errors": errors, "data": request.POST if request.method == "POST" else {},
                                                 "kinds": [(k, labels.kind_label(k)) for k in Kind.values],
                                                 "scopes": [(s, labels.scope_label(s)) for s in ScopeKind.values]})


@login_required
@require_POST
def plan_check(request):
    """htmx: the advance-notice check while the form is filled in."""
    require(request.user, "outage.manage")
    try:
        result = services.check_outage(request.user, _plan_data(request.POST))
        return render(request, "outages/_notice_check.html", {"notice": result["notice"], "plan": result,
                                                                "notice_message": labels.notice_message(result["notice"])})
    except DomainError as exc:
        return render(request, "outages/_notice_check.html", {"errors": exc.errors})


@login_required
def detail(request, outage_no):
    o = services.get_outage(request.user, outage_no)
    return render(request, "outages/detail.html", {
        "o": o, "updates": o.updates.all(), "customers": services.affected_list(o, limit=200),
        "still_out": services.affected_customers(o, still_out=True).count(),
        "areas": o.areas.select_related("transformer_area").order_by("transformer_area__code"),
        "summary": services.message_summary(o), "deliveries": services.messages_of(o, 100),
        "unreachable": services.unreachable_customers(o, 100),
        "calls": o.calls.select_related("work_order", "transformer_area").order_by("-at")[:100],
        "can_update": can(request.user, "outage.update") or can(request.user, "outage.manage"),
        "can_manage": can(request.user, "outage.manage"), "now": timezone.now()})


@login_required
@require_POST
def progress(request, outage_no):
    p = request.POST
    try:
        action = p.get("action", "progress")
        if action == "cancel":
            services.do_cancel(request.user, outage_no, p.get("note", ""))
            messages.success(request, gettext("已取消，取消通知已发出"))
        else:
            codes = [c.strip() for c in p.get("taiqu_codes", "").replace("，", ",").split(",") if c.strip()]
            services.do_progress(request.user, outage_no, p.get("kind", ""), p.get("note", ""),
                                 _dt(p.get("expected_at", "")), p.get("cause", ""), codes)
            messages.success(request, gettext("进展已登记并推送"))
    except DomainError as exc:
        messages.error(request, "；".join(exc.errors.values()))
    return redirect("outages:detail", outage_no=outage_no)


@login_required
def watchlist(request):
    require(request.user, "outage.view")
    entries = scoped(WatchEntry.objects.filter(active=True).select_related("transformer_area", "customer", "unit"),
                     request.user)
    return render(request, "outages/watchlist.html", {"taiqu": entries.filter(kind="taiqu")[:500],
                                                      "customers": entries.filter(kind="customer")[:500]})
