from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from . import classifier, services


@login_required
def accuracy(request):
    """A small report: suggestion accuracy against the agents' final categories, and open flags."""
    report = services.accuracy_report(request.user)
    from gridcare.accounts.permissions import scoped

    from .models import CategoryFlag

    flags = scoped(CategoryFlag.objects.filter(status="open"), request.user, "order__unit").select_related("order")[:50]
    meta = classifier.get_classifier().meta
    return render(request, "intelligence/accuracy.html", {"r": report, "flags": flags, "meta": meta})
