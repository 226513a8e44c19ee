"""Where outages plug into the rest of GridCare: a new fault-repair order is linked to the outage it
comes from (post_save on WorkOrder, created only — bulk imports and demo data do not fire it), the agent's
intake context, the customer timeline and the home page (their labels in the reader's language; a notice's
text is the message as sent and an outage's reason is data: both stay as they are)."""
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext

from gridcare.customers.timeline import register


def on_order_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw and instance.order_type == "fault_repair":
        from .services import link_call

        link_call(instance)


def agent_context(customer, ctx, now):
    from .services import context_hook

    context_hook(customer, ctx, now)


@register(link_capability="outage.view")
def outage_entries(customer, limit):
    from gridcare.notifications.models import Delivery

    from . import labels
    from .services import _local
    from .models import Outage, OutageArea, OutageCustomer, OutageUpdate

    out = []
    ids = set(OutageArea.objects.filter(transformer_area_id=customer.transformer_area_id).values_list("outage_id", flat=True)[:limit])
    ids |= set(OutageCustomer.objects.filter(customer=customer).values_list("outage_id", flat=True)[:limit])
    outages = {o.pk: o for o in Outage.objects.filter(pk__in=ids).order_by("-start_at")[:limit]}
    for o in outages.values():
        end = o.restored_at or o.end_at
        detail = gettext("%(start)s 至 %(end)s") % {"start": _local(o.start_at), "end": _local(end) if end else gettext("待定")}
        detail += f" · {o.reason or labels.state_label(o.state)}"
        title = gettext("%(kind)s %(outage_no)s（%(state)s）") % {
            "kind": labels.kind_label(o.kind), "outage_no": o.outage_no, "state": labels.state_label(o.state)}
        out.append({"at": o.start_at, "kind": pgettext("customer timeline", "停电"), "title": title,
                    "detail": detail[:200], "url": reverse("outages:detail", args=[o.outage_no])})
    updates = {f"outage-update:{u.pk}": u for u in OutageUpdate.objects.filter(outage_id__in=list(outages))}
    for d in Delivery.objects.filter(customer=customer, event__key__in=list(updates)).select_related("event")[:limit]:
        u = updates[d.event.key]
        title = gettext("%(update)s（%(status)s·%(channel)s）") % {
            "update": labels.update_label(u.kind), "status": gettext(d.get_status_display()), "channel": d.channel}
        out.append({"at": u.at, "kind": gettext("停电通知"), "title": title,
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
