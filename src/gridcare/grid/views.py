from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import get_object_or_404, render

from gridcare.accounts.permissions import require, scoped

from .models import Feeder, TransformerArea


@login_required
def tree(request):
    require(request.user, "grid.view")
    feeders = scoped(Feeder.objects.select_related("substation", "unit"), request.user).annotate(
        taiqu_count=Count("transformer_areas")).order_by("substation__code", "code")
    return render(request, "grid/tree.html", {"feeders": feeders})


@login_required
def taiqu_detail(request, code):
    t = get_object_or_404(TransformerArea.objects.select_related("feeder__substation", "unit", "manager"), code=code)
    require(request.user, "grid.view", t.unit)
    customers = t.customers.order_by("account_no")[:200]
    return render(request, "grid/taiqu.html", {"t": t, "customers": customers, "count": t.customers.count()})
