from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from gridcare.accounts.permissions import can

from . import services
from .timeline import timeline


@login_required
def search(request):
    q = request.GET.get("q", "").strip()
    results = list(services.search(request.user, q, 50)) if q else []
    if q and len(results) == 1 and request.GET.get("go"):
        from django.shortcuts import redirect

        return redirect("customers:detail", account_no=results[0].account_no)
    return render(request, "customers/search.html", {"q": q, "results": results})


@login_required
def detail(request, account_no):
    customer = services.get_for_user(request.user, account_no)
    ctx = {"c": customer, "invoice": getattr(customer, "invoice", None), "meters": customer.meters.all(),
           "timeline": timeline(customer, user=request.user), "can_edit": can(request.user, "customer.edit"),
           "audit": customer.audit_entries()[:20]}
    return render(request, "customers/detail.html", ctx)
