"""The customer timeline: every domain contributes entries (audit, orders, outages, bills…)."""
from django.core.exceptions import FieldDoesNotExist

from .models import Customer

TIMELINE_SOURCES = []


def _field_label(attname: str) -> str:
    """The Chinese name of a customer field from its audit key (`transformer_area_id` → 台区)."""
    try:
        return str(Customer._meta.get_field(attname.removesuffix("_id")).verbose_name)
    except FieldDoesNotExist:
        return attname


def register(fn):
    """`fn(customer, limit) -> list[dict(at, kind, title, detail, url)]`."""
    TIMELINE_SOURCES.append(fn)
    return fn


def timeline(customer, limit=50):
    entries = []
    for source in TIMELINE_SOURCES:
        entries.extend(source(customer, limit))
    entries.sort(key=lambda e: e["at"], reverse=True)
    return entries[:limit]


@register
def _audit_entries(customer, limit):
    out = []
    for log in customer.audit_entries()[:limit]:
        who = log.actor_username or {"demo": "演示数据", "import": "批量导入"}.get(log.source, log.source)
        if log.action == "update":
            fields = "、".join(_field_label(k) for k in log.changes if not k.startswith("_"))
            detail = f"{who}：修改 {fields}"
        else:
            detail = who
        out.append({"at": log.at, "kind": "档案", "title": f"{log.get_action_display()}客户档案",
                    "detail": detail[:200], "url": ""})
    return out
