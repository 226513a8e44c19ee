"""The customer timeline: every domain contributes entries (audit, orders, outages, bills…)."""
TIMELINE_SOURCES = []


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
        fields = ", ".join(k for k in log.changes if not k.startswith("_"))
        out.append({"at": log.at, "kind": "档案", "title": f"{log.get_action_display()}客户档案",
                    "detail": f"{log.actor_username or log.source}: {fields}"[:200], "url": ""})
    return out
