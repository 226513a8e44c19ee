"""The home page's card for those who read reports: complaints this month against last month (counted
on the order table's (order_type, accepted_at) index, so it is current without waiting for the facts)."""
from django.utils import timezone
from django.utils.translation import gettext


def home_cards(user):
    from gridcare.accounts.permissions import can, scoped
    from gridcare.workorders.models import WorkOrder

    from . import rules

    if not can(user, "report.view"):
        return []
    today = timezone.localdate()
    complaints = scoped(WorkOrder.objects.filter(order_type="complaint").exclude(status="merged"), user)
    counts = []
    for preset in ("month", "last_month"):
        p = rules.preset_period(preset, today)
        counts.append(complaints.filter(accepted_at__gte=p.start_at, accepted_at__lt=p.end_at).count())
    return [{"label": gettext("本月投诉（上月）"),
             "value": gettext("%(this_month)s（%(last_month)s）") % {"this_month": counts[0], "last_month": counts[1]},
             "css": ""}]


def register():
    from gridcare.core.views import HOME_CARDS

    if home_cards not in HOME_CARDS:
        HOME_CARDS.append(home_cards)
