from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gridcare.accounts.models import OrgUnit
from gridcare.accounts.permissions import can, require, scope_path
from gridcare.core.api_support import DomainError
from gridcare.core.taxonomy import taxonomy
from gridcare.customers import services as customer_services

from gridcare.intelligence.services import annotate_risk

from . import services
from .choices import Channel, Satisfaction
from .workflow import STAGE_LABELS, workflow


def _taxonomy_ctx():
    tx = taxonomy()
    return {"order_types": tx["order_types"].items(), "fault_kinds": tx["fault_kinds"].items(),
            "categories": [(code, node["label"], node["children"].items())
                           for code, node in tx["complaint_categories"].items()],
            "channels": Channel.choices, "area_kinds": tx["area_kinds"].items()}


@login_required
def intake(request):
    require(request.user, "workorder.create")
    errors, data = {}, {}
    if request.method == "POST":
        data = {k: request.POST.get(k, "").strip() for k in services.INTAKE_FIELDS if k != "accepted_at"}
        data["close_now"] = bool(request.POST.get("close_now"))
        try:
            order, _ = services.do_create_order(request.user, data, request.POST.get("idempotency_key") or None)
            messages.success(request, f"工单 {order.order_no} 已受理")
            return redirect("workorders:detail", order_no=order.order_no)
        except DomainError as exc:
            errors = exc.errors
    import uuid

    return render(request, "workorders/intake.html", {**_taxonomy_ctx(), "errors": errors, "data": data,
                                                      "idempotency_key": uuid.uuid4().hex})


@login_required
def lookup(request):
    q = request.GET.get("q", "").strip()
    results = []
    if len(q) >= 2:
        for c in customer_services.search(request.user, q, 8):
            results.append(services.customer_context(request.user, c))
    return render(request, "workorders/_lookup.html", {"results": results, "q": q})


@login_required
def queue(request):
    require(request.user, "workorder.view")
    orders = annotate_risk(list(services.queue_for(request.user)[:200]))
    return render(request, "workorders/queue.html", {"orders": orders, "now": timezone.now()})


@login_required
def detail(request, order_no):
    order = services.get_order(request.user, order_no)
    wf = workflow(order.order_type)
    nxt = wf.next_stage(order.stage) if order.is_open else None
    earlier = [(s, STAGE_LABELS[s]) for s in wf.stages[: wf.stages.index(order.stage)]] if order.stage in wf.stages else []
    return render(request, "workorders/detail.html", {
        "pausable": services.clock_may_pause(order),
        "o": order, "events": order.events.all(), "next_stage": nxt, "next_label": STAGE_LABELS.get(nxt or "", ""),
        "earlier": earlier, "satisfactions": Satisfaction.choices, "stages": [(s, STAGE_LABELS[s]) for s in wf.stages],
        "can": {cap: can(request.user, f"workorder.{cap}") for cap in
                ("urge", "escalate", "visit", "merge", "reassign", "audit", "dispatch", "handle")},
        "repeat_calls": order.repeat_calls.all(), "merged_orders": order.merged_orders.all()})


@login_required
@require_POST
def action(request, order_no):
    p, user, kind = request.POST, request.user, request.POST.get("action")
    try:
        if kind == "advance":
            services.do_advance(user, order_no, p.get("to"), p.get("note", ""), p.get("reply", ""),
                                p.get("unit_code") or None, p.get("assignee") or None)
        elif kind == "reject":
            services.do_reject(user, order_no, p.get("to"), p.get("reason", ""))
        elif kind == "urge":
            services.do_urge(user, order_no, p.get("note", ""))
        elif kind == "escalate":
            services.do_escalate(user, order_no, int(p.get("level") or 0), p.get("reason", ""))
        elif kind == "visit":
            services.do_visit(user, order_no, p.get("satisfaction", ""), p.get("note", ""))
        elif kind == "reassign":
            services.do_reassign(user, order_no, p.get("unit_code") or None, p.get("assignee") or None, p.get("note", ""))
        elif kind == "merge":
            services.do_merge(user, order_no, p.get("into", ""))
        elif kind == "link":
            services.do_link_repeat(user, order_no, p.get("repeat_of", ""))
        elif kind == "suspend":
            services.do_suspend(user, order_no, p.get("reason", ""))
        elif kind == "resume":
            services.do_resume(user, order_no, p.get("note", ""))
        else:
            raise DomainError({"action": "未知操作"})
        messages.success(request, _("操作成功"))
    except DomainError as exc:
        messages.error(request, "；".join(exc.errors.values()))
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("无权执行该操作"))
    return redirect("workorders:detail", order_no=order_no)


@login_required
def dashboard(request):
    require(request.user, "workorder.view")
    code = request.GET.get("unit")
    unit = OrgUnit.objects.filter(code=code).first() if code else OrgUnit.objects.filter(path=scope_path(request.user)).first()
    if unit is None:
        unit = OrgUnit.objects.filter(parent__isnull=True).first()
    from gridcare.accounts.permissions import in_scope

    if not in_scope(request.user, unit):
        raise PermissionDenied("该单位不在您的管辖范围内")
    data = services.dashboard_data(unit, 50)
    return render(request, "workorders/dashboard.html", {"unit": unit, **data, "now": timezone.now()})
