from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gridcare.accounts.permissions import can, require, scoped
from gridcare.core.api_support import DomainError

from . import services
from .models import ExceptionStatus, ReadException, ReadingRoute, Resolution
from .rules import RULE_LABELS


@login_required
def routes(request):
    """The reader's route page: my routes (抄表段) with reading day and workload, and the exceptions to resolve."""
    require(request.user, "metering.read") if not can(request.user, "billing.view") else None
    qs = scoped(ReadingRoute.objects.select_related("reader", "unit").prefetch_related("transformer_areas"),
                request.user)
    if request.user.role == "reader":
        qs = qs.filter(reader=request.user)
    exc = (scoped(ReadException.objects.filter(status=ExceptionStatus.OPEN).select_related("customer", "meter", "read"),
                  request.user).order_by("-created_at")[:100])
    return render(request, "metering/routes.html", {"routes": services.route_workload(qs[:200]), "exceptions": exc,
                                                    "labels": RULE_LABELS, "resolutions": Resolution.choices})


@login_required
def exceptions(request):
    """The billing clerk's exception queue: every open VEE finding in scope, by rule."""
    require(request.user, "billing.view")
    rule = request.GET.get("rule", "")
    qs = scoped(ReadException.objects.filter(status=ExceptionStatus.OPEN).select_related("customer", "meter", "read"),
                request.user)
    if rule:
        qs = qs.filter(rule=rule)
    return render(request, "metering/exceptions.html", {"exceptions": qs.order_by("period", "customer_id")[:300],
                                                        "labels": RULE_LABELS, "rule": rule,
                                                        "resolutions": Resolution.choices})


@login_required
@require_POST
def resolve(request, pk):
    exc = get_object_or_404(ReadException.objects.select_related("unit", "read"), pk=pk)
    try:
        services.do_resolve(request.user, exc, request.POST.get("resolution", ""), request.POST.get("reason", ""),
                            request.POST.get("estimate_kwh") or None)
        messages.success(request, _("异常已处理"))
    except DomainError as e:   # the service's reasons, as the API gives them (Chinese)
        messages.error(request, "；".join(e.errors.values()))
    return redirect(request.POST.get("next") or "metering:routes")
