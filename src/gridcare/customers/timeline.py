"""The customer timeline: every domain contributes entries (audit, orders, outages, bills…), each with its
labels in the reader's language (the texts of data — names, a message as sent — stay as they are)."""
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext, pgettext

from . import labels

from .models import Customer

TIMELINE_SOURCES = []


def _field_label(attname: str) -> str:
    """The name of a customer field from its audit key (`transformer_area_id` → 台区), in the reader's language."""
    try:
        return gettext(str(Customer._meta.get_field(attname.removesuffix("_id")).verbose_name))
    except FieldDoesNotExist:
        return attname


LINK_CAPABILITY = {}  # source -> the capability its entries' pages need


def register(fn=None, *, link_capability: str | None = None):
    """`fn(customer, limit) -> list[dict(at, kind, title, detail, url)]`; `link_capability` is what the
    pages its entries link to require (a reader without it sees the entry without the link)."""
    def add(source):
        TIMELINE_SOURCES.append(source)
        if link_capability:
            LINK_CAPABILITY[source] = link_capability
        return source

    return add(fn) if fn is not None else add


def timeline(customer, limit=50, user=None):
    from gridcare.accounts.permissions import can

    entries = []
    for source in TIMELINE_SOURCES:
        rows = source(customer, limit)
        needed = LINK_CAPABILITY.get(source)
        if user is not None and needed and not can(user, needed):
            rows = [{**row, "url": ""} for row in rows]
        entries.extend(rows)
    entries.sort(key=lambda e: e["at"], reverse=True)
    return entries[:limit]


@register
def _audit_entries(customer, limit):
    out = []
    for log in customer.audit_entries()[:limit]:
        who = log.actor_username or labels.audit_source(log.source)
        if log.action == "update":
            fields = pgettext("list separator", "、").join(_field_label(k) for k in log.changes if not k.startswith("_"))
            detail = gettext("%(who)s：修改 %(fields)s") % {"who": who, "fields": fields}
        else:
            detail = who
        out.append({"at": log.at, "kind": pgettext("customer timeline", "档案"),
                    "title": labels.audit_title(log.action, log.get_action_display()),
                    "detail": detail[:200], "url": ""})
    return out
