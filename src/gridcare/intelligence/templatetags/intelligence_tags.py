"""`{% load intelligence_tags %}` … `{% complaint_risk o %}`: a badge with the order's complaint-risk
score. The queue view should call `intelligence.services.annotate_risk(orders)` once for the whole list
(a fixed number of queries); an order without the annotation is scored on its own."""
from django import template
from django.utils.html import format_html

register = template.Library()

_STYLE = {"high": ("bg-danger", "投诉风险高"), "medium": ("bg-warning text-dark", "投诉风险中"),
          "low": ("bg-light text-muted border", "投诉风险低")}


@register.simple_tag
def complaint_risk(order):
    if not hasattr(order, "complaint_risk"):
        from gridcare.intelligence.services import annotate_risk

        annotate_risk([order])
    if order.complaint_risk is None:
        return ""
    css, label = _STYLE[order.complaint_risk_level]
    return format_html('<span class="badge {}" title="{}" data-risk="{}">{} {}</span>', css, label,
                       order.complaint_risk, label[-1:], f"{order.complaint_risk:.2f}")
