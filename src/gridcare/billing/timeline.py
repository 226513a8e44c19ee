"""Bills and payments on the customer page (customers.timeline.register)."""
from django.utils import timezone

from gridcare.customers.timeline import register

from .models import Bill, Payment


@register
def bills_and_payments(customer, limit):
    out = []
    for b in Bill.objects.filter(customer=customer).order_by("-period", "-id")[:limit]:
        out.append({"at": b.issued_at, "kind": "电费", "title": f"{b.period:%Y年%m月}电费 {b.amount} 元（{b.get_status_display()}）",
                    "detail": f"电量 {b.kwh} kWh，缴费截止 {b.due_date}" + ("，估抄" if b.estimated else ""),
                    "url": f"/billing/bills/{b.bill_no}/"})
    for p in Payment.objects.filter(customer=customer).order_by("-paid_at")[:limit]:
        out.append({"at": p.paid_at, "kind": "缴费", "title": f"{p.get_channel_display()}缴费 {p.amount} 元",
                    "detail": f"流水号 {p.payment_no}" + (f"，转预存 {p.to_balance} 元" if p.to_balance else ""),
                    "url": ""})
    return out
