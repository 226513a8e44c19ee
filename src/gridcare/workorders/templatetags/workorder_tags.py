from django import template
from django.utils import timezone

register = template.Library()


@register.inclusion_tag("workorders/_countdown.html")
def countdown(order, now=None):
    """Remaining time of the running stage, coloured: green, orange once the warning time has
    passed, red when overdue. The page's script keeps it ticking."""
    now = now or timezone.now()
    if not order.stage_due_at:
        return {"css": "text-muted", "text": "—", "due": ""}
    secs = int((order.stage_due_at - now).total_seconds())
    css = "countdown-over" if secs <= 0 else ("countdown-warn" if order.stage_warn_at and order.stage_warn_at <= now
                                             else "countdown-ok")
    return {"css": css, "text": fmt(secs), "due": order.stage_due_at.isoformat(),
            "warn": order.stage_warn_at.isoformat() if order.stage_warn_at else ""}


def fmt(secs: int) -> str:
    sign = "超时 " if secs < 0 else "剩余 "
    secs = abs(secs)
    d, rem = divmod(secs, 86400)
    h, rem = divmod(rem, 3600)
    m = rem // 60
    return sign + (f"{d}天" if d else "") + f"{h}小时{m}分"


@register.filter
def stage_label(stage):
    from ..workflow import STAGE_LABELS

    return STAGE_LABELS.get(stage, stage)
