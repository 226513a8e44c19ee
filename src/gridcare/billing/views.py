from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from gridcare.accounts.permissions import require

from . import labels, services
from .models import Bill


@login_required
def arrears(request):
    """The arrears and disconnection board, with the reconnection clock the dispatch centre watches."""
    require(request.user, "billing.view")
    data = services.board(request.user)
    for c in data["cases"]:
        c.blockers = [labels.cut_condition(b) for b in c.blockers]
    return render(request, "billing/arrears.html", data)


@login_required
def bill(request, bill_no):
    """A bill the customer can understand: what was used, what each line is, what to pay by when."""
    b = get_object_or_404(Bill.objects.select_related("customer", "unit", "rebill_of"), bill_no=bill_no)
    require(request.user, "billing.view", b.unit)
    reminders = [{**r, "kind_label": labels.reminder_kind(r["kind_label"])} for r in services.reminders_of(b)]
    return render(request, "billing/bill.html", {"bill": b, "allocations": b.allocations.select_related("payment"),
                                                 "reminders": reminders})
