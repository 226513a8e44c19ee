"""Bills, payments and reminders sent on the customer page (customers.timeline.register), in the reader's
language (the reminder's text is the SMS as sent and stays as it is)."""
from django.utils.translation import gettext as _

from gridcare.customers.timeline import register

from . import labels
from .models import Bill, Payment, Reminder

CHANNEL_LABELS = labels.REMINDER_CHANNELS  # sms/wechat/email/none → 短信/微信/电子邮件/无可用联系方式


@register(link_capability="billing.view")
def bills_and_payments(customer, limit):
    out = []
    for b in Bill.objects.filter(customer=customer).order_by("-period", "-id")[:limit]:
        title = _("%(year)s年%(month)s月电费 %(amount)s 元（%(status)s）") % {
            "year": f"{b.period:%Y}", "month": f"{b.period:%m}", "amount": b.amount, "status": _(b.get_status_display())}
        detail = _("电量 %(kwh)s kWh，缴费截止 %(due)s") % {"kwh": b.kwh, "due": b.due_date}
        out.append({"at": b.issued_at, "kind": _("电费"), "title": title,
                    "detail": detail + (_("，估抄") if b.estimated else ""), "url": f"/billing/bills/{b.bill_no}/"})
    for p in Payment.objects.filter(customer=customer).order_by("-paid_at")[:limit]:
        title = (_("预存余额抵扣电费 %(amount)s 元") % {"amount": p.amount} if p.channel == "prepaid" else
                 _("%(channel)s缴费 %(amount)s 元") % {"channel": _(p.get_channel_display()), "amount": p.amount})
        detail = _("流水号 %(payment_no)s") % {"payment_no": p.payment_no}
        if p.to_balance:
            detail += _("，转预存 %(amount)s 元") % {"amount": p.to_balance}
        out.append({"at": p.paid_at, "kind": _("缴费"), "title": title, "detail": detail, "url": ""})
    for r in (Reminder.objects.filter(bill__customer=customer).select_related("bill")
              .order_by("-sent_at")[:limit]):
        title = _("%(kind)s（%(channel)s）") % {"kind": labels.reminder_kind(r.kind_label),
                                              "channel": labels.reminder_channel(r.channel)}
        out.append({"at": r.sent_at, "kind": _("催费"), "title": title, "detail": r.text,
                    "url": f"/billing/bills/{r.bill.bill_no}/"})
    return out
