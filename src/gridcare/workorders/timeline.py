"""Work orders on the customer's timeline and on the home page (the cards' labels and the timeline's kind in the
reader's language; the order type, category, stage and the caller's text are data and stay as they are)."""
from django.urls import reverse
from django.utils.translation import gettext, pgettext

from gridcare.customers.timeline import register

from .models import WorkOrder


@register(link_capability="workorder.view")
def order_entries(customer, limit):
    out = []
    for o in WorkOrder.objects.filter(customer=customer).order_by("-accepted_at")[:limit]:
        title = f"{o.get_order_type_display()} {o.order_no}"
        if o.category_l2:
            title += f"（{o.get_category_l2_display()}）"
        out.append({"at": o.accepted_at, "kind": pgettext("customer timeline", "工单"), "title": title,
                    "detail": f"{o.stage_label} · {o.text[:60]}", "url": reverse("workorders:detail", args=[o.order_no])})
    return out


def home_cards(user):
    from django.utils import timezone

    from gridcare.accounts.permissions import can, scoped

    if not can(user, "workorder.view"):
        return []
    now = timezone.now()
    mine = scoped(WorkOrder.objects.filter(status="open"), user)
    return [{"label": gettext("在途工单"), "value": mine.count(), "css": ""},
            {"label": gettext("即将超时"), "value": mine.filter(stage_warn_at__lte=now, stage_due_at__gt=now).count(),
             "css": "countdown-warn"},
            {"label": gettext("已超时"), "value": mine.filter(stage_due_at__lte=now).count(), "css": "countdown-over"}]


def _register_home():
    from gridcare.core.views import HOME_CARDS

    if home_cards not in HOME_CARDS:
        HOME_CARDS.append(home_cards)


_register_home()
