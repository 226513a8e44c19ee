"""Where outages plug into the rest of GridCare: a new fault-repair order is linked to the outage it
comes from (post_save on WorkOrder, created only — bulk imports and demo data do not fire it), the agent's
intake context, the customer timeline and the home page."""
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from gridcare.customers.timeline import register


def on_order_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw and instance.order_type == "fault_repair":
        from .services import link_call

        link_call(instance)


def agent_context(customer, ctx, now):
    from .services import context_hook

    context_hook(customer, ctx, now)


@register
def outage_entries(customer, limit):
    from gridcare.notifications.models import Delivery

    from .services import _local, outages_for
    from .models import Outage, OutageArea, OutageCustomer, OutageUpdate

    out = []
    ids = set(OutageArea.objects.filter(transformer_area_id=customer.transformer_area_id).values_list("outage_id", flat=True)[:limit])
    ids |= set(OutageCustomer.objects.filter(customer=customer).values_list("outage_id", flat=True)[:limit])
    outages = {o.pk: o for o in Outage.objects.filter(pk__in=ids).order_by("-start_at")[:limit]}
    for o in outages.values():
        detail = f"{_local(o.start_at)} 至 {_local(o.restored_at or o.end_at)} · {o.reason or o.get_state_display()}"
        out.append({"at": o.start_at, "kind": "停电", "title": f"{o.get_kind_display()} {o.outage_no}（{o.get_state_display()}）",
                    "detail": detail[:200], "url": reverse("outages:detail", args=[o.outage_no])})
    updates = {f"outage-update:{u.pk}": u for u in OutageUpdate.objects.filter(outage_id__in=list(outages))}
    for d in Delivery.objects.filter(customer=customer, event__key__in=list(updates)).select_related("event")[:limit]:
        u = updates[d.event.key]
        out.append({"at": u.at, "kind": "停电通知", "title": f"{u.get_kind_display()}（{d.get_status_display()}·{d.channel}）",
                    "detail": d.event.body[:200], "url": reverse("outages:detail", args=[outages[u.outage_id].outage_no])})
    return out


def home_cards(user):
    from gridcare.accounts.permissions import can, scoped

    from .models import Outage, WatchEntry

    if not can(user, "outage.view"):
        return []
    now = timezone.now()
    mine = scoped(Outage.objects.filter(state="open"), user)
    return [{"label": gettext("停电中"), "value": mine.filter(start_at__lte=now).count(), "css": ""},
            {"label": gettext("即将停电"), "value": mine.filter(start_at__gt=now).count(), "css": ""},
            {"label": gettext("频繁停电台区"), "value": scoped(WatchEntry.objects.filter(active=True, kind="taiqu"), user).count(),
             "css": "countdown-warn"}]


def _register_home():
    from gridcare.core.views import HOME_CARDS

    if home_cards not in HOME_CARDS:
        HOME_CARDS.append(home_cards)


_register_home()
