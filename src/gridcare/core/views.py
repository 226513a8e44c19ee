from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from gridcare.accounts.permissions import can, scope_path, scoped
from gridcare.customers.models import Customer

from .models import AuditLog


@login_required
def home(request):
    user = request.user
    stats = {"customers": scoped(Customer.objects.all(), user).count()}
    cards = []
    for provider in HOME_CARDS:
        cards.extend(provider(user))
    return render(request, "core/home.html", {"stats": stats, "scope": scope_path(user), "cards": cards})


HOME_CARDS = []  # functions(user) -> [{"label", "value", "css"}]; each capability adds its own


@login_required
def audit_list(request):
    if not can(request.user, "audit.view"):
        raise PermissionDenied
    logs = AuditLog.objects.select_related("content_type")[:200]
    return render(request, "core/audit.html", {"logs": logs})


def healthz(request):
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})
