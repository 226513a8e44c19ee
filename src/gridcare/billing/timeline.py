"""Bills, payments and reminders sent on the customer page (customers.timeline.register)."""
from django.utils import timezone

from gridcare.customers.timeline import register

from .models import Bill, Payment, Reminder

CHANNEL_LABELS = {"sms": "短信", "wechat": "微信", "email": "电子邮件", "none": "无可用联系方式"}


@register
def bills_and_payments(customer, limit):
    out = []
    for b in Bill.objects.filter(customer=customer).order_by("-period", "-id")[:limit]:
        out.append({"at": b.issued_at, "kind": "电费", "title": f"{b.period:%Y年%m月}电费 {b.amount} 元（{b.get_status_display()}）",
                    "detail": f"电量 {b.kwh} kWh，缴费截止 {b.due_date}" + ("，估抄" if b.estimated else ""),
                    "url": f"/billing/bills/{b.bill_no}/"})
    for p in Payment.objects.filter(customer=customer).order_by("-paid_at")[:limit]:
        title = (f"预存余额抵扣电费 {p.amount} 元" if p.channel == "prepaid" else
                 f"{p.get_channel_display()}缴费 {p.amount} 元")
        out.append({"at": p.paid_at, "kind": "缴费", "title": title,
                    "detail": f"流水号 {p.payment_no}" + (f"，转预存 {p.to_balance} 元" if p.to_balance else ""),
                    "url": ""})
    for r in (Reminder.objects.filter(bill__customer=customer).select_related("bill")
              .order_by("-sent_at")[:limit]):
        out.append({"at": r.sent_at, "kind": "催费", "title": f"{r.kind_label}（{CHANNEL_LABELS.get(r.channel, r.channel)}）",
                    "detail": r.text, "url": f"/billing/bills/{r.bill.bill_no}/"})
    return out
